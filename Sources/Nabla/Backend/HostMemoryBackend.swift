/// A backend whose buffers are ordinary host memory (the CPU, the reference backend): uploads and downloads are
/// memory copies, and freeing is `deallocate`.
protocol HostMemoryBackend: Backend {}

extension HostMemoryBackend {
    /// Frees host memory.
    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) { pointer.deallocate() }

    /// Copies host bytes into the buffer at `byteOffset`.
    public func upload(_ bytes: UnsafeRawBufferPointer, to storage: Storage, byteOffset: Int) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        (storage.data + byteOffset).copyMemory(from: base, byteCount: bytes.count)
    }

    /// Copies bytes out of the buffer at `byteOffset`.
    public func download(_ storage: Storage, byteOffset: Int, into bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        base.copyMemory(from: storage.data + byteOffset, byteCount: bytes.count)
    }
}
