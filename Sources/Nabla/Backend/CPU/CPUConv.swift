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
        let g = geometry.c
        switch x.dtype {
        case .float32:
            let xp = x.storage.pointer(Float.self) + x.offset, op = out.storage.pointer(Float.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: out.count) { n0, n1 in
                withUnsafePointer(to: g) { nabla_f32_im2col(xp, op, $0, Int64(n0), Int64(n1)) }
            }
        case .float64:
            let xp = x.storage.pointer(Double.self) + x.offset, op = out.storage.pointer(Double.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: out.count) { n0, n1 in
                withUnsafePointer(to: g) { nabla_f64_im2col(xp, op, $0, Int64(n0), Int64(n1)) }
            }
        default: nablaFail("im2col: expected a floating point tensor, got \(x.dtype)")
        }
    }

    /// Sums `cols` [C·kh·kw, N·oh·ow] (contiguous) back into `out` [N, C, H, W] (contiguous, overwritten).
    public func col2im(_ cols: Tensor, geometry: ConvGeometry, out: Tensor) {
        let g = geometry.c
        switch cols.dtype {
        case .float32:
            let cp = cols.storage.pointer(Float.self) + cols.offset, op = out.storage.pointer(Float.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: cols.count) { n0, n1 in
                withUnsafePointer(to: g) { nabla_f32_col2im(cp, op, $0, Int64(n0), Int64(n1)) }
            }
        case .float64:
            let cp = cols.storage.pointer(Double.self) + cols.offset, op = out.storage.pointer(Double.self) + out.offset
            forBatchChunks(batch: geometry.batch, work: cols.count) { n0, n1 in
                withUnsafePointer(to: g) { nabla_f64_col2im(cp, op, $0, Int64(n0), Int64(n1)) }
            }
        default: nablaFail("col2im: expected a floating point tensor, got \(cols.dtype)")
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
