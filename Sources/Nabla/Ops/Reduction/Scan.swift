// Cumulative reductions along one dim: cumsum and cumprod, with their backward.

extension Tensor {
    /// Cumulative sum along `dim` (`torch.cumsum`); integers and bools accumulate in int64.
    ///
    /// ```swift
    /// Tensor([1.0, 2, 3]).cumsum(dim: 0)   // tensor([1., 3., 6.])
    /// ```
    /// The gradient is the reversed cumulative sum of the output gradient.
    public func cumsum(dim: Int, dtype: DType? = nil) -> Tensor { scan(product: false, dim: dim, dtype: dtype) }

    /// Cumulative product along `dim` (`torch.cumprod`); integers and bools multiply in int64.
    ///
    /// The gradient is exact when the input holds zeros too.
    public func cumprod(dim: Int, dtype: DType? = nil) -> Tensor { scan(product: true, dim: dim, dtype: dtype) }

    private func scan(product: Bool, dim: Int, dtype outType: DType?) -> Tensor {
        let name: StaticString = product ? "cumprod" : "cumsum"
        var src = outType.map { self.to($0) } ?? self
        if !src.dtype.isFloatingPoint { src = OpSupport.cast(src, .int64) }
        if src.rank == 0 {
            _ = Shape.normalize(dim, 0, op: name)
            return src.reshape([1]).scan(product: product, dim: 0, dtype: nil).reshape([])
        }
        let d = Shape.normalize(dim, src.rank, op: name)
        let out = Tensor(empty: src.shape, dtype: src.dtype, device: src.device)
        if out.count > 0 { src.backend.scan(product: product, src, dim: d, out: out) }
        guard isRecording(src) else { return out }
        if !product {
            return record(out, op: "CumsumBackward", inputs: [src], jvp: { t in t[0]!.cumsum(dim: d) }) { g, _ in
                [g[0].flip([d]).cumsum(dim: d).flip([d])]
            }
        }
        let x = src
        return record(out, op: "CumprodBackward", inputs: [x], saving: [x], saveOutput: true) { g, node in
            if !x.containsZero() {
                let w = g[0] * node.output()
                return [w.flip([d]).cumsum(dim: d).flip([d]) / x]
            }
            return [Tensor.cumprodBackwardWithZeros(x, g[0], dim: d)]
        }
    }

    /// `grad_i = Σ_{k ≥ i} g_k · Π_{j ≤ k, j ≠ i} x_j` through an n×n expansion per line (used only when `x` has zeros).
    static func cumprodBackwardWithZeros(_ x: Tensor, _ g: Tensor, dim d: Int) -> Tensor {
        let n = x.shape[d]
        let xt = x.transpose(d, -1), gt = g.transpose(d, -1)
        let eye = Tensor.eye(n, dtype: x.dtype)
        let expanded = xt.unsqueeze(-2) * (1 - eye) + eye                 // [..., i, k]: x_k, 1 on the diagonal
        let products = expanded.cumprod(dim: -1)                          // Π_{j ≤ k, j ≠ i} x_j
        let r = Tensor.arange(n)
        let upper = OpSupport.cast(r.unsqueeze(1).le(r.unsqueeze(0)), x.dtype)   // k ≥ i
        return (products * upper * gt.unsqueeze(-2)).sum(dim: -1).transpose(d, -1)
    }
}

/// Cumulative sum along `dim` (`torch.cumsum`).
public func cumsum(_ x: Tensor, dim: Int, dtype: DType? = nil) -> Tensor { x.cumsum(dim: dim, dtype: dtype) }
/// Cumulative product along `dim` (`torch.cumprod`).
public func cumprod(_ x: Tensor, dim: Int, dtype: DType? = nil) -> Tensor { x.cumprod(dim: dim, dtype: dtype) }
