/// A flat device buffer shared by a tensor and all its views, like `torch.UntypedStorage`.
///
/// The version counter is bumped by every in-place op on any view of the storage; autograd
/// compares it with the version it saw when it saved a tensor for backward.
public final class Storage: @unchecked Sendable {
    /// Start of the buffer (host or device address).
    public let data: UnsafeMutableRawPointer
    /// Size of the buffer in bytes.
    public let byteCount: Int
    /// Element type of the buffer.
    public let dtype: DType
    /// The backend that allocated the buffer and frees it.
    public let backend: any Backend
    /// Incremented by every in-place modification.
    public internal(set) var version: Int = 0
    /// Whether the buffer belongs to someone else (not freed here).
    let borrowed: Bool

    /// Allocates `count` elements of `dtype` on `backend` (contents undefined).
    public init(count: Int, dtype: DType, backend: any Backend) {
        let bytes = max(count, 1) * dtype.itemSize
        self.byteCount = bytes
        self.dtype = dtype
        self.backend = backend
        self.data = backend.allocate(byteCount: bytes)
        self.borrowed = false
    }

    /// Wraps memory owned elsewhere, which must outlive the storage.
    public init(borrowing data: UnsafeMutableRawPointer, byteCount: Int, dtype: DType, backend: any Backend) {
        self.data = data
        self.byteCount = byteCount
        self.dtype = dtype
        self.backend = backend
        self.borrowed = true
    }

    deinit { if !borrowed { backend.deallocate(data, byteCount: byteCount) } }

    /// The device of the buffer.
    public var device: Device { backend.device }

    /// The buffer typed as `T` (host memory only).
    @inline(__always) func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        data.assumingMemoryBound(to: T.self)
    }

    /// Marks the buffer as modified in place.
    @inline(__always) func bumpVersion() { version &+= 1 }
}
