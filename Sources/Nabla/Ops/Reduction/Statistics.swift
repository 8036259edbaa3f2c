// Statistics and norms: var, std, varMean, stdMean and vector norms over dims.

extension Tensor {
    /// Variance over `dims` (all when nil) with `correction` (`torch.var(x, dim, correction=)`).
    ///
    /// The divisor is `max(0, N - correction)`: 1 gives the unbiased (Bessel) estimate, 0 the population variance.
    /// ```swift
    /// Tensor([1.0, 2, 3, 4]).var()                  // tensor(1.6667)
    /// Tensor([1.0, 2, 3, 4]).var(correction: 0)     // tensor(1.2500)
    /// ```
    public func `var`(dims: [Int]? = nil, correction: Double, keepDim: Bool = false) -> Tensor {
        check(dtype.isFloatingPoint, "var: expected a floating point input, got \(dtype)")
        let d = reductionDims(dims, op: "var")
        let n = d.reduce(1) { $0 * (($1 < rank) ? shape[$1] : 1) }
        let centred = self - mean(dims: d, keepDim: true)
        return (centred * centred).sum(dims: d, keepDim: keepDim) / Swift.max(0, Double(n) - correction)
    }

    /// Variance over `dims` (all when nil), unbiased by default (`torch.var(x, dim, unbiased, keepdim)`).
    public func `var`(dims: [Int]? = nil, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        self.var(dims: dims, correction: unbiased ? 1 : 0, keepDim: keepDim)
    }
    /// Variance over one dim.
    public func `var`(dim: Int, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        self.var(dims: [dim], correction: unbiased ? 1 : 0, keepDim: keepDim)
    }

    /// Standard deviation over `dims` with `correction` (`torch.std(x, dim, correction=)`); its gradient is 0 where it is 0.
    public func std(dims: [Int]? = nil, correction: Double, keepDim: Bool = false) -> Tensor {
        ReductionMath.safeSqrt(self.var(dims: dims, correction: correction, keepDim: keepDim))
    }
    /// Standard deviation over `dims` (all when nil), unbiased by default (`torch.std`).
    public func std(dims: [Int]? = nil, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        std(dims: dims, correction: unbiased ? 1 : 0, keepDim: keepDim)
    }
    /// Standard deviation over one dim.
    public func std(dim: Int, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
        std(dims: [dim], correction: unbiased ? 1 : 0, keepDim: keepDim)
    }

    /// The `p`-norm over `dims` (all when nil), `torch.norm(x, p, dim, keepdim)` / `torch.linalg.vector_norm`.
    ///
    /// `p` may be any positive number, `0` (number of non-zeros, no gradient), `.infinity` (largest
    /// magnitude) or `-.infinity` (smallest). The gradient at a zero norm is 0, as in PyTorch.
    /// ```swift
    /// Tensor([3.0, 4]).norm()            // tensor(5.)
    /// Tensor([3.0, -4]).norm(p: 1)       // tensor(7.)
    /// ```
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        check(dtype.isFloatingPoint, "norm: expected a floating point input, got \(dtype)")
        check(!p.isNaN && p >= 0 || p == -.infinity, "norm: p must be non-negative, .infinity or -.infinity, got \(p)")
        let d = reductionDims(dims, op: "norm")
        if p == .infinity { return Nabla.abs(self).amax(dims: d, keepDim: keepDim) }
        if p == -.infinity { return Nabla.abs(self).amin(dims: d, keepDim: keepDim) }
        if p == 0 { return OpSupport.cast(ne(0), dtype).sum(dims: d, keepDim: keepDim).detached() }
        if p == 1 { return Nabla.abs(self).sum(dims: d, keepDim: keepDim) }
        if p == 2 { return twoNorm(d, keepDim: keepDim) }
        // General p: (Σ|x|^p)^(1/p) with PyTorch's zero-safe gradient.
        let s = ReductionMath.absPow(detached(), p).sum(dims: d, keepDim: keepDim)
        let out = OpSupport.unary(.powScalar(1 / p), s)
        guard isRecording(self) else { return out }
        let x = self
        return record(out, op: "NormBackward", inputs: [x], saving: [x], saveOutput: true) { g, node in
            let nk = x.keptGradient(node.output(), dims: d)
            let zeroNorm = OpSupport.cast(nk.detached().eq(0), nk.dtype)
            let scale = x.keptGradient(g[0], dims: d) / ReductionMath.absPow(nk + zeroNorm, p - 1) * (1 - zeroNorm)
            if p >= 1 { return [ReductionMath.sign(x) * ReductionMath.absPow(x, p - 1) * scale] }
            let zeroX = OpSupport.cast(x.detached().eq(0), x.dtype)
            return [ReductionMath.sign(x) * ReductionMath.absPow(x + zeroX, p - 1) * (1 - zeroX) * scale]
        }
    }
    /// The `p`-norm over one dim.
    public func norm(p: Double = 2, dim: Int, keepDim: Bool = false) -> Tensor { norm(p: p, dims: [dim], keepDim: keepDim) }

    /// The Euclidean norm with gradient `x * g / norm`, and 0 where the norm is 0.
    private func twoNorm(_ d: [Int], keepDim: Bool) -> Tensor {
        let plain = detached()
        let out = OpSupport.unary(.sqrt, (plain * plain).sum(dims: d, keepDim: keepDim))
        guard isRecording(self) else { return out }
        let x = self
        return record(out, op: "NormBackward", inputs: [x], saving: [x], saveOutput: true) { g, node in
            let nk = x.keptGradient(node.output(), dims: d)
            let zero = OpSupport.cast(nk.detached().eq(0), nk.dtype)
            return [x * (x.keptGradient(g[0], dims: d) / (nk + zero) * (1 - zero))]
        }
    }
}

/// Variance (`torch.var`), unbiased by default.
public func `var`(_ x: Tensor, dims: [Int]? = nil, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
    x.var(dims: dims, unbiased: unbiased, keepDim: keepDim)
}
/// Variance with an explicit `correction` (`torch.var(x, correction=)`).
public func `var`(_ x: Tensor, dims: [Int]? = nil, correction: Double, keepDim: Bool = false) -> Tensor {
    x.var(dims: dims, correction: correction, keepDim: keepDim)
}
/// Standard deviation (`torch.std`), unbiased by default.
public func std(_ x: Tensor, dims: [Int]? = nil, unbiased: Bool = true, keepDim: Bool = false) -> Tensor {
    x.std(dims: dims, unbiased: unbiased, keepDim: keepDim)
}
/// Standard deviation with an explicit `correction` (`torch.std(x, correction=)`).
public func std(_ x: Tensor, dims: [Int]? = nil, correction: Double, keepDim: Bool = false) -> Tensor {
    x.std(dims: dims, correction: correction, keepDim: keepDim)
}
/// Variance and mean in one call (`torch.var_mean`).
public func varMean(_ x: Tensor, dims: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) -> (var: Tensor, mean: Tensor) {
    (x.var(dims: dims, correction: correction, keepDim: keepDim), x.mean(dims: dims, keepDim: keepDim))
}
/// Standard deviation and mean in one call (`torch.std_mean`).
public func stdMean(_ x: Tensor, dims: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) -> (std: Tensor, mean: Tensor) {
    (x.std(dims: dims, correction: correction, keepDim: keepDim), x.mean(dims: dims, keepDim: keepDim))
}
/// The `p`-norm over `dims` (`torch.norm`).
public func norm(_ x: Tensor, p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
    x.norm(p: p, dims: dims, keepDim: keepDim)
}
