// The inference linear layer with prepared weights (`PreparedLinear`).

/// `input @ weightᵀ + bias` with prepared (constant) weights, for inference (`torch.nn.functional.linear` on a
/// frozen, prepacked layer).
///
/// `input` is [..., inFeatures]; the result [..., outFeatures]. When autograd records (an input that requires grad,
/// grad mode on) it runs the differentiable `linear(_:weight:bias:)` instead, so gradients reach `input` (never the
/// prepared weights, which are constants).
/// ```swift
/// let fc = PreparedLinear(weight: w, bias: b)
/// let y = noGrad { linear(x, prepared: fc) }
/// ```
public func linear(_ input: Tensor, prepared: PreparedLinear) -> Tensor {
    let w = prepared.weight, outF = w.shape[0], inF = w.shape[1]
    check(input.rank >= 1 && input.shape[input.rank - 1] == inF,
          "linear(prepared:): input shape \(input.shape) does not match weight shape \(w.shape): expected last dimension \(inF)")
    check(input.dtype == w.dtype && input.device == w.device,
          "linear(prepared:): expected input \(w.dtype) on \(w.device), got \(input.dtype) on \(input.device)")
    if isRecording(input) { return linear(input, weight: w, bias: prepared.bias) }
    if input.rank != 2 {
        let lead = Array(input.shape.dropLast())
        return linear(input.reshape([lead.reduce(1, *), inF]), prepared: prepared).reshape(lead + [outF])
    }
    let out = Tensor(empty: [input.shape[0], outF], dtype: input.dtype, device: input.device)
    if out.count > 0 { input.backend.linear(input.contiguousNoGrad(), prepared: prepared, out: out) }
    return out
}
