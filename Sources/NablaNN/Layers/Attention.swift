// Attention: the functional scaled dot-product attention and the MultiheadAttention layer.
import Foundation

/// A boolean "true = masked" mask as an additive float mask (0 or -inf); float masks pass through.
func additiveMask(_ mask: Tensor, dtype: DType) -> Tensor {
    if mask.dtype == .bool {
        return Tensor.zeros(mask.shape, dtype: dtype, device: mask.device).maskedFill(mask, value: -Double.infinity)
    }
    return mask.dtype == dtype ? mask : mask.to(dtype)
}

/// The `[l, s]` causal mask, true above the diagonal (where a query would see a later key).
func causalMask(_ l: Int, _ s: Int, device: Device) -> Tensor {
    let rows = Tensor.arange(l).to(device).unsqueeze(1), cols = Tensor.arange(s).to(device).unsqueeze(0)
    return cols.gt(rows)
}

/// `softmax(q kᵀ · scale + mask) v`, as `torch.nn.functional.scaled_dot_product_attention`.
///
/// `query [..., L, E]`, `key [..., S, E]`, `value [..., S, Ev]` → `[..., L, Ev]`. As in PyTorch, a boolean
/// `attnMask` marks with `true` the positions that TAKE PART in attention (the opposite of `MultiheadAttention`'s
/// masks); a float mask is added to the scores. `isCausal` masks keys after each query (top-left aligned).
/// `scale` defaults to `1/√E`; `dropoutP` drops attention weights (always applied when > 0, as PyTorch).
/// ```swift
/// let q = Tensor.randn([2, 4, 8, 16]), k = Tensor.randn([2, 4, 10, 16]), v = Tensor.randn([2, 4, 10, 16])
/// let y = scaledDotProductAttention(q, k, v, isCausal: true)   // [2, 4, 8, 16]
/// ```
public func scaledDotProductAttention(_ query: Tensor, _ key: Tensor, _ value: Tensor, attnMask: Tensor? = nil,
                                      dropoutP: Double = 0, isCausal: Bool = false, scale: Double? = nil) -> Tensor {
    check(query.rank >= 2 && key.rank >= 2 && value.rank >= 2 && query.shape[query.rank - 1] == key.shape[key.rank - 1]
          && key.shape[key.rank - 2] == value.shape[value.rank - 2],
          "scaledDotProductAttention: expected query [..., L, E], key [..., S, E], value [..., S, Ev], got \(query.shape), \(key.shape), \(value.shape)")
    check(!(isCausal && attnMask != nil), "scaledDotProductAttention: pass either attnMask or isCausal, not both")
    let l = query.shape[query.rank - 2], s = key.shape[key.rank - 2]
    var mask: Tensor? = nil
    if isCausal { mask = additiveMask(causalMask(l, s, device: query.device), dtype: query.dtype) }
    if let attnMask { mask = attnMask.dtype == .bool ? additiveMask(attnMask.logicalNot(), dtype: query.dtype) : attnMask }
    let sc = scale ?? 1 / Double(query.shape[query.rank - 1]).squareRoot()
    if dropoutP == 0, let y = fusedAttention(query, key, value, mask: mask, scale: sc) { return y }
    return attentionCore(query, key, value, mask: mask, dropoutP: dropoutP, scale: sc).0
}

/// The attention as one fused op when the inputs are 3-D or 4-D with equal batch dims and the mask broadcasts to
/// the scores without growing them; nil otherwise.
private func fusedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale: Double) -> Tensor? {
    let r = q.rank
    guard (r == 3 || r == 4) && k.rank == r && v.rank == r && q.shape.dropLast(2) == k.shape.dropLast(2)
            && k.shape.dropLast(2) == v.shape.dropLast(2) else { return nil }
    let scores = Array(q.shape.dropLast()) + [k.shape[r - 2]]
    if let mask {
        guard mask.rank <= r else { return nil }
        for (i, size) in mask.shape.reversed().enumerated() where size != 1 && size != scores[r - 1 - i] { return nil }
    }
    if r == 4 { return attentionHeads(q, k, v, mask: mask, scale: scale) }
    let m4 = mask.map { $0.rank == 3 ? $0.unsqueeze(1) : $0 }
    return attentionHeads(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1), mask: m4, scale: scale).squeeze(1)
}

/// The attention product with an additive (broadcastable) float mask; returns the output and the weights.
func attentionCore(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, dropoutP: Double, scale: Double) -> (Tensor, Tensor) {
    var scores = matmul(q * scale, k.transpose(-2, -1))
    if let mask { scores = scores + mask }
    var weights = softmax(scores, dim: -1)
    let used = dropoutP > 0 ? dropout(weights, p: dropoutP, training: true) : weights
    if dropoutP > 0 { weights = used }
    return (matmul(used, v), weights)
}

/// Multi-head attention, as `torch.nn.MultiheadAttention`.
///
/// Parameters are named as PyTorch's (`in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`;
/// `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when `kdim`/`vdim` differ from `embedDim`), so a PyTorch
/// `state_dict` loads by name. Masks: boolean with `true` = masked, or float (added to the scores).
/// ```swift
/// let mha = MultiheadAttention(embedDim: 64, numHeads: 4, batchFirst: true)
/// let x = Tensor.randn([2, 10, 64])
/// let (y, w) = mha(x, x, x)   // y [2, 10, 64], w [2, 10, 10] (averaged over heads)
/// ```
public final class MultiheadAttention: Module {
    /// Features of the query (and of the output).
    public let embedDim: Int
    /// Features of the key.
    public let kdim: Int
    /// Features of the value.
    public let vdim: Int
    /// Number of parallel heads; `embedDim` must divide by it.
    public let numHeads: Int
    /// Dropout probability on the attention weights (training mode only).
    public let dropout: Double
    /// Whether inputs and outputs are `[batch, seq, feature]` (else `[seq, batch, feature]`).
    public let batchFirst: Bool
    /// `[3 embedDim, embedDim]` packed q, k, v projections (nil when `kdim`/`vdim` differ from `embedDim`).
    public var inProjWeight: Tensor?
    /// `[embedDim, embedDim]` (only when `kdim`/`vdim` differ from `embedDim`).
    public var qProjWeight: Tensor?
    /// `[embedDim, kdim]` (only when `kdim`/`vdim` differ from `embedDim`).
    public var kProjWeight: Tensor?
    /// `[embedDim, vdim]` (only when `kdim`/`vdim` differ from `embedDim`).
    public var vProjWeight: Tensor?
    /// `[3 embedDim]`, or nil without bias.
    public var inProjBias: Tensor?
    /// The output projection.
    public let outProj: Linear

    /// Creates the layer with PyTorch's initialisation (Xavier-uniform projections, zero biases).
    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true, kdim: Int? = nil, vdim: Int? = nil,
                batchFirst: Bool = false, dtype: DType = .float32) {
        check(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
              "MultiheadAttention: embedDim (\(embedDim)) must be positive and divisible by numHeads (\(numHeads))")
        check(dropout >= 0 && dropout <= 1, "MultiheadAttention: dropout must be in [0, 1], got \(dropout)")
        self.embedDim = embedDim; self.numHeads = numHeads; self.dropout = dropout; self.batchFirst = batchFirst
        self.kdim = kdim ?? embedDim; self.vdim = vdim ?? embedDim
        // PyTorch's order of draws: the output projection (a Linear) first, then the input projections.
        outProj = Linear(embedDim, embedDim, bias: bias, dtype: dtype)
        if let b = outProj.bias { noGrad { _ = b.zero_() } }
        func xavier(_ rows: Int, _ cols: Int) -> Tensor { Parameter(xavierUniform_(Tensor.empty([rows, cols], dtype: dtype))) }
        if self.kdim == embedDim && self.vdim == embedDim {
            inProjWeight = xavier(3 * embedDim, embedDim)
        } else {
            qProjWeight = xavier(embedDim, embedDim)
            kProjWeight = xavier(embedDim, self.kdim)
            vProjWeight = xavier(embedDim, self.vdim)
        }
        inProjBias = bias ? Parameter(Tensor.zeros([3 * embedDim], dtype: dtype)) : nil
        super.init()
    }

    /// Self-attention `mha(x, x, x)`, returning only the output.
    public override func forward(_ input: Tensor) -> Tensor { self(input, input, input, needWeights: false).0 }

    /// Attends `query` to `key`/`value`; returns the output and (when `needWeights`) the attention weights.
    ///
    /// - Parameters:
    ///   - query: `[L, N, E]` (`[N, L, E]` when `batchFirst`), or unbatched `[L, E]`.
    ///   - key: `[S, N, kdim]` (`[N, S, kdim]`), or `[S, kdim]`.
    ///   - value: `[S, N, vdim]` (`[N, S, vdim]`), or `[S, vdim]`.
    ///   - keyPaddingMask: `[N, S]` (or `[S]`): bool, `true` = ignore that key; or float, added to the scores.
    ///   - needWeights: whether to return the attention weights.
    ///   - attnMask: `[L, S]` or `[N·numHeads, L, S]`: bool, `true` = not allowed to attend; or float, added.
    ///   - averageAttnWeights: average the returned weights over heads (`[N, L, S]`), else `[N, numHeads, L, S]`.
    ///   - isCausal: apply a causal mask; when `attnMask` is given it is taken as that mask (PyTorch's hint).
    /// - Returns: `(output, weights)` with the output shaped as `query` (last dim `embedDim`).
    public func callAsFunction(_ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
                               needWeights: Bool = true, attnMask: Tensor? = nil, averageAttnWeights: Bool = true,
                               isCausal: Bool = false) -> (Tensor, Tensor?) {
        attend(query, key, value, keyPaddingMask: keyPaddingMask, needWeights: needWeights, attnMask: attnMask,
               averageAttnWeights: averageAttnWeights, isCausal: isCausal, residual: nil)
    }

    /// `residual + self(x, x, x, needWeights: false).0`, a Transformer block's residual connection around its
    /// self-attention: on the fused self-attention path the residual is summed into the output projection's GEMM
    /// (`linear(_:weight:bias:residual:)`), elsewhere added after it. `residual` has `x`'s shape.
    func selfAttention(_ x: Tensor, residual: Tensor, keyPaddingMask: Tensor?, attnMask: Tensor?, isCausal: Bool) -> Tensor {
        check(residual.shape == x.shape, "MultiheadAttention: expected a residual of the input's shape \(x.shape), got \(residual.shape)")
        return attend(x, x, x, keyPaddingMask: keyPaddingMask, needWeights: false, attnMask: attnMask, averageAttnWeights: true,
                      isCausal: isCausal, residual: residual).0
    }

    /// The body of `callAsFunction`, plus `residual` added to the output (see `selfAttention(_:residual:...)`).
    private func attend(_ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor?, needWeights: Bool,
                        attnMask: Tensor?, averageAttnWeights: Bool, isCausal: Bool, residual: Tensor?) -> (Tensor, Tensor?) {
        let unbatched = query.rank == 2
        check((query.rank == 2 || query.rank == 3) && key.rank == query.rank && value.rank == query.rank,
              "MultiheadAttention: expected query, key, value all 3-D (batched) or all 2-D (unbatched), got \(query.shape), \(key.shape), \(value.shape)")
        // Batch-major [N, L, F] views.
        func batchMajor(_ t: Tensor) -> Tensor { unbatched ? t.unsqueeze(0) : (batchFirst ? t : t.transpose(0, 1)) }
        let q0 = batchMajor(query), k0 = batchMajor(key), v0 = batchMajor(value)
        let n = q0.shape[0], l = q0.shape[1], s = k0.shape[1], e = embedDim, h = numHeads, hd = e / h
        check(q0.shape[2] == e && k0.shape[2] == kdim && v0.shape[2] == vdim && k0.shape[0] == n && v0.shape[0] == n && v0.shape[1] == s,
              "MultiheadAttention: expected query [..., \(e)], key [..., \(kdim)], value [..., \(vdim)] with matching batch and key/value lengths, got \(query.shape), \(key.shape), \(value.shape)")
        let dt = query.dtype
        let mask = combinedMask(attnMask: attnMask, keyPaddingMask: keyPaddingMask, isCausal: isCausal,
                                n: n, l: l, s: s, unbatched: unbatched, dtype: dt, device: query.device)
        let p = training ? dropout : 0
        let scale = 1 / Double(hd).squareRoot()
        let outShape = unbatched ? [l, e] : (batchFirst ? [n, l, e] : [l, n, e])
        let nativeLayout = unbatched || batchFirst
        if !needWeights && p == 0, let inProjWeight, query === key, key === value {
            // Self-attention: one in-projection GEMM; the fused op reads the heads in place and writes them merged.
            let src = unbatched ? query.unsqueeze(0) : query
            let qkv = Nabla.linear(src, weight: inProjWeight, bias: inProjBias)
            let attn = packedSelfAttention(nativeLayout ? qkv : qkv.transpose(0, 1), heads: h, mask: mask, scale: scale)
            let merged = nativeLayout ? attn : attn.transpose(0, 1)   // stored in the query's own layout: no copy
            if let residual, outProj.callsForwardDirectly {
                // The residual rows line up with the merged rows: both are in the query's own layout.
                let y = Nabla.linear(merged.reshape([n * l, e]), weight: outProj.weight, bias: outProj.bias,
                                     residual: residual.reshape([n * l, e]))
                return (y.reshape(outShape), nil)
            }
            let out = outProj(merged.reshape([n * l, e])).reshape(outShape)
            return (residual.map { $0 + out } ?? out, nil)
        }
        // Projections as 2-D products in the inputs' own layout, then split into heads: [N, H, len, hd] views.
        func project(_ original: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
            let src = unbatched ? original.unsqueeze(0) : original
            let y4 = Nabla.linear(src, weight: w, bias: b).reshape([src.shape[0], src.shape[1], h, hd])
            return nativeLayout ? y4.permute(0, 2, 1, 3) : y4.permute(1, 2, 0, 3)
        }
        let ws: [Tensor]
        if let inProjWeight { ws = inProjWeight.chunk(3, dim: 0) } else { ws = [qProjWeight!, kProjWeight!, vProjWeight!] }
        let bs: [Tensor?] = inProjBias.map { $0.chunk(3, dim: 0).map { Optional($0) } } ?? [nil, nil, nil]
        let q = project(query, ws[0], bs[0])
        let k = project(key, ws[1], bs[1])
        let v = project(value, ws[2], bs[2])
        let attn: Tensor, weights: Tensor?
        if !needWeights && p == 0 {
            (attn, weights) = (attentionHeads(q, k, v, mask: mask, scale: scale), nil)
        } else {
            (attn, weights) = attentionCore(q, k, v, mask: mask, dropoutP: p, scale: scale)
        }
        // [N, H, L, hd] → the query's layout, then the output projection.
        let merged = nativeLayout ? attn.permute(0, 2, 1, 3) : attn.permute(2, 0, 1, 3)
        let projected = outProj(merged.reshape([n * l, e])).reshape(outShape)
        let out = residual.map { $0 + projected } ?? projected
        guard needWeights, let weights else { return (out, nil) }
        var w = averageAttnWeights ? weights.mean(dim: 1) : weights
        if unbatched { w = w.squeeze(0) }
        return (out, w)
    }

    /// The attention and key-padding masks (and the causal mask) as one additive float mask broadcastable to
    /// `[N, H, L, S]`, or nil when there is none; checks their shapes.
    private func combinedMask(attnMask: Tensor?, keyPaddingMask: Tensor?, isCausal: Bool, n: Int, l: Int, s: Int,
                              unbatched: Bool, dtype dt: DType, device: Device) -> Tensor? {
        let h = numHeads
        var mask: Tensor? = nil
        if let attnMask {
            if attnMask.rank == 2 {
                check(attnMask.shape == [l, s], "MultiheadAttention: the shape of the 2D attnMask is \(attnMask.shape), but should be \([l, s])")
                mask = additiveMask(attnMask, dtype: dt)
            } else {
                check(attnMask.shape == [n * h, l, s], "MultiheadAttention: the shape of the 3D attnMask is \(attnMask.shape), but should be \([n * h, l, s])")
                mask = additiveMask(attnMask, dtype: dt).reshape([n, h, l, s])
            }
        } else if isCausal {
            mask = additiveMask(causalMask(l, s, device: device), dtype: dt)
        }
        if let keyPaddingMask {
            let expected = unbatched ? [s] : [n, s]
            check(keyPaddingMask.shape == expected, "MultiheadAttention: expected keyPaddingMask of shape \(expected), got \(keyPaddingMask.shape)")
            let kp = additiveMask(keyPaddingMask, dtype: dt).reshape([n, 1, 1, s])
            mask = mask.map { $0 + kp } ?? kp
        }
        return mask
    }
}
