import CNablaKernels

// Max pooling on the CPU: C kernels over planes, split across the kernel threads.
extension CPUBackend {
    /// Max over the windows of each plane of `x` [..., H, W] (contiguous) into `out` and int64 `indices` [..., oh, ow].
    public func maxPool2d(_ x: Tensor, windows w: PoolWindows, out: Tensor, indices: Tensor) {
        let hw = w.height * w.width, planes = hw == 0 ? 0 : x.count / hw
        let ip = indices.storage.pointer(Int64.self) + indices.offset
        let H = Int64(w.height), W = Int64(w.width), OH = Int64(w.outH), OW = Int64(w.outW)
        let h0 = w.rowStart.map(Int64.init), hn = w.rowCount.map(Int64.init)
        let w0 = w.colStart.map(Int64.init), wn = w.colCount.map(Int64.init)
        let dh = Int64(w.rowDilation), dw = Int64(w.colDilation)
        let tiled = w.tiledKernel
        let chunks = Parallel.chunks(work: x.count, items: planes)
        switch x.dtype {
        case .float32:
            let xp = x.storage.pointer(Float.self) + x.offset, op = out.storage.pointer(Float.self) + out.offset
            Parallel.forEach(chunks) { c in
                let p0 = Int64(planes * c / chunks), p1 = Int64(planes * (c + 1) / chunks)
                if tiled == 2 {
                    nabla_f32_maxpool2x2(xp, op, ip, p0, p1, H, W, OH, OW)
                } else if let k = tiled {
                    nabla_f32_maxpool2d_k(xp, op, ip, p0, p1, H, W, OH, OW, Int64(k))
                } else {
                    nabla_f32_maxpool2d(xp, op, ip, p0, p1, H, W, OH, OW, h0, hn, dh, w0, wn, dw)
                }
            }
        case .float64:
            let xp = x.storage.pointer(Double.self) + x.offset, op = out.storage.pointer(Double.self) + out.offset
            Parallel.forEach(chunks) { c in
                let p0 = Int64(planes * c / chunks), p1 = Int64(planes * (c + 1) / chunks)
                nabla_f64_maxpool2d(xp, op, ip, p0, p1, H, W, OH, OW, h0, hn, dh, w0, wn, dw)
            }
        default: nablaFail("maxPool2d: expected a floating point tensor, got \(x.dtype)")
        }
    }

    /// `out` [..., H, W] = 0, then `out[p, indices[p, i]] += grad[p, i]` (all contiguous).
    public func maxPool2dBackward(_ grad: Tensor, indices: Tensor, out: Tensor) {
        let planes = grad.rank >= 2 ? grad.shape.dropLast(2).reduce(1, *) : 1
        guard planes > 0 else { return }
        let hw = out.count / planes, l = grad.count / planes
        let ip = indices.storage.pointer(Int64.self) + indices.offset
        let chunks = Parallel.chunks(work: out.count, items: planes)
        switch grad.dtype {
        case .float32:
            let gp = grad.storage.pointer(Float.self) + grad.offset, op = out.storage.pointer(Float.self) + out.offset
            Parallel.forEach(chunks) { c in
                nabla_f32_maxpool_backward(gp, ip, op, Int64(planes * c / chunks), Int64(planes * (c + 1) / chunks), Int64(hw), Int64(l))
            }
        case .float64:
            let gp = grad.storage.pointer(Double.self) + grad.offset, op = out.storage.pointer(Double.self) + out.offset
            Parallel.forEach(chunks) { c in
                nabla_f64_maxpool_backward(gp, ip, op, Int64(planes * c / chunks), Int64(planes * (c + 1) / chunks), Int64(hw), Int64(l))
            }
        default: nablaFail("maxPool2dBackward: expected a floating point tensor, got \(grad.dtype)")
        }
    }
}
