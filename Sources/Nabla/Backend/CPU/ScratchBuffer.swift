/// Temporary working memory for CPU kernels (im2col columns, Winograd tiles, per-thread partial sums), taken from
/// and given back to `HostMemoryCache` when it is large enough to be cached, so a kernel that runs at every step or
/// batch reuses the same buffer instead of having the C allocator map and unmap (or fragment its heap with) a
/// block of megabytes each time. Smaller buffers come from the C allocator as before.
///
/// ```swift
/// let cols = ScratchBuffer<Float>(count: k * n)
/// defer { cols.release() }
/// im2col(x, into: cols.pointer)
/// ```
struct ScratchBuffer<T> {
    /// The buffer's first element; `count` elements, uninitialised.
    let pointer: UnsafeMutablePointer<T>
    private let byteCount: Int
    private let cached: Bool

    /// A buffer of at least `count` elements (at least one), 64-byte aligned when it comes from the cache.
    init(count: Int) {
        let bytes = Swift.max(count, 1) * MemoryLayout<T>.stride
        if let raw = HostMemoryCache.allocate(byteCount: bytes) {
            pointer = raw.bindMemory(to: T.self, capacity: Swift.max(count, 1))
            cached = true
        } else {
            pointer = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(count, 1))
            cached = false
        }
        byteCount = bytes
    }

    /// Gives the buffer back (to the cache, or to the C allocator); the pointer must not be used afterwards.
    func release() {
        if cached { HostMemoryCache.release(UnsafeMutableRawPointer(pointer), byteCount: byteCount) } else { pointer.deallocate() }
    }
}
