// The composite attention of every backend: two batched matrix products around a softmax, from primitive kernels.

extension Backend {
    /// Default `attention`: the composite.
    public func attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> AttentionContext {
        compositeAttention(q: q, k: k, v: v, mask: mask, scale: scale, out: out)
    }

    /// Default `attentionBackward`: the composite.
    public func attentionBackward(_ context: AttentionContext, grad: Tensor, scale: Double, dq: Tensor, dk: Tensor, dv: Tensor) {
        compositeAttentionBackward(context, grad: grad, scale: scale, dq: dq, dk: dk, dv: dv)
    }

    /// `softmax(q kᵀ · scale + mask) v` with Tensor ops under noGrad, into `out`.
    public func compositeAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> AttentionContext {
        noGrad {
            let p = FusedAttention.weights(q, k, mask: mask, scale: scale)
            copy(Nabla.matmul(p, v), into: out)
            return AttentionContext(q: q, k: k, v: v, mask: mask, weights: p)
        }
    }

    /// `dv = pᵀ g`, `ds = p ⊙ (g vᵀ − Σ …)`, `dq = ds k · scale`, `dk = dsᵀ q · scale`, into `dq`, `dk`, `dv`.
    public func compositeAttentionBackward(_ c: AttentionContext, grad: Tensor, scale: Double, dq: Tensor, dk: Tensor, dv: Tensor) {
        noGrad {
            let p = c.weights
            let dp = Nabla.matmul(grad, c.v.mT)
            let ds = p * (dp - (dp * p).sum(dims: [-1], keepDim: true))
            copy(Nabla.matmul(p.mT, grad), into: dv)
            copy(Nabla.matmul(ds, c.k) * scale, into: dq)
            copy(Nabla.matmul(ds.mT, c.q) * scale, into: dk)
        }
    }
}
