// Activation functions as free functions and methods (`torch.nn.functional.relu`, `gelu`, ...).
//
// The common ones run one backend kernel with a dedicated backward; the rest are compositions whose
// gradients come from their parts.

/// How `gelu` computes the Gaussian CDF (PyTorch's `approximate=` argument: `"none"` or `"tanh"`).
public enum GeluApproximate: String, Sendable, CaseIterable {
    /// The exact form `x * Φ(x)` with the error function.
    case none
    /// The tanh approximation `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    case tanh
}

/// `max(x, 0)`, element-wise (`torch.relu`, `F.relu`); NaN stays NaN; integer tensors stay integral.
///
/// The backward is one mask multiply on the saved output (zero where the output is 0).
/// ```swift
/// relu(Tensor([-1, 0.5]))   // tensor([0., 0.5])
/// ```
public func relu(_ x: Tensor) -> Tensor {
    let out = OpSupport.unary(.relu, x)
    guard isRecording(x) else { return out }
    let backward: PairBackwardFunction = { g, node in
        // Recording (higher order): a differentiable mask multiply; otherwise one fused kernel.
        (isGradEnabled ? g * node.output().ne(0).to(g.dtype) : OpSupport.binary(.thresholdBackward, g, node.savedOutputValue(), name: "relu"), nil)
    }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "ReluBackward", x, nil, saveOutput: true, pairBackward: backward)
        return out
    }
    return record(out, op: "ReluBackward", inputs: [x], saveOutput: true, jvp: { t in t[0]! * out.ne(0).to(out.dtype) }, pairBackward: backward)
}

/// `x` where positive, `negativeSlope * x` elsewhere (`F.leaky_relu`).
public func leakyRelu(_ x: Tensor, negativeSlope: Double = 0.01) -> Tensor {
    let out = OpSupport.unary(.leakyRelu(negativeSlope), x)
    guard isRecording(x) else { return out }
    return record(out, op: "LeakyReluBackward", inputs: [x], saving: [x]) { g, _ in
        [`where`(x.gt(0), g[0], g[0] * negativeSlope)]
    }
}

/// `x` where positive, `alpha * (e^x - 1)` elsewhere (`F.elu`).
public func elu(_ x: Tensor, alpha: Double = 1) -> Tensor {
    let out = OpSupport.unary(.elu(alpha), x)
    guard isRecording(x) else { return out }
    return record(out, op: "EluBackward", inputs: [x], saving: [x]) { g, _ in
        [`where`(x.le(0), g[0] * x.exp() * alpha, g[0])]
    }
}

/// Scaled ELU with PyTorch's fixed constants (`F.selu`).
public func selu(_ x: Tensor) -> Tensor {
    elu(x, alpha: 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946
}

/// `max(0, x) + min(0, alpha * (e^(x/alpha) - 1))` (`F.celu`).
public func celu(_ x: Tensor, alpha: Double = 1) -> Tensor {
    check(alpha != 0, "celu: alpha must not be 0")
    return alpha == 1 ? elu(x) : elu(x / alpha) * alpha
}

/// Gaussian error linear unit `x * Φ(x)` (`F.gelu`), exact or with the tanh approximation.
///
/// ```swift
/// gelu(x)                         // exact, PyTorch's default
/// gelu(x, approximate: .tanh)     // GPT-2 style
/// ```
public func gelu(_ x: Tensor, approximate: GeluApproximate = .none) -> Tensor {
    let out = OpSupport.unary(approximate == .tanh ? .geluTanh : .gelu, x)
    guard isRecording(x) else { return out }
    if approximate == .tanh {
        return record(out, op: "GeluBackward", inputs: [x], saving: [x]) { g, _ in
            let k = 0.79788456080286535588, c = 0.044715
            let x2 = x * x
            let t = ((x + x2 * x * c) * k).tanh()
            let d = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * (x2 * (3 * c) + 1) * k
            return [g[0] * d]
        }
    }
    return record(out, op: "GeluBackward", inputs: [x], saving: [x]) { g, _ in
        let cdf = ((x * 0.70710678118654752440).erf() + 1) * 0.5
        let pdf = (x * x * -0.5).exp() * 0.39894228040143267794
        return [g[0] * (cdf + x * pdf)]
    }
}

/// `x * sigmoid(x)`, also called swish (`F.silu`).
public func silu(_ x: Tensor) -> Tensor {
    let out = OpSupport.unary(.silu, x)
    guard isRecording(x) else { return out }
    return record(out, op: "SiluBackward", inputs: [x], saving: [x]) { g, _ in
        let s = x.sigmoid()
        return [g[0] * s * (x * (1 - s) + 1)]
    }
}

/// `log(1 + e^(beta x)) / beta`, linear where `beta x > threshold` (`F.softplus`).
public func softplus(_ x: Tensor, beta: Double = 1, threshold: Double = 20) -> Tensor {
    check(beta != 0, "softplus: beta must not be 0")
    let out = OpSupport.unary(.softplus(beta: beta, threshold: threshold), x)
    guard isRecording(x) else { return out }
    return record(out, op: "SoftplusBackward", inputs: [x], saving: [x]) { g, _ in
        let z = x * beta
        return [`where`(z.gt(threshold), g[0], g[0] * z.sigmoid())]
    }
}

/// Clamps into `[minVal, maxVal]` (`F.hardtanh`); the gradient is zero outside the open interval.
public func hardtanh(_ x: Tensor, minVal: Double = -1, maxVal: Double = 1) -> Tensor {
    check(maxVal >= minVal, "hardtanh: maxVal (\(maxVal)) must be >= minVal (\(minVal))")
    let out = OpSupport.unary(.clamp(min: minVal, max: maxVal), x)
    guard isRecording(x) else { return out }
    return record(out, op: "HardtanhBackward", inputs: [x], saving: [x]) { g, _ in
        [`where`(x.le(minVal).logicalOr(x.ge(maxVal)), 0.0, g[0])]
    }
}

/// `min(max(x, 0), 6)` (`F.relu6`).
public func relu6(_ x: Tensor) -> Tensor { hardtanh(x, minVal: 0, maxVal: 6) }

/// `relu6(x + 3) / 6` (`F.hardsigmoid`).
public func hardsigmoid(_ x: Tensor) -> Tensor { relu6(x + 3) / 6 }

/// `x * relu6(x + 3) / 6` (`F.hardswish`).
public func hardswish(_ x: Tensor) -> Tensor { x * hardsigmoid(x) }

/// `log(sigmoid(x))`, computed stably as `-softplus(-x)` (`F.logsigmoid`).
public func logsigmoid(_ x: Tensor) -> Tensor { -softplus(-x) }

/// `x / (1 + |x|)` (`F.softsign`).
public func softsign(_ x: Tensor) -> Tensor { x / (x.abs() + 1) }

/// `x * tanh(softplus(x))` (`F.mish`).
public func mish(_ x: Tensor) -> Tensor { x * softplus(x).tanh() }

extension Tensor {
    /// `max(self, 0)` (`Tensor.relu`).
    public func relu() -> Tensor { Nabla.relu(self) }
    /// Leaky ReLU (`F.leaky_relu`).
    public func leakyRelu(negativeSlope: Double = 0.01) -> Tensor { Nabla.leakyRelu(self, negativeSlope: negativeSlope) }
    /// ELU (`F.elu`).
    public func elu(alpha: Double = 1) -> Tensor { Nabla.elu(self, alpha: alpha) }
    /// SELU (`F.selu`).
    public func selu() -> Tensor { Nabla.selu(self) }
    /// CELU (`F.celu`).
    public func celu(alpha: Double = 1) -> Tensor { Nabla.celu(self, alpha: alpha) }
    /// GELU, exact or tanh-approximated (`F.gelu`).
    public func gelu(approximate: GeluApproximate = .none) -> Tensor { Nabla.gelu(self, approximate: approximate) }
    /// SiLU / swish (`F.silu`).
    public func silu() -> Tensor { Nabla.silu(self) }
    /// Softplus (`F.softplus`).
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor { Nabla.softplus(self, beta: beta, threshold: threshold) }
    /// Hardtanh (`F.hardtanh`).
    public func hardtanh(minVal: Double = -1, maxVal: Double = 1) -> Tensor { Nabla.hardtanh(self, minVal: minVal, maxVal: maxVal) }
    /// ReLU6 (`F.relu6`).
    public func relu6() -> Tensor { Nabla.relu6(self) }
    /// Hard sigmoid (`F.hardsigmoid`).
    public func hardsigmoid() -> Tensor { Nabla.hardsigmoid(self) }
    /// Hard swish (`F.hardswish`).
    public func hardswish() -> Tensor { Nabla.hardswish(self) }
    /// Log-sigmoid (`F.logsigmoid`).
    public func logsigmoid() -> Tensor { Nabla.logsigmoid(self) }
    /// Softsign (`F.softsign`).
    public func softsign() -> Tensor { Nabla.softsign(self) }
    /// Mish (`F.mish`).
    public func mish() -> Tensor { Nabla.mish(self) }
}
