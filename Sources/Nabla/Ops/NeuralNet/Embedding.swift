// Embedding lookup: rows of a weight matrix picked by integer indices; the backward adds the
// upstream rows into a zero weight-shaped tensor (index_add), skipping the padding row.

/// Looks up rows of `weight` (`[numEmbeddings, embeddingDim]`) at integer `indices`
/// (`torch.nn.functional.embedding`); the result has shape `indices.shape + [embeddingDim]`.
///
/// The gradient of the `paddingIdx` row is always zero.
/// ```swift
/// let w = Tensor.randn([10, 3])
/// let e = embedding(Tensor([[1, 2], [4, 9]]), w)   // [2, 2, 3]
/// ```
public func embedding(_ indices: Tensor, _ weight: Tensor, paddingIdx: Int? = nil) -> Tensor {
    check(!indices.dtype.isFloatingPoint && indices.dtype != .bool,
          "embedding: expected integer indices (int64 or int32), got \(indices.dtype)")
    check(weight.rank == 2, "embedding: weight must be 2-D [numEmbeddings, embeddingDim], got shape \(weight.shape)")
    let num = weight.shape[0], dim = weight.shape[1]
    var pad: Int? = nil
    if let paddingIdx {
        check(paddingIdx >= -num && paddingIdx < num,
              "embedding: paddingIdx \(paddingIdx) must be within the number of embeddings \(num)")
        pad = paddingIdx < 0 ? paddingIdx + num : paddingIdx
    }
    let flat = indices.reshape([-1])
    let out: Tensor
    if Tracer.current?.isRecording == true {
        // Under a trace (compile, ONNX export) the ids must stay a graph input: the backend's gather reads them on the
        // device (and checks their bounds) instead of indexSelect's host copy, which would freeze them in the graph.
        let ids = OpSupport.cast(flat, .int64)
        let rows = Tensor(empty: [ids.count, dim], dtype: weight.dtype, device: weight.device)
        if rows.count > 0 { weight.backend.gather(weight, dim: 0, index: indexAlong(ids, dim: 0, shape: [ids.count, dim]), out: rows) }
        out = rows.reshapeNoGrad(indices.shape + [dim])
    } else {
        out = noGrad { indexSelect(weight, dim: 0, index: flat) }.reshapeNoGrad(indices.shape + [dim])
    }
    guard isRecording(weight) else { return out }
    let idx = OpSupport.cast(flat, .int64)
    let weightShape = weight.shape
    return record(out, op: "EmbeddingBackward", inputs: [weight]) { g, _ in
        var rows = g[0].reshape([-1, dim])
        if let pad { rows = rows * OpSupport.cast(idx.ne(Double(pad)), rows.dtype).unsqueeze(1) }
        let zero = Tensor.zeros(weightShape, dtype: rows.dtype, device: rows.device)
        return [indexAdd(zero, dim: 0, index: idx, source: rows)]
    }
}
