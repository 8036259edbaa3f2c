import CNablaKernels

// im2col / col2im on the CPU: C kernels (AVX2 clones for float32), split over the batch on the kernel threads.
extension CPUBackend {
    /// Splits `batch` samples into chunks and runs `body(n0, n1)` for each, on the kernel threads when the work is large.
    func forBatchChunks(batch: Int, work: Int, _ body: (Int, Int) -> Void) {
        let chunks = Parallel.chunks(work: work, items: batch)
        Parallel.forEach(chunks) { c in
            let n0 = batch * c / chunks, n1 = batch * (c + 1) / chunks
            if n0 < n1 { body(n0, n1) }
        }
    }

    /// Unfolds `x` [N, C, H, W] (contiguous) into `out` [C·kh·kw, N·oh·ow] (contiguous).
    public func im2col(_ x: Tensor, geometry: ConvGeometry, out: Tensor) {
        columnKernel("im2col", x, geometry: geometry, out: out, work: out.count, f32: nabla_f32_im2col, f64: nabla_f64_im2col)
    }

    /// Sums `cols` [C·kh·kw, N·oh·ow] (contiguous) back into `out` [N, C, H, W] (contiguous, overwritten).
    public func col2im(_ cols: Tensor, geometry: ConvGeometry, out: Tensor) {
        columnKernel("col2im", cols, geometry: geometry, out: out, work: cols.count, f32: nabla_f32_col2im, f64: nabla_f64_col2im)
    }

    /// Runs the C kernel `f32` or `f64` (by dtype) from `src` into `out`, split over the batch of `geometry` (`work` elements).
    private func columnKernel(
        _ name: String, _ src: Tensor, geometry: ConvGeometry, out: Tensor, work: Int,
        f32: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafePointer<nabla_conv_geom>?, Int64, Int64) -> Void,
        f64: (UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafePointer<nabla_conv_geom>?, Int64, Int64) -> Void
    ) {
        let g = geometry.c
        func run<T>(_: T.Type, _ kernel: (UnsafePointer<T>?, UnsafeMutablePointer<T>?, UnsafePointer<nabla_conv_geom>?, Int64, Int64) -> Void) {
            let sp = src.storage.pointer(T.self) + src.offset, op = out.storage.pointer(T.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: work) { n0, n1 in
                withUnsafePointer(to: g) { kernel(sp, op, $0, Int64(n0), Int64(n1)) }
            }
        }
        switch src.dtype {
        case .float32: run(Float.self, f32)
        case .float64: run(Double.self, f64)
        default: nablaFail("\(name): expected a floating point tensor, got \(src.dtype)")
        }
    }

    /// `out` [B, A, L] = `x` [A, B, L] with dims 0 and 1 swapped, plus `bias[a]` when given (all contiguous).
    public func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor) {
        let a = x.shape[0], b = x.shape[1], l = x.shape[2]
        func run<T>(_: T.Type, _ kernel: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?,
                                          Int64, Int64, Int64, Int64, Int64) -> Void) {
            let xp = x.storage.pointer(T.self) + x.offset, op = out.storage.pointer(T.self) + out.offset
            let bp = bias.map { UnsafePointer($0.storage.pointer(T.self) + $0.offset) }
            forBatchChunks(batch: b, work: out.count) { b0, b1 in
                kernel(xp, bp, op, Int64(a), Int64(b), Int64(l), Int64(b0), Int64(b1))
            }
        }
        switch x.dtype {
        case .float32: run(Float.self, nabla_f32_swap01)
        case .float64: run(Double.self, nabla_f64_swap01)
        default: nablaFail("swapLeadingDims: expected a floating point tensor, got \(x.dtype)")
        }
    }
}

// Direct small-K convolution (conv_small.c): the NCHW output and the weight/bias gradients computed image by image
// from columns unfolded into a per-thread scratch buffer, with no [K, N·L] column matrix and no layout swap.
extension CPUBackend {
    /// `out` [N, OC, oh, ow] = conv(`x` [N, C, H, W], `weight` [OC, K]) + `bias` [OC] (all contiguous, groups 1).
    public func convSmallK(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor) {
        let oc = weight.shape[0], scratch = geometry.columnsShape[0] * geometry.outH * geometry.outW
        let g = geometry.c
        func run<T>(_: T.Type, _ kernel: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?,
                                          UnsafePointer<nabla_conv_geom>?, Int64, Int64, Int64, UnsafeMutablePointer<T>?) -> Void) {
            let xp = x.storage.pointer(T.self) + x.offset, wp = weight.storage.pointer(T.self) + weight.offset
            let bp = bias.map { UnsafePointer($0.storage.pointer(T.self) + $0.offset) }
            let op = out.storage.pointer(T.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: out.count) { n0, n1 in
                let columns = ScratchBuffer<T>(count: scratch), cols = columns.pointer
                defer { columns.release() }
                withUnsafePointer(to: g) { kernel(xp, wp, bp, op, $0, Int64(oc), Int64(n0), Int64(n1), cols) }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self, nabla_f32_conv_smallk)
        case .float64: run(Double.self, nabla_f64_conv_smallk)
        default: nablaFail("convSmallK: expected a floating point tensor, got \(x.dtype)")
        }
    }

    /// The weight gradient [OC, K] and bias gradient [OC] of `convSmallK` from `x` and the output gradient `grad`
    /// [N, OC, oh, ow] (both contiguous): per-thread partial sums over the batch, added up at the end.
    public func convSmallKWeightGrad(_ x: Tensor, grad: Tensor, geometry: ConvGeometry, outChannels oc: Int) -> (Tensor, Tensor) {
        let k = geometry.columnsShape[0], scratch = k * geometry.outH * geometry.outW
        let chunks = Parallel.chunks(work: grad.count, items: geometry.batch)
        let width = oc * (k + 1), batch = geometry.batch
        let gw = Tensor(empty: [oc, k], dtype: x.dtype, device: .cpu), gb = Tensor(empty: [oc], dtype: x.dtype, device: .cpu)
        let g = geometry.c
        func run<T: BinaryFloatingPoint>(_: T.Type, _ kernel: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?,
                                                               UnsafeMutablePointer<T>?, UnsafePointer<nabla_conv_geom>?,
                                                               Int64, Int64, Int64, UnsafeMutablePointer<T>?) -> Void) {
            let xp = x.storage.pointer(T.self) + x.offset, gp = grad.storage.pointer(T.self) + grad.offset
            let sums: [T] = Parallel.sumOfPartials(items: batch, chunks: chunks, width: width, scratch: scratch) { r, p, cols in
                withUnsafePointer(to: g) { kernel(xp, gp, p, p + oc * k, $0, Int64(oc), Int64(r.lowerBound), Int64(r.upperBound), cols) }
            }
            let wp = gw.storage.pointer(T.self), bp = gb.storage.pointer(T.self)
            for i in 0..<oc * k { wp[i] = sums[i] }
            for i in 0..<oc { bp[i] = sums[oc * k + i] }
        }
        switch x.dtype {
        case .float32: run(Float.self, nabla_f32_conv_smallk_wgrad)
        case .float64: run(Double.self, nabla_f64_conv_smallk_wgrad)
        default: nablaFail("convSmallKWeightGrad: expected a floating point tensor, got \(x.dtype)")
        }
        return (gw, gb)
    }
}
