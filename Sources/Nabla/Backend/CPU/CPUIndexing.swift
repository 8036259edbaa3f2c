extension CPUBackend {
    /// `torch.gather`: `out[i][j][k] = x[i][index[i][j][k]][k]` for `dim == 1`, and so on.
    public func gather(_ x: Tensor, dim: Int, index: Tensor, out: Tensor) {
        switch x.dtype {
        case .float32: gatherLoop(x, dim, index, out, Float.self)
        case .float64: gatherLoop(x, dim, index, out, Double.self)
        case .int32: gatherLoop(x, dim, index, out, Int32.self)
        case .int64: gatherLoop(x, dim, index, out, Int64.self)
        case .bool: gatherLoop(x, dim, index, out, Bool.self)
        }
    }

    private func gatherLoop<T>(_ x: Tensor, _ dim: Int, _ index: Tensor, _ out: Tensor, _: T.Type) {
        let xp = x.storage.pointer(T.self), op = out.storage.pointer(T.self), ip = index.storage.pointer(Int64.self)
        let size = x.shape[dim], xs = x.strides[dim]
        if dim == 0 && x.rank >= 2 && x.isContiguous && out.isContiguous && index.shape.dropFirst() == x.shape.dropFirst()
            && index.strides.dropFirst().allSatisfy({ $0 == 0 }) {
            // Whole rows of a contiguous tensor (indexSelect on dim 0, a minibatch gathered from a dataset): one copy per row.
            let row = xs, rows = index.shape[0], ist = index.strides[0]
            for r in 0..<rows {
                let j = Int(ip[index.offset + r * ist])
                check(j >= -size && j < size, "gather: index \(j) is out of bounds for dimension 0 with size \(size)")
                (op + out.offset + r * row).update(from: xp + x.offset + (j < 0 ? j + size : j) * row, count: row)
            }
            return
        }
        var xStrides = x.strides
        xStrides[dim] = 0
        let loop = StridedLoop(shape: index.shape, strides: [out.strides, index.strides, xStrides],
                               offsets: [out.offset, index.offset, x.offset])
        loop.forRows(0..<loop.rows) { off, inc, n in
            var o = off[0], i = off[1], b = off[2]
            for _ in 0..<n {
                let j = Int(ip[i])
                check(j >= -size && j < size, "gather: index \(j) is out of bounds for dimension \(dim) with size \(size)")
                op[o] = xp[b + (j < 0 ? j + size : j) * xs]
                o += inc[0]; i += inc[1]; b += inc[2]
            }
        }
    }

    /// `torch.scatter_` / `scatter_add_`: writes (or adds) `src` into `out` at `index` along `dim`.
    public func scatter(_ src: Tensor, dim: Int, index: Tensor, out: Tensor, accumulate: Bool) {
        switch out.dtype {
        case .float32: scatterLoop(src, dim, index, out, accumulate, Float.self, +)
        case .float64: scatterLoop(src, dim, index, out, accumulate, Double.self, +)
        case .int32: scatterLoop(src, dim, index, out, accumulate, Int32.self, &+)
        case .int64: scatterLoop(src, dim, index, out, accumulate, Int64.self, &+)
        case .bool: scatterLoop(src, dim, index, out, accumulate, Bool.self) { $0 || $1 }
        }
    }

    private func scatterLoop<T>(_ src: Tensor, _ dim: Int, _ index: Tensor, _ out: Tensor, _ accumulate: Bool,
                                _: T.Type, _ add: (T, T) -> T) {
        let sp = src.storage.pointer(T.self), op = out.storage.pointer(T.self), ip = index.storage.pointer(Int64.self)
        let size = out.shape[dim], os = out.strides[dim]
        var oStrides = out.strides
        oStrides[dim] = 0
        // Sequential on purpose: several indices may name the same slot.
        let srcStrides = Shape.broadcastStrides(src.shape, src.strides, to: src.shape.count == index.shape.count ? src.shape : index.shape)
        let loop = StridedLoop(shape: index.shape, strides: [srcStrides, index.strides, oStrides],
                               offsets: [src.offset, index.offset, out.offset])
        loop.forRows(0..<loop.rows) { off, inc, n in
            var s = off[0], i = off[1], b = off[2]
            for _ in 0..<n {
                let j = Int(ip[i])
                check(j >= -size && j < size, "scatter: index \(j) is out of bounds for dimension \(dim) with size \(size)")
                let dst = b + (j < 0 ? j + size : j) * os
                op[dst] = accumulate ? add(op[dst], sp[s]) : sp[s]
                s += inc[0]; i += inc[1]; b += inc[2]
            }
        }
    }
}
