// The affine map of a fully connected layer, `y = x Wᵀ + b`, as one op (`torch.nn.functional.linear`).
//
// Written out as `matmul(x, W.t()) + b` it costs three passes more than it needs: the bias is a separate
// broadcast add, and the weight gradient comes out as a transposed view that gradient accumulation must copy.
// Here the bias is written into the output and the GEMM adds the product onto it (beta = 1), and the weight
// gradient is computed as `gᵀ x`, which BLAS writes contiguous in the weight's own layout.
// The fused forms (`linearRelu`, `linear(_:weight:bias:residual:)`) live in LinearFused.swift and share the
// checks and gradients below.

/// Applies `y = input @ weightᵀ + bias` over the last dim of `input` (`torch.nn.functional.linear`).
///
/// `weight` is `[outFeatures, inFeatures]`, `bias` `[outFeatures]`; `input` is `[..., inFeatures]` and the
/// result `[..., outFeatures]`. Differentiable in all three, to any order.
/// ```swift
/// let y = linear(x, weight: w, bias: b)   // x [32, 784], w [128, 784], b [128] -> [32, 128]
/// ```
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    LinearParts.validate(input, weight, bias, op: "linear")
    guard LinearParts.sameKind(input, weight, bias) else {
        // Mixed dtypes or devices: the composite form promotes and checks like any other op.
        let y = matmul(input, weight.t())
        return bias.map { y + $0 } ?? y
    }
    let outF = weight.shape[0], inF = weight.shape[1]
    if input.rank != 2 {
        let lead = Array(input.shape.dropLast())
        let rows = input.reshape([lead.reduce(1, *), inF])
        return linear(rows, weight: weight, bias: bias).reshape(lead + [outF])
    }
    let out = Tensor(empty: [input.shape[0], outF], dtype: input.dtype, device: input.device)
    out.backend.linearEpilogue(input, weight: weight, bias: bias, residual: nil, relu: false, out: out)
    let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
    guard isRecording(inputs) else { return out }
    return record(out, op: "LinearBackward", inputs: inputs, saving: [input, weight]) { g, _ in
        LinearParts.gradients(g[0], input, weight, bias)
    }
}

/// The shape checks, fast-path test and gradients `linear` and its fused forms share.
enum LinearParts {
    /// Stops with a message naming `op` unless `weight` is `[outF, inF]`, `input` `[..., inF]` and `bias` `[outF]`.
    static func validate(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, op: StaticString) {
        check(weight.rank == 2, "\(op): expected a 2-D weight [outFeatures, inFeatures], got shape \(weight.shape)")
        let outF = weight.shape[0], inF = weight.shape[1]
        check(input.rank >= 1 && input.shape[input.rank - 1] == inF,
                    "\(op): input shape \(input.shape) does not match weight shape \(weight.shape): expected last dimension \(inF)")
        if let bias {
            check(bias.rank == 1 && bias.shape[0] == outF,
                        "\(op): expected a bias of shape [\(outF)] for weight shape \(weight.shape), got \(bias.shape)")
        }
    }

    /// Whether all operands share one floating dtype and one device (the fused GEMM path); otherwise the op runs
    /// its composite form, which promotes.
    static func sameKind(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Bool {
        input.dtype == weight.dtype && input.dtype.isFloatingPoint && input.device == weight.device
            && bias.map { $0.dtype == input.dtype && $0.device == input.device } ?? true
    }

    /// The gradients of `input` (`[rows, inF]`), `weight` and `bias` (when given) from the gradient `grad`
    /// (`[rows, outF]`) of `input @ weightᵀ + bias`, in that order; nil for an operand that needs none.
    static func gradients(_ grad: Tensor, _ input: Tensor, _ weight: Tensor, _ bias: Tensor?) -> [Tensor?] {
        var grads: [Tensor?] = [input.requiresGradFlag || input.tangent != nil ? matmul(grad, weight) : nil,
                                weight.requiresGradFlag || weight.tangent != nil ? matmul(grad.mT, input) : nil]
        if let bias { grads.append(bias.requiresGradFlag || bias.tangent != nil ? grad.sum(dim: 0) : nil) }
        return grads
    }
}
