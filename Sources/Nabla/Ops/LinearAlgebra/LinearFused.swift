// Fused forms of `linear` for the blocks of a Transformer layer, so that eager mode does what a compiled graph's
// GEMM epilogues do:
// - `linearRelu`: the ReLU runs in place over the GEMM's output (no second tensor, one pass less); its backward
//   masks the gradient once (the saved output is the mask) and goes on as `linear`'s.
// - `linear(_:weight:bias:residual:)`: a residual connection's sum, added in place to each block of the product
//   while it is in the cache (no third tensor, no pass over memory of its own); the residual's gradient is the
//   output's gradient itself.
// Both run through `Backend.linearEpilogue`: the CPU backend's own GEMM adds the bias, residual and ReLU in its
// store; the default runs the product one block of rows at a time (`EagerEpilogue`), each block's starting value,
// GEMM and ReLU back to back while the block is still in the cache, as the compiled `GemmEpilogueKernel` does. They give the
// numbers of the composite forms (the same sums in the same order), and are differentiable to any order.
// Under a trace (`compile`, ONNX export) they record their composite forms, so that graph passes see the plain ops
// (the compiled graph fuses them with its own epilogue pass).

/// `relu(linear(input, weight: weight, bias: bias))` as one op (the first layer of a Transformer's feed-forward
/// block; PyTorch's fused `addmm` + ReLU epilogue).
///
/// `weight` is `[outFeatures, inFeatures]`, `bias` `[outFeatures]`, `input` `[..., inFeatures]`; the result is
/// `[..., outFeatures]`. Mixed dtypes or devices fall back to the composite form.
/// ```swift
/// let h = linearRelu(x, weight: w1, bias: b1)   // x [4096, 256], w1 [1024, 256] -> [4096, 1024], all >= 0
/// ```
public func linearRelu(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    LinearParts.validate(input, weight, bias, op: "linearRelu")
    guard LinearParts.sameKind(input, weight, bias) && !EagerEpilogue.tracing else { return relu(linear(input, weight: weight, bias: bias)) }
    let outF = weight.shape[0], inF = weight.shape[1]
    if input.rank != 2 {
        let lead = Array(input.shape.dropLast())
        return linearRelu(input.reshape([lead.reduce(1, *), inF]), weight: weight, bias: bias).reshape(lead + [outF])
    }
    let out = Tensor(empty: [input.shape[0], outF], dtype: input.dtype, device: input.device)
    out.backend.linearEpilogue(input, weight: weight, bias: bias, residual: nil, relu: true, out: out)
    let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
    guard isRecording(inputs) else { return out }
    return record(out, op: "LinearReluBackward", inputs: inputs, saving: [input, weight], saveOutput: true) { g, node in
        let y = node.savedOutputValue()
        // The ReLU's derivative is a constant mask: under createGraph the masked gradient is a differentiable multiply.
        let masked = isGradEnabled ? g[0] * y.ne(0).to(g[0].dtype)
                                   : OpSupport.binary(.thresholdBackward, g[0], y, name: "linearRelu")
        return LinearParts.gradients(masked, input, weight, bias)
    }
}

/// `residual + linear(input, weight: weight, bias: bias)` as one op (a residual connection around a projection,
/// as in a Transformer block's `x + linear2(h)`).
///
/// `residual` has the result's shape, `[..., outFeatures]`; it is added to each block of rows of the product right
/// after that block's GEMM, in the composite form's order. Mixed dtypes or devices fall back to the composite form.
/// ```swift
/// let y = linear(h, weight: w2, bias: b2, residual: x)   // h [4096, 1024], w2 [256, 1024], x [4096, 256]
/// ```
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, residual: Tensor) -> Tensor {
    LinearParts.validate(input, weight, bias, op: "linear")
    let outF = weight.shape[0], inF = weight.shape[1]
    let outShape = Array(input.shape.dropLast()) + [outF]
    check(residual.shape == outShape,
          "linear: expected a residual of the output's shape \(outShape) (input \(input.shape), weight \(weight.shape)), got \(residual.shape)")
    guard LinearParts.sameKind(input, weight, bias) && residual.dtype == input.dtype && residual.device == input.device
            && !EagerEpilogue.tracing else {
        return residual + linear(input, weight: weight, bias: bias)
    }
    if input.rank != 2 {
        let rows = outShape.dropLast().reduce(1, *)
        return linear(input.reshape([rows, inF]), weight: weight, bias: bias, residual: residual.reshape([rows, outF]))
            .reshape(outShape)
    }
    let out = Tensor(empty: [input.shape[0], outF], dtype: input.dtype, device: input.device)
    // The residual is added after the GEMM, not before it: `(bias + product) + residual` rounds as the composite form
    // and the compiled graph's epilogue do, so eager and compiled steps give the same numbers.
    out.backend.linearEpilogue(input, weight: weight, bias: bias, residual: residual, relu: false, out: out)
    let inputs = (bias.map { [input, weight, $0] } ?? [input, weight]) + [residual]
    guard isRecording(inputs) else { return out }
    return record(out, op: "AddLinearBackward", inputs: inputs, saving: [input, weight]) { g, _ in
        LinearParts.gradients(g[0], input, weight, bias)
            + [residual.requiresGradFlag || residual.tangent != nil ? g[0] : nil]
    }
}
