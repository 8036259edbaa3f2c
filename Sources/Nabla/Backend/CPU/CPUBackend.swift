#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU backend: host memory, SIMD kernels (C with AVX2/FMA dispatch, Swift generic loops)
/// and OpenBLAS for matrix products. Kernels above ~32K elements run on the kernel threads.
final class CPUBackend: HostMemoryBackend, @unchecked Sendable {
    /// The one CPU backend.
    static let shared = CPUBackend()
    /// `.cpu`.
    var device: Device { .cpu }
    /// Host memory: small buffers live inside their storage objects.
    var allocatesSmallBuffersInline: Bool { true }
    /// Calls of each fused op.
    let counter = FusedOpCounter()

    private init() {
        BLAS.setThreads(Parallel.threads)
    }

    /// Allocates 64-byte aligned host memory.
    public func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        // Small buffers come straight from malloc (16-byte aligned); large ones are cache-line aligned.
        UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: byteCount <= 4096 ? 16 : 64)
    }

    // MARK: copy / fill

    /// Strided copy with dtype conversion.
    public func copy(_ src: Tensor, into dst: Tensor) {
        if src.dtype == dst.dtype && src.isContiguous && dst.isContiguous && src.shape == dst.shape {
            let bytes = src.count * src.dtype.itemSize
            (dst.storage.data + dst.offset * dst.dtype.itemSize)
                .copyMemory(from: src.storage.data + src.offset * src.dtype.itemSize, byteCount: bytes)
            return
        }
        if src.dtype == dst.dtype && dst.isContiguous && src.rank >= 2 && src.strides[0] == 0 && src.shape == dst.shape
            && src.aliased(ViewGeometry(shape: Array(src.shape.dropFirst()), strides: Array(src.strides.dropFirst()),
                                        offset: src.offset)).isContiguous {
            // One row broadcast down the leading dim (a bias written into every row of an output): one memcpy per row.
            let rowBytes = (src.count / max(src.shape[0], 1)) * src.dtype.itemSize
            let from = src.storage.data + src.offset * src.dtype.itemSize, to = dst.storage.data + dst.offset * dst.dtype.itemSize
            for r in 0..<src.shape[0] { (to + r * rowBytes).copyMemory(from: from, byteCount: rowBytes) }
            return
        }
        switch (src.dtype, dst.dtype) {
        case (.float32, .float32): copyLoop(src, dst, Float.self, Float.self) { $0 }
        case (.float64, .float64): copyLoop(src, dst, Double.self, Double.self) { $0 }
        case (.int64, .int64): copyLoop(src, dst, Int64.self, Int64.self) { $0 }
        case (.int32, .int32): copyLoop(src, dst, Int32.self, Int32.self) { $0 }
        case (.bool, .bool): copyLoop(src, dst, Bool.self, Bool.self) { $0 }
        case (.float32, .float64): copyLoop(src, dst, Float.self, Double.self) { Double($0) }
        case (.float64, .float32): copyLoop(src, dst, Double.self, Float.self) { Float($0) }
        case (.int64, .float32): copyLoop(src, dst, Int64.self, Float.self) { Float($0) }
        case (.int64, .float64): copyLoop(src, dst, Int64.self, Double.self) { Double($0) }
        case (.int32, .int64): copyLoop(src, dst, Int32.self, Int64.self) { Int64($0) }
        case (.int64, .int32): copyLoop(src, dst, Int64.self, Int32.self) { Int32(truncatingIfNeeded: $0) }
        default: genericCopy(src, dst)
        }
    }

    private func genericCopy(_ src: Tensor, _ dst: Tensor) {
        switch src.dtype {
        case .float32: genericCopy(src, dst, Float.self)
        case .float64: genericCopy(src, dst, Double.self)
        case .int32: genericCopy(src, dst, Int32.self)
        case .int64: genericCopy(src, dst, Int64.self)
        case .bool: genericCopy(src, dst, Bool.self)
        }
    }

    private func genericCopy<S: TensorScalar>(_ src: Tensor, _ dst: Tensor, _: S.Type) {
        switch dst.dtype {
        case .float32: copyLoop(src, dst, S.self, Float.self) { Float(fromDouble: $0.doubleValue) }
        case .float64: copyLoop(src, dst, S.self, Double.self) { Double(fromDouble: $0.doubleValue) }
        case .int32: copyLoop(src, dst, S.self, Int32.self) { Int32(fromDouble: $0.doubleValue) }
        case .int64: copyLoop(src, dst, S.self, Int64.self) { Int64(fromDouble: $0.doubleValue) }
        case .bool: copyLoop(src, dst, S.self, Bool.self) { $0.doubleValue != 0 }
        }
    }

    @inline(__always)
    func copyLoop<S, D>(_ src: Tensor, _ dst: Tensor, _: S.Type, _: D.Type, _ f: (S) -> D) {
        let s = src.storage.pointer(S.self), d = dst.storage.pointer(D.self)
        let loop = StridedLoop(shape: dst.shape, strides: [dst.strides, Shape.broadcastStrides(src.shape, src.strides, to: dst.shape)],
                               offsets: [dst.offset, src.offset])
        loop.run { off, inc, n in
            var o = off[0], i = off[1]
            let io = inc[0], ii = inc[1]
            // Unit-stride runs (a permuted copy whose last dim stays in place) in a loop the compiler vectorises.
            if io == 1 && ii == 1 { for k in 0..<n { d[o + k] = f(s[i + k]) }; return }
            for _ in 0..<n { d[o] = f(s[i]); o += io; i += ii }
        }
    }

    /// Fills every element of `dst` with `value`.
    public func fill(_ dst: Tensor, value: Double) {
        switch dst.dtype {
        case .float32: fillLoop(dst, Float(value))
        case .float64: fillLoop(dst, value)
        case .int32: fillLoop(dst, Int32(fromDouble: value))
        case .int64: fillLoop(dst, Int64(fromDouble: value))
        case .bool: fillLoop(dst, value != 0)
        }
    }

    private func fillLoop<T>(_ dst: Tensor, _ v: T) {
        let d = dst.storage.pointer(T.self)
        if dst.isContiguous {
            (d + dst.offset).update(repeating: v, count: dst.count)
            return
        }
        StridedLoop(shape: dst.shape, strides: [dst.strides], offsets: [dst.offset]).run { off, inc, n in
            var o = off[0]
            for _ in 0..<n { d[o] = v; o += inc[0] }
        }
    }
}
