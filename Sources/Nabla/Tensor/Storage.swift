#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fields of a `Storage`, kept in the object's header.
public struct StorageHeader {
    /// Start of the buffer (host or device address).
    public let data: UnsafeMutableRawPointer
    /// Size of the buffer in bytes.
    public let byteCount: Int
    /// Element type of the buffer.
    public let dtype: DType
    /// The backend that allocated the buffer and frees it.
    public let backend: any Backend
    /// Incremented by every in-place modification.
    var version: Int
    /// Who frees the buffer.
    let ownership: Storage.Ownership
}

/// A flat device buffer shared by a tensor and all its views, like `torch.UntypedStorage`.
///
/// The version counter is bumped by every in-place op on any view of the storage; autograd
/// compares it with the version it saw when it saved a tensor for backward.
///
/// Small host buffers live inside the storage object itself (one allocation instead of two, which is
/// most of the cost of an op on a scalar); large ones come from the backend, cache-line aligned.
public final class Storage: ManagedBuffer<StorageHeader, Double> {
    /// Who frees the buffer.
    enum Ownership { case inline, backend, cached, borrowed }

    /// Host buffers up to this many bytes are allocated inside the storage object (8-byte aligned: the kernels
    /// use unaligned vector loads, and a 16-byte alignment would send every allocation through posix_memalign).
    static let inlineBytes = 256

    /// Allocates `count` elements of `dtype` on `backend` (contents undefined).
    public static func allocate(count: Int, dtype: DType, backend: any Backend) -> Storage {
        if let t = AutogradState.flags.pointee.tracer {
            // While tracing, `x.backend` is a recorder; the storage belongs to the backend behind it.
            let s = make(count: count, dtype: dtype, backend: Tracer.realBackend(backend))
            Tracer.noteAllocation(t, s)
            return s
        }
        return make(count: count, dtype: dtype, backend: backend)
    }

    private static func make(count: Int, dtype: DType, backend: any Backend) -> Storage {
        let bytes = Swift.max(count, 1) * dtype.itemSize
        if bytes <= inlineBytes && backend.allocatesSmallBuffersInline {
            // The header is written once, with the address of the elements (they do not move; reading their
            // address does not touch the header, which the factory is initialising).
            return unsafeDowncast(create(minimumCapacity: (bytes + 7) / 8) { buffer in
                StorageHeader(data: buffer.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }, byteCount: bytes,
                              dtype: dtype, backend: backend, version: 0, ownership: .inline)
            }, to: Storage.self)
        }
        // Host buffers come from the cache of freed buffers while it is on (`HostMemoryCache`, on by default).
        let fromCache = backend.allocatesSmallBuffersInline ? HostMemoryCache.allocate(byteCount: bytes) : nil
        let cached = fromCache != nil
        let p = fromCache ?? backend.allocate(byteCount: bytes)
        MemoryStats.allocated(bytes)
        return unsafeDowncast(create(minimumCapacity: 0) { _ in
            StorageHeader(data: p, byteCount: bytes, dtype: dtype, backend: backend, version: 0,
                          ownership: cached ? .cached : .backend)
        }, to: Storage.self)
    }

    /// Wraps memory owned elsewhere, which must outlive the storage.
    public static func borrowing(_ data: UnsafeMutableRawPointer, byteCount: Int, dtype: DType, backend: any Backend) -> Storage {
        unsafeDowncast(create(minimumCapacity: 0) { _ in
            StorageHeader(data: data, byteCount: byteCount, dtype: dtype, backend: backend, version: 0, ownership: .borrowed)
        }, to: Storage.self)
    }

    deinit {
        switch fields.pointee.ownership {
        case .backend: backend.deallocate(data, byteCount: byteCount); MemoryStats.freed(byteCount)
        case .cached: HostMemoryCache.release(data, byteCount: byteCount); MemoryStats.freed(byteCount)
        case .inline, .borrowed: break
        }
    }

    /// The header, read and written through its address (no exclusivity bookkeeping on the op path).
    @inline(__always) var fields: UnsafeMutablePointer<StorageHeader> { withUnsafeMutablePointerToHeader { $0 } }

    /// Start of the buffer (host or device address).
    @inline(__always) public var data: UnsafeMutableRawPointer { fields.pointee.data }
    /// Size of the buffer in bytes.
    @inline(__always) public var byteCount: Int { fields.pointee.byteCount }
    /// Element type of the buffer.
    @inline(__always) public var dtype: DType { fields.pointee.dtype }
    /// The backend that allocated the buffer and frees it.
    @inline(__always) public var backend: any Backend { fields.pointee.backend }
    /// Incremented by every in-place modification.
    @inline(__always) public internal(set) var version: Int {
        get { fields.pointee.version }
        set { fields.pointee.version = newValue }
    }

    /// The device of the buffer.
    public var device: Device { backend.device }

    /// The buffer typed as `T` (host memory only).
    @inline(__always) func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        fields.pointee.data.assumingMemoryBound(to: T.self)
    }

    /// Marks the buffer as modified in place.
    @inline(__always) func bumpVersion() { fields.pointee.version &+= 1 }
}
