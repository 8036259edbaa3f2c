// The affine map of a fully connected layer, `y = x Wᵀ + b`, as one op (`torch.nn.functional.linear`).
//
// Written out as `matmul(x, W.t()) + b` it costs three passes more than it needs: the bias is a separate
// broadcast add, and the weight gradient comes out as a transposed view that gradient accumulation must copy.
// Here the bias is written into the output and the GEMM adds the product onto it (beta = 1), and the weight
// gradient is computed as `gᵀ x`, which BLAS writes contiguous in the weight's own layout.

/// Applies `y = input @ weightᵀ + bias` over the last dim of `input` (`torch.nn.functional.linear`).
///
/// `weight` is `[outFeatures, inFeatures]`, `bias` `[outFeatures]`; `input` is `[..., inFeatures]` and the
/// result `[..., outFeatures]`. Differentiable in all three, to any order.
/// ```swift
/// let y = linear(x, weight: w, bias: b)   // x [32, 784], w [128, 784], b [128] -> [32, 128]
/// ```
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    check(weight.rank == 2, "linear: expected a 2-D weight [outFeatures, inFeatures], got shape \(weight.shape)")
    let outF = weight.shape[0], inF = weight.shape[1]
    check(input.rank >= 1 && input.shape[input.rank - 1] == inF,
          "linear: input shape \(input.shape) does not match weight shape \(weight.shape): expected last dimension \(inF)")
    if let bias {
        check(bias.rank == 1 && bias.shape[0] == outF,
              "linear: expected a bias of shape [\(outF)] for weight shape \(weight.shape), got \(bias.shape)")
    }
    let sameKind = input.dtype == weight.dtype && input.dtype.isFloatingPoint && input.device == weight.device
        && bias.map { $0.dtype == input.dtype && $0.device == input.device } ?? true
    guard sameKind else {
        // Mixed dtypes or devices: the composite form promotes and checks like any other op.
        let y = matmul(input, weight.t())
        return bias.map { y + $0 } ?? y
    }
    if input.rank != 2 {
        let lead = Array(input.shape.dropLast())
        let rows = input.reshape([lead.reduce(1, *), inF])
        return linear(rows, weight: weight, bias: bias).reshape(lead + [outF])
    }
    // Wᵀ as a plain view (no autograd node: the op records its own backward below).
    let weightT = weight.aliased(ViewGeometry(shape: [inF, outF], strides: [weight.strides[1], weight.strides[0]],
                                              offset: weight.offset))
    let out = addProductNoGrad(bias, input, weightT)
    let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
    guard isRecording(inputs) else { return out }
    return record(out, op: "LinearBackward", inputs: inputs, saving: [input, weight]) { g, _ in
        let grad = g[0]
        var grads: [Tensor?] = [input.requiresGradFlag || input.tangent != nil ? matmul(grad, weight) : nil,
                                weight.requiresGradFlag || weight.tangent != nil ? matmul(grad.mT, input) : nil]
        if let bias { grads.append(bias.requiresGradFlag || bias.tangent != nil ? grad.sum(dim: 0) : nil) }
        return grads
    }
}
