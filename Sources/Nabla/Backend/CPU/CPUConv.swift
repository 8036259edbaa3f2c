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
        switch src.dtype {
        case .float32:
            let sp = src.storage.pointer(Float.self) + src.offset, op = out.storage.pointer(Float.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: work) { n0, n1 in
                withUnsafePointer(to: g) { f32(sp, op, $0, Int64(n0), Int64(n1)) }
            }
        case .float64:
            let sp = src.storage.pointer(Double.self) + src.offset, op = out.storage.pointer(Double.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: work) { n0, n1 in
                withUnsafePointer(to: g) { f64(sp, op, $0, Int64(n0), Int64(n1)) }
            }
        default: nablaFail("\(name): expected a floating point tensor, got \(src.dtype)")
        }
    }

    /// `out` [B, A, L] = `x` [A, B, L] with dims 0 and 1 swapped, plus `bias[a]` when given (all contiguous).
    public func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor) {
        let a = x.shape[0], b = x.shape[1], l = x.shape[2]
        switch x.dtype {
        case .float32:
            let xp = x.storage.pointer(Float.self) + x.offset, op = out.storage.pointer(Float.self) + out.offset
            let bp = bias.map { UnsafePointer($0.storage.pointer(Float.self) + $0.offset) }
            forBatchChunks(batch: b, work: out.count) { b0, b1 in
                nabla_f32_swap01(xp, bp, op, Int64(a), Int64(b), Int64(l), Int64(b0), Int64(b1))
            }
        case .float64:
            let xp = x.storage.pointer(Double.self) + x.offset, op = out.storage.pointer(Double.self) + out.offset
            let bp = bias.map { UnsafePointer($0.storage.pointer(Double.self) + $0.offset) }
            forBatchChunks(batch: b, work: out.count) { b0, b1 in
                nabla_f64_swap01(xp, bp, op, Int64(a), Int64(b), Int64(l), Int64(b0), Int64(b1))
            }
        default: nablaFail("swapLeadingDims: expected a floating point tensor, got \(x.dtype)")
        }
    }
}
