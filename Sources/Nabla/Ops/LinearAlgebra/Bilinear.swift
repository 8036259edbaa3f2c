// The bilinear form y = x1ᵀ A x2 + b, built from matmul (autograd comes from its parts).

/// `y[..., o] = Σᵢⱼ x1[..., i] · weight[o, i, j] · x2[..., j] + bias[o]` (`torch.nn.functional.bilinear`).
///
/// ```swift
/// let y = bilinear(Tensor.randn([8, 5]), Tensor.randn([8, 4]), Tensor.randn([3, 5, 4]))   // [8, 3]
/// ```
/// - Parameters:
///   - x1: `(*, in1)`.
///   - x2: `(*, in2)` with the same leading dims as `x1`.
///   - weight: `(out, in1, in2)`.
///   - bias: optional `(out)`.
public func bilinear(_ x1: Tensor, _ x2: Tensor, _ weight: Tensor, _ bias: Tensor? = nil) -> Tensor {
    check(weight.rank == 3, "bilinear: weight must be 3-D (out, in1, in2), got shape \(weight.shape)")
    let o = weight.shape[0], i1 = weight.shape[1], i2 = weight.shape[2]
    check(x1.rank >= 1 && x2.rank == x1.rank && x1.shape.dropLast() == x2.shape.dropLast()
          && x1.shape.last == i1 && x2.shape.last == i2,
          "bilinear: expected inputs (*, \(i1)) and (*, \(i2)) with equal leading dims, got \(x1.shape) and \(x2.shape)")
    if let bias { check(bias.shape == [o], "bilinear: bias must have shape [\(o)], got \(bias.shape)") }
    let lead = Array(x1.shape.dropLast())
    // x1 @ W viewed as (in1, out * in2), then contract in2 with x2.
    let w = weight.permute(1, 0, 2).reshape([i1, o * i2])
    let t = matmul(x1.reshape([-1, i1]), w).reshape([-1, o, i2])
    let y = matmul(t, x2.reshape([-1, i2, 1])).reshape(lead + [o])
    if let bias { return y + bias }
    return y
}
