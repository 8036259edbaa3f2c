// Fused attention ops: `softmax(q kᵀ · scale + mask) v` over [batch, heads, len, dim] views in one kernel per
// (batch, head) pair, and the packed self-attention form that reads q, k, v as heads of one `[N, L, 3E]`
// projection and writes the merged `[N, L, E]` output. The first-order backward is one fused kernel too; when
// the backward records (createGraph) or forward mode asks for it, the gradients are the same formulas written
// with Tensor ops, recomputing the weights from the inputs so that higher-order gradients see them.

/// `softmax(q kᵀ · scale + mask) v` over the last two dims of rank-4 `q [B, H, L, D]`, `k [B, H, S, D]`,
/// `v [B, H, S, Dv]` → `[B, H, L, Dv]`, as one op.
///
/// `mask` (optional) is an additive float mask broadcastable to `[B, H, L, S]` (use `-inf` to hide a key); it is
/// a constant (no gradient flows into it). The inputs may be strided views (for example heads split out of a
/// projection with `reshape` and `permute`): no copies are made when their last dim is unit-stride. The result
/// is laid out as `[B, L, H, Dv]` in memory, so permuting it back to `[B, L, H·Dv]` costs nothing.
/// ```swift
/// let q = Tensor.randn([2, 4, 8, 16]), k = Tensor.randn([2, 4, 10, 16]), v = Tensor.randn([2, 4, 10, 16])
/// let y = attentionHeads(q, k, v, scale: 0.25)   // [2, 4, 8, 16]
/// ```
public func attentionHeads(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor? = nil, scale: Double) -> Tensor {
    check(q.rank == 4 && k.rank == 4 && v.rank == 4 && q.shape[3] == k.shape[3] && k.shape[2] == v.shape[2]
          && q.shape[0] == k.shape[0] && k.shape[0] == v.shape[0] && q.shape[1] == k.shape[1] && k.shape[1] == v.shape[1],
          "attentionHeads: expected q [B, H, L, D], k [B, H, S, D], v [B, H, S, Dv], got \(q.shape), \(k.shape), \(v.shape)")
    let (b, h, l, s, dv) = (q.shape[0], q.shape[1], q.shape[2], k.shape[2], v.shape[3])
    let full = [b, h, l, s]
    if let mask { _ = Shape.broadcast(mask.shape, full, op: "attentionHeads (mask)") }
    guard FusedAttention.applies([q, k, v], mask: mask) else { return FusedAttention.composite(q, k, v, mask: mask, scale: scale) }
    let m = FusedAttention.expandedMask(mask, dtype: q.dtype, to: full)
    let out = Tensor(empty: [b, l, h, dv], dtype: q.dtype, device: q.device).permute(0, 2, 1, 3)
    let context = q.backend.attention(q: q, k: k, v: v, mask: m, scale: scale, out: out)
    guard isRecording([q, k, v]) else { return out }
    return record(out, op: "ScaledDotProductAttentionBackward", inputs: [q, k, v], saving: [q, k, v]) { g, _ in
        if isGradEnabled {
            let r = FusedAttention.compositeBackward(g[0], q, k, v, mask: mask, scale: scale)
            return [r.0, r.1, r.2]
        }
        let dq = FusedAttention.emptyLike(q), dk = FusedAttention.emptyLike(k), dvt = FusedAttention.emptyLike(v)
        q.backend.attentionBackward(context, grad: g[0], scale: scale, dq: dq, dk: dk, dv: dvt)
        return [dq, dk, dvt]
    }
}

/// Multi-head self-attention on a packed projection: `qkv [N, L, 3E]` holds q, k, v side by side (as the
/// output of `MultiheadAttention`'s `in_proj`); each is split into `heads` heads of `E / heads` features, and
/// the result `[N, L, E]` has the heads merged back, ready for the output projection.
///
/// `mask` is an additive float mask broadcastable to `[N, heads, L, L]` (a constant). `qkv` may be any strided
/// view with a unit-stride last dim (a sequence-first projection seen as `[N, L, 3E]`); the result and the
/// gradient follow its layout. One op: the gradient of `qkv` comes out as one tensor.
/// ```swift
/// let qkv = Tensor.randn([2, 10, 3 * 64])
/// let y = packedSelfAttention(qkv, heads: 4, scale: 0.25)   // [2, 10, 64]
/// ```
public func packedSelfAttention(_ qkv: Tensor, heads: Int, mask: Tensor? = nil, scale: Double) -> Tensor {
    check(qkv.rank == 3 && heads > 0 && qkv.shape[2] % (3 * heads) == 0,
          "packedSelfAttention: expected qkv [N, L, 3E] with E divisible by heads (\(heads)), got \(qkv.shape)")
    let (n, l, e) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
    if let mask { _ = Shape.broadcast(mask.shape, [n, heads, l, l], op: "packedSelfAttention (mask)") }
    guard FusedAttention.applies([qkv], mask: mask) else {
        let p = FusedAttention.split(qkv, heads: heads, recorded: true)
        return FusedAttention.merge(FusedAttention.composite(p.0, p.1, p.2, mask: mask, scale: scale))
    }
    let src = qkv.strides[2] == 1 ? qkv : qkv.contiguousCopy()
    let (q, k, v) = FusedAttention.split(src, heads: heads)
    let m = FusedAttention.expandedMask(mask, dtype: qkv.dtype, to: [n, heads, l, l])
    let out = FusedAttention.emptyLike(src, lastDim: e)
    let context = qkv.backend.attention(q: q, k: k, v: v, mask: m, scale: scale, out: FusedAttention.split(out, heads: heads, parts: 1).0)
    guard isRecording(qkv) else { return out }
    return record(out, op: "PackedSelfAttentionBackward", inputs: [qkv], saving: [qkv]) { g, _ in
        if isGradEnabled {
            let (q, k, v) = FusedAttention.split(qkv, heads: heads, recorded: true)
            let gh = FusedAttention.split(g[0], heads: heads, parts: 1, recorded: true).0
            let r = FusedAttention.compositeBackward(gh, q, k, v, mask: mask, scale: scale)
            return [cat([FusedAttention.merge(r.0), FusedAttention.merge(r.1), FusedAttention.merge(r.2)], dim: 2)]
        }
        let gq = g[0].strides[2] == 1 ? g[0] : g[0].contiguousCopy()
        let grad = FusedAttention.emptyLike(src, lastDim: 3 * e)
        let (dq, dk, dv) = FusedAttention.split(grad, heads: heads)
        qkv.backend.attentionBackward(context, grad: FusedAttention.split(gq, heads: heads, parts: 1).0, scale: scale,
                                      dq: dq, dk: dk, dv: dv)
        return [grad]
    }
}

/// Shared pieces of the fused attention ops.
enum FusedAttention {
    /// Whether the fused op handles these inputs (one float dtype and one device, no forward-mode tangents, a mask
    /// on that device that needs no gradient).
    static func applies(_ inputs: [Tensor], mask: Tensor?) -> Bool {
        let dt = inputs[0].dtype, dev = inputs[0].device
        guard dt == .float32 || dt == .float64 else { return false }
        for t in inputs where t.dtype != dt || t.device != dev || t.tangent != nil { return false }
        if let mask, mask.device != dev || !mask.dtype.isFloatingPoint || (mask.requiresGrad && isGradEnabled) || mask.tangent != nil {
            return false
        }
        return true
    }

    /// The mask as a `[B, H, L, S]` view (broadcast dims stride 0) in `dtype` with a unit-or-zero last stride.
    static func expandedMask(_ mask: Tensor?, dtype: DType, to full: [Int]) -> Tensor? {
        guard let mask else { return nil }
        var m = OpSupport.cast(mask.detached(), dtype)
        let st = Shape.broadcastStrides(m.shape, m.strides, to: full)
        m = m.aliased(ViewGeometry(shape: full, strides: st, offset: m.offset))
        if st[3] > 1 { m = m.contiguousCopy() }
        return m
    }

    /// A new tensor shaped as `t`: laid out `[B, L, H, D]` when `t`'s heads interleave within its rows, else contiguous.
    static func emptyLike(_ t: Tensor) -> Tensor {
        let (b, h, l, d) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        if t.strides[1] < t.strides[2] {
            return Tensor(empty: [b, l, h, d], dtype: t.dtype, device: t.device).permute(0, 2, 1, 3)
        }
        return Tensor(empty: t.shape, dtype: t.dtype, device: t.device)
    }

    /// A new `[N, L, lastDim]` tensor stored sequence-major (`[L, N, lastDim]`) when `t` is, else contiguous.
    static func emptyLike(_ t: Tensor, lastDim: Int) -> Tensor {
        let (n, l) = (t.shape[0], t.shape[1])
        if t.strides[0] < t.strides[1] && n > 1 {
            return Tensor(empty: [l, n, lastDim], dtype: t.dtype, device: t.device).transpose(0, 1)
        }
        return Tensor(empty: [n, l, lastDim], dtype: t.dtype, device: t.device)
    }

    /// The `parts` (3: q, k, v; 1: a single tensor) head views `[N, heads, L, E / heads]` of `t [N, L, parts·E]`.
    /// Plain views for the kernels, or (`recorded`) the same views made with differentiable view ops.
    static func split(_ t: Tensor, heads: Int, parts: Int = 3, recorded: Bool = false) -> (Tensor, Tensor, Tensor) {
        let (n, l) = (t.shape[0], t.shape[1]), e = t.shape[2] / parts, d = e / heads
        func part(_ i: Int) -> Tensor {
            if recorded {
                return t.narrow(2, start: i * e, length: e).reshape([n, l, heads, d]).permute(0, 2, 1, 3)
            }
            return t.aliased(ViewGeometry(shape: [n, heads, l, d], strides: [t.strides[0], d * t.strides[2], t.strides[1], t.strides[2]],
                                          offset: t.offset + i * e * t.strides[2]))
        }
        return parts == 1 ? (part(0), part(0), part(0)) : (part(0), part(1), part(2))
    }

    /// `[N, H, L, D]` heads merged into `[N, L, H·D]`.
    static func merge(_ t: Tensor) -> Tensor {
        t.permute(0, 2, 1, 3).reshape([t.shape[0], t.shape[2], t.shape[1] * t.shape[3]])
    }

    /// The attention written with Tensor ops (any device, dtype and order of differentiation).
    static func composite(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale: Double) -> Tensor {
        matmul(weights(q, k, mask: mask, scale: scale), v)
    }

    /// `softmax(q kᵀ · scale + mask)` with Tensor ops.
    static func weights(_ q: Tensor, _ k: Tensor, mask: Tensor?, scale: Double) -> Tensor {
        var scores = matmul(q, k.mT) * scale
        if let mask { scores = scores + mask }
        return softmax(scores, dim: -1)
    }

    /// The gradients of the attention with Tensor ops (recorded when the backward records).
    static func compositeBackward(_ g: Tensor, _ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?,
                                  scale: Double) -> (Tensor, Tensor, Tensor) {
        let p = weights(q, k, mask: mask, scale: scale)
        let dv = matmul(p.mT, g)
        let dp = matmul(g, v.mT)
        let ds = p * (dp - (dp * p).sum(dims: [-1], keepDim: true))
        return (matmul(ds, k) * scale, matmul(ds.mT, q) * scale, dv)
    }
}
