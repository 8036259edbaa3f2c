import CNablaKernels

// Convolution (groups 1) over the batch in chunks of a few images, so that the column matrix [K, chunk·L], the GEMM
// result and the swapped gradient stay in cache and are reused from chunk to chunk, instead of one [K, N·L] matrix for
// the whole batch that is written to and read back from memory (and freshly faulted in) on every call.

/// The C kernels and BLAS product of one dtype, for the chunked convolution drivers.
private struct ChunkKernels<T: BLASScalar> {
    typealias Columns = (UnsafePointer<T>?, UnsafeMutablePointer<T>?, UnsafePointer<nabla_conv_geom>?, Int64, Int64) -> Void
    let im2col: Columns
    let col2im: Columns
    let swap01: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int64, Int64, Int64, Int64, Int64) -> Void

    /// `C = op(A) @ op(B) + beta·C` (row-major; arguments as `BLAS.gemm`, alpha 1).
    func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<T>, _ lda: Int,
              _ b: UnsafePointer<T>, _ ldb: Int, _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

private var chunkKernelsF32: ChunkKernels<Float> {
    ChunkKernels(im2col: nabla_f32_im2col, col2im: nabla_f32_col2im, swap01: nabla_f32_swap01)
}
private var chunkKernelsF64: ChunkKernels<Double> {
    ChunkKernels(im2col: nabla_f64_im2col, col2im: nabla_f64_col2im, swap01: nabla_f64_swap01)
}

/// Target number of column-matrix elements per chunk (a few MiB: in cache, yet wide enough for an efficient GEMM).
private let chunkColumnElements = 1 << 20

extension CPUBackend {
    /// Images per chunk for columns of `k` rows and `l` output positions per image.
    private static func chunkImages(k: Int, l: Int, batch: Int) -> Int {
        max(1, min(batch, chunkColumnElements / max(1, k * l)))
    }

    /// `out` [N, OC, oh, ow] = conv(`x` [N, C, H, W], `weight` [OC, K]) + `bias` (contiguous, groups 1): per chunk of
    /// images, im2col, one GEMM into a [OC, chunk·L] buffer, then the swap into NCHW with the bias added.
    public func convChunked(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor) {
        switch x.dtype {
        case .float32: chunkedForward(chunkKernelsF32, x, weight, bias, geometry, out)
        case .float64: chunkedForward(chunkKernelsF64, x, weight, bias, geometry, out)
        default: nablaFail("convChunked: expected a floating point tensor, got \(x.dtype)")
        }
    }

    /// Gradients of `convChunked` from `grad` [N, OC, oh, ow]: the input's [N, C, H, W], the weight's [OC, K] and the
    /// bias's [OC], each only when asked for (nil otherwise). All tensors contiguous.
    public func convChunkedBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry,
                                    input needX: Bool, weight needW: Bool, bias needB: Bool) -> (Tensor?, Tensor?, Tensor?) {
        let oc = weight.shape[0], k = geometry.columnsShape[0]
        let gx = needX ? Tensor(empty: geometry.imageShape, dtype: x.dtype, device: .cpu) : nil
        let gw = needW ? Tensor.zeros([oc, k], dtype: x.dtype, device: .cpu) : nil
        let gb = needB ? Tensor.zeros([oc], dtype: x.dtype, device: .cpu) : nil
        switch x.dtype {
        case .float32: chunkedBackward(chunkKernelsF32, x, weight, grad, geometry, gx, gw, gb)
        case .float64: chunkedBackward(chunkKernelsF64, x, weight, grad, geometry, gx, gw, gb)
        default: nablaFail("convChunkedBackward: expected a floating point tensor, got \(x.dtype)")
        }
        return (gx, gw, gb)
    }

    private func chunkedForward<T: BLASScalar>(_ kern: ChunkKernels<T>, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?,
                                   _ g: ConvGeometry, _ out: Tensor) {
        let oc = weight.shape[0], k = g.columnsShape[0], l = g.outH * g.outW, img = g.channels * g.height * g.width
        let chunk = Self.chunkImages(k: k, l: l, batch: g.batch)
        let xp = UnsafePointer(x.storage.pointer(T.self) + x.offset), wp = UnsafePointer(weight.storage.pointer(T.self) + weight.offset)
        let bp = bias.map { UnsafePointer($0.storage.pointer(T.self) + $0.offset) }
        let op = out.storage.pointer(T.self) + out.offset
        let columns = ScratchBuffer<T>(count: k * chunk * l), product = ScratchBuffer<T>(count: oc * chunk * l)
        let cols = columns.pointer, y = product.pointer
        defer { columns.release(); product.release() }
        for c0 in stride(from: 0, to: g.batch, by: chunk) {
            let cn = min(chunk, g.batch - c0), cl = cn * l
            var gc = g
            gc.batch = cn
            let geom = gc.c
            forBatchChunks(batch: cn, work: k * cl) { n0, n1 in
                withUnsafePointer(to: geom) { kern.im2col(xp + c0 * img, cols, $0, Int64(n0), Int64(n1)) }
            }
            kern.gemm(false, false, oc, cl, k, wp, k, cols, cl, 0, y, cl)                 // [OC, cn·L]
            forBatchChunks(batch: cn, work: oc * cl) { b0, b1 in                            // → [cn, OC, L] + bias
                kern.swap01(y, bp, op + c0 * oc * l, Int64(oc), Int64(cn), Int64(l), Int64(b0), Int64(b1))
            }
        }
    }

    private func chunkedBackward<T: BLASScalar>(_ kern: ChunkKernels<T>, _ x: Tensor, _ weight: Tensor, _ grad: Tensor,
                                                         _ g: ConvGeometry, _ gx: Tensor?, _ gw: Tensor?, _ gb: Tensor?) {
        let oc = weight.shape[0], k = g.columnsShape[0], l = g.outH * g.outW, img = g.channels * g.height * g.width
        let chunk = Self.chunkImages(k: k, l: l, batch: g.batch)
        let xp = UnsafePointer(x.storage.pointer(T.self) + x.offset), wp = UnsafePointer(weight.storage.pointer(T.self) + weight.offset)
        let gp = UnsafePointer(grad.storage.pointer(T.self) + grad.offset)
        let gyTBuffer = ScratchBuffer<T>(count: oc * chunk * l)
        let columns = ScratchBuffer<T>(count: k * chunk * l)                           // columns, then their gradient
        let onesBuffer = ScratchBuffer<T>(count: gb == nil ? 1 : chunk * l)
        let gyT = gyTBuffer.pointer, cols = columns.pointer, ones = onesBuffer.pointer
        if gb != nil { ones.initialize(repeating: 1, count: chunk * l) }
        defer { gyTBuffer.release(); columns.release(); onesBuffer.release() }
        for c0 in stride(from: 0, to: g.batch, by: chunk) {
            let cn = min(chunk, g.batch - c0), cl = cn * l
            var gc = g
            gc.batch = cn
            let geom = gc.c
            forBatchChunks(batch: oc, work: oc * cl) { b0, b1 in                           // [cn, OC, L] → [OC, cn·L]
                kern.swap01(gp + c0 * oc * l, nil, gyT, Int64(cn), Int64(oc), Int64(l), Int64(b0), Int64(b1))
            }
            if let gb { kern.gemm(false, false, oc, 1, cl, gyT, cl, ones, 1, 1, gb.storage.pointer(T.self), 1) }
            if let gw {
                forBatchChunks(batch: cn, work: k * cl) { n0, n1 in
                    withUnsafePointer(to: geom) { kern.im2col(xp + c0 * img, cols, $0, Int64(n0), Int64(n1)) }
                }
                kern.gemm(false, true, oc, k, cl, gyT, cl, cols, cl, 1, gw.storage.pointer(T.self), k)
            }
            if let gx {
                kern.gemm(true, false, k, cl, oc, wp, k, gyT, cl, 0, cols, cl)              // [K, cn·L]
                let gxp = gx.storage.pointer(T.self) + c0 * img
                forBatchChunks(batch: cn, work: k * cl) { n0, n1 in
                    withUnsafePointer(to: geom) { kern.col2im(cols, gxp, $0, Int64(n0), Int64(n1)) }
                }
            }
        }
    }
}
