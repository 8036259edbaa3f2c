// The composite normalisations of every backend (layerNorm and groupNorm rows, batchNorm channels), written
// with Tensor ops under noGrad, so they run on any backend's primitive kernels.

extension Backend {
    /// Default `normRows`: the composite.
    public func normRows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?,
                         eps: Double, out: Tensor, mean: Tensor, rstd: Tensor) {
        compositeNormRows(x, rows: rows, rowLen: rowLen, groups: groups, inner: inner, weight: weight, bias: bias, eps: eps,
                          out: out, mean: mean, rstd: rstd)
    }

    /// Default `normRowsBackward`: the composite.
    public func normRowsBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                                 rows: Int, rowLen: Int) -> (input: Tensor, weight: Tensor?, bias: Tensor?) {
        compositeNormRowsBackward(x, grad: grad, weight: weight, hasBias: hasBias, mean: mean, rstd: rstd, rows: rows, rowLen: rowLen)
    }

    /// Default `batchNormStats`: the composite.
    public func batchNormStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor) {
        compositeBatchNormStats(x, n: n, channels: channels, inner: inner, mean: mean, variance: variance)
    }

    /// Default `batchNormAffine`: the composite.
    public func batchNormAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor) {
        compositeBatchNormAffine(x, n: n, channels: channels, inner: inner, scale: scale, shift: shift, out: out)
    }

    /// Default `batchNormBackward`: the composite.
    public func batchNormBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                                  n: Int, channels: Int, inner: Int) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        compositeBatchNormBackward(x, grad: grad, weight: weight, mean: mean, invstd: invstd, n: n, channels: channels, inner: inner)
    }

    /// Mean and biased variance per row, then the affine map (weight and bias broadcast over `inner`).
    public func compositeNormRows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?,
                                  eps: Double, out: Tensor, mean: Tensor, rstd: Tensor) {
        noGrad {
            let xr = x.reshape([rows, rowLen])
            let m = xr.mean(dims: [1], keepDim: true)
            let r = (xr.var(dims: [1], correction: 0, keepDim: true) + eps).rsqrt()
            let perGroup = rowLen / Swift.max(inner, 1)
            var y = ((xr - m) * r).reshape([rows / Swift.max(groups, 1), groups, perGroup, inner])
            if let weight { y = y * weight.reshape([1, groups, perGroup, 1]) }
            if let bias { y = y + bias.reshape([1, groups, perGroup, 1]) }
            copy(y.reshape(out.shape), into: out)
            copy(m.reshape([rows]), into: mean)
            copy(r.reshape([rows]), into: rstd)
        }
    }

    /// `dx = rstd·(gw − mean(gw) − x̂·mean(gw·x̂))` per row (gw = grad·weight), `dw = Σ grad·x̂`, `db = Σ grad`.
    public func compositeNormRowsBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                                          rows: Int, rowLen: Int) -> (input: Tensor, weight: Tensor?, bias: Tensor?) {
        noGrad {
            let xr = x.reshape([rows, rowLen]), g = grad.reshape([rows, rowLen])
            let xhat = (xr - mean.reshape([rows, 1])) * rstd.reshape([rows, 1])
            let gw = weight.map { g * $0.reshape([1, rowLen]) } ?? g
            let dx = rstd.reshape([rows, 1]) * (gw - gw.mean(dims: [1], keepDim: true) - xhat * (gw * xhat).mean(dims: [1], keepDim: true))
            let dw = weight == nil ? nil : (g * xhat).sum(dim: 0)
            let db = hasBias ? g.sum(dim: 0) : nil
            return (dx.reshape(x.shape), dw, db)
        }
    }

    /// Mean and biased variance over dims 0 and 2 of `x` seen as [n, channels, inner].
    public func compositeBatchNormStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor) {
        noGrad {
            let xv = x.reshape([n, channels, inner])
            copy(xv.mean(dims: [0, 2]), into: mean)
            copy(xv.var(dims: [0, 2], correction: 0), into: variance)
        }
    }

    /// `x·scale[c] + shift[c]` over `x` seen as [n, channels, inner].
    public func compositeBatchNormAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor) {
        noGrad {
            let y = x.reshape([n, channels, inner]) * scale.reshape([1, channels, 1]) + shift.reshape([1, channels, 1])
            copy(y.reshape(out.shape), into: out)
        }
    }

    /// The training-mode batchNorm gradients over dims 0 and 2 of [n, channels, inner].
    public func compositeBatchNormBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                                           n: Int, channels: Int, inner: Int) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        noGrad {
            let shape = [1, channels, 1]
            let xv = x.reshape([n, channels, inner]), g = grad.reshape([n, channels, inner])
            let xhat = (xv - mean.reshape(shape)) * invstd.reshape(shape)
            let gw = weight.map { g * $0.reshape(shape) } ?? g
            let dx = invstd.reshape(shape) * (gw - gw.mean(dims: [0, 2], keepDim: true)
                                              - xhat * (gw * xhat).mean(dims: [0, 2], keepDim: true))
            return (dx.reshape(x.shape), (g * xhat).sum(dims: [0, 2]), g.sum(dims: [0, 2]))
        }
    }
}
