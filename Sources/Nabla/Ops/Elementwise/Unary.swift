// Element-wise math functions of one tensor (`torch.exp`, `torch.sin`, ...), each with its backward.
//
// Every op runs one backend unary kernel; integer inputs of float-only functions are promoted to
// float32 (`UnaryOp.needsFloat`), while abs, sign, square, floor, ceil, round and trunc keep integer dtypes.

/// Runs `op` and records a node whose gradient is `g * derivative(v)`, where `v` is the output
/// (when `fromOutput`) or the input.
@inline(__always)
private func unaryOp(_ op: UnaryOp, _ x: Tensor, _ name: String, fromOutput: Bool,
                     _ derivative: @escaping (Tensor) -> Tensor) -> Tensor {
    let out = OpSupport.unary(op, x)
    guard isRecording(x) else { return out }
    if fromOutput {
        return record(out, op: name, inputs: [x], saveOutput: true,
                      jvp: { t in t[0]! * derivative(out.detached()) }) { g, node in [g[0] * derivative(node.output())] }
    }
    return record(out, op: name, inputs: [x], saving: [x],
                  jvp: { t in t[0]! * derivative(x.detached()) }) { g, _ in [g[0] * derivative(x)] }
}

/// Runs a piecewise-constant `op` (floor, sign, ...) whose gradient is zero everywhere.
@inline(__always)
private func zeroGradOp(_ op: UnaryOp, _ x: Tensor, _ name: String) -> Tensor {
    zeroGradient(OpSupport.unary(op, x), x, name)
}

/// Records `out` (computed from `x`) with a zero gradient.
@inline(__always)
private func zeroGradient(_ out: Tensor, _ x: Tensor, _ name: String) -> Tensor {
    guard isRecording(x) else { return out }
    return record(out, op: name, inputs: [x], jvp: { t in Tensor.zerosLike(t[0]!) }) { g, _ in [Tensor.zerosLike(g[0])] }
}

/// Absolute value, element-wise (`torch.abs`); integer tensors stay integral.
///
/// The gradient is `sign(x)` (zero at 0, as PyTorch).
/// ```swift
/// Tensor([-1.5, 2]).abs()   // tensor([1.5, 2.])
/// ```
public func abs(_ x: Tensor) -> Tensor { unaryOp(.abs, x, "AbsBackward", fromOutput: false) { $0.sign() } }

/// The sign of each element: -1, 0 or 1 (`torch.sign`); NaN stays NaN. Zero gradient.
public func sign(_ x: Tensor) -> Tensor { zeroGradOp(.sign, x, "SignBackward") }

/// `e^x`, element-wise (`torch.exp`).
public func exp(_ x: Tensor) -> Tensor { unaryOp(.exp, x, "ExpBackward", fromOutput: true) { $0 } }

/// Natural logarithm, element-wise (`torch.log`); `log(0) = -inf`, negative inputs give NaN.
public func log(_ x: Tensor) -> Tensor { unaryOp(.log, x, "LogBackward", fromOutput: false) { $0.reciprocal() } }

/// `log(1 + x)`, accurate for small `x` (`torch.log1p`).
public func log1p(_ x: Tensor) -> Tensor { unaryOp(.log1p, x, "Log1PBackward", fromOutput: false) { ($0 + 1).reciprocal() } }

/// `e^x - 1`, accurate for small `x` (`torch.expm1`).
public func expm1(_ x: Tensor) -> Tensor { unaryOp(.expm1, x, "Expm1Backward", fromOutput: true) { $0 + 1 } }

/// Base-2 logarithm (`torch.log2`).
public func log2(_ x: Tensor) -> Tensor { log(x) * 1.4426950408889634074 }

/// Base-10 logarithm (`torch.log10`).
public func log10(_ x: Tensor) -> Tensor { log(x) * 0.43429448190325182765 }

/// Square root, element-wise (`torch.sqrt`).
public func sqrt(_ x: Tensor) -> Tensor { unaryOp(.sqrt, x, "SqrtBackward", fromOutput: true) { 0.5 / $0 } }

/// `1 / sqrt(x)`, element-wise (`torch.rsqrt`).
public func rsqrt(_ x: Tensor) -> Tensor { unaryOp(.rsqrt, x, "RsqrtBackward", fromOutput: true) { $0 * $0 * $0 * -0.5 } }

/// `x * x`, element-wise (`torch.square`); integer tensors stay integral.
public func square(_ x: Tensor) -> Tensor { unaryOp(.square, x, "PowBackward0", fromOutput: false) { $0 * 2 } }

/// `1 / x`, element-wise (`torch.reciprocal`).
public func reciprocal(_ x: Tensor) -> Tensor { unaryOp(.reciprocal, x, "ReciprocalBackward", fromOutput: true) { -($0 * $0) } }

/// Sine, element-wise, in radians (`torch.sin`).
public func sin(_ x: Tensor) -> Tensor { unaryOp(.sin, x, "SinBackward", fromOutput: false) { $0.cos() } }

/// Cosine, element-wise, in radians (`torch.cos`).
public func cos(_ x: Tensor) -> Tensor { unaryOp(.cos, x, "CosBackward", fromOutput: false) { -$0.sin() } }

/// Tangent, element-wise, in radians (`torch.tan`).
public func tan(_ x: Tensor) -> Tensor { unaryOp(.tan, x, "TanBackward", fromOutput: true) { $0 * $0 + 1 } }

/// Hyperbolic tangent, element-wise (`torch.tanh`).
public func tanh(_ x: Tensor) -> Tensor { unaryOp(.tanh, x, "TanhBackward", fromOutput: true) { 1 - $0 * $0 } }

/// The logistic function `1 / (1 + e^-x)` (`torch.sigmoid`), computed without overflow.
public func sigmoid(_ x: Tensor) -> Tensor { unaryOp(.sigmoid, x, "SigmoidBackward", fromOutput: true) { $0 * (1 - $0) } }

/// The error function (`torch.erf`).
public func erf(_ x: Tensor) -> Tensor {
    unaryOp(.erf, x, "ErfBackward", fromOutput: false) { exp(-($0 * $0)) * 1.1283791670955125739 }
}

/// The inverse error function (`torch.erfinv`): `erf(erfinv(y)) = y` on (-1, 1), `±∞` at `±1`, NaN outside.
///
/// The gradient is `√π / 2 · exp(erfinv(y)²)`.
/// ```swift
/// Tensor([0.0, 0.5, -0.9]).erfinv()   // tensor([0.0000, 0.4769, -1.1631])
/// ```
public func erfinv(_ x: Tensor) -> Tensor {
    unaryOp(.erfinv, x, "ErfinvBackward", fromOutput: true) { exp($0 * $0) * 0.88622692545275801365 }
}

/// Rounds down to an integer value (`torch.floor`); zero gradient.
public func floor(_ x: Tensor) -> Tensor { zeroGradOp(.floor, x, "FloorBackward") }

/// Rounds up to an integer value (`torch.ceil`); zero gradient.
public func ceil(_ x: Tensor) -> Tensor { zeroGradOp(.ceil, x, "CeilBackward") }

/// Rounds half to even (`torch.round`); with `decimals`, rounds to that many decimal places. Zero gradient.
public func round(_ x: Tensor, decimals: Int = 0) -> Tensor {
    if decimals == 0 { return zeroGradOp(.round, x, "RoundBackward") }
    check(x.dtype.isFloatingPoint, "round: decimals is only supported for floating tensors, got \(x.dtype)")
    var ten = 1.0
    for _ in 0..<Swift.abs(decimals) { ten *= 10 }
    let (up, down): (BinaryOp, BinaryOp) = decimals > 0 ? (.mul, .div) : (.div, .mul)
    let scaled = OpSupport.unary(.round, OpSupport.binaryScalar(up, x, ten, reversed: false, name: "round"))
    return zeroGradient(OpSupport.binaryScalar(down, scaled, ten, reversed: false, name: "round"), x, "RoundBackward")
}

/// Rounds toward zero (`torch.trunc`); zero gradient.
public func trunc(_ x: Tensor) -> Tensor { zeroGradOp(.trunc, x, "TruncBackward") }

/// The fractional part `x - trunc(x)` (`torch.frac`).
public func frac(_ x: Tensor) -> Tensor { x - trunc(x) }

extension Tensor {
    /// Absolute value (`Tensor.abs`).
    public func abs() -> Tensor { Nabla.abs(self) }
    /// Sign: -1, 0 or 1 (`Tensor.sign`).
    public func sign() -> Tensor { Nabla.sign(self) }
    /// `e^self` (`Tensor.exp`).
    public func exp() -> Tensor { Nabla.exp(self) }
    /// Natural logarithm (`Tensor.log`).
    public func log() -> Tensor { Nabla.log(self) }
    /// `log(1 + self)` (`Tensor.log1p`).
    public func log1p() -> Tensor { Nabla.log1p(self) }
    /// `e^self - 1` (`Tensor.expm1`).
    public func expm1() -> Tensor { Nabla.expm1(self) }
    /// Base-2 logarithm (`Tensor.log2`).
    public func log2() -> Tensor { Nabla.log2(self) }
    /// Base-10 logarithm (`Tensor.log10`).
    public func log10() -> Tensor { Nabla.log10(self) }
    /// Square root (`Tensor.sqrt`).
    public func sqrt() -> Tensor { Nabla.sqrt(self) }
    /// `1 / sqrt(self)` (`Tensor.rsqrt`).
    public func rsqrt() -> Tensor { Nabla.rsqrt(self) }
    /// `self * self` (`Tensor.square`).
    public func square() -> Tensor { Nabla.square(self) }
    /// `1 / self` (`Tensor.reciprocal`).
    public func reciprocal() -> Tensor { Nabla.reciprocal(self) }
    /// Sine (`Tensor.sin`).
    public func sin() -> Tensor { Nabla.sin(self) }
    /// Cosine (`Tensor.cos`).
    public func cos() -> Tensor { Nabla.cos(self) }
    /// Tangent (`Tensor.tan`).
    public func tan() -> Tensor { Nabla.tan(self) }
    /// Hyperbolic tangent (`Tensor.tanh`).
    public func tanh() -> Tensor { Nabla.tanh(self) }
    /// Logistic sigmoid (`Tensor.sigmoid`).
    public func sigmoid() -> Tensor { Nabla.sigmoid(self) }
    /// Error function (`Tensor.erf`).
    public func erf() -> Tensor { Nabla.erf(self) }
    /// Inverse error function (`Tensor.erfinv`).
    public func erfinv() -> Tensor { Nabla.erfinv(self) }
    /// Rounds down (`Tensor.floor`).
    public func floor() -> Tensor { Nabla.floor(self) }
    /// Rounds up (`Tensor.ceil`).
    public func ceil() -> Tensor { Nabla.ceil(self) }
    /// Rounds half to even, optionally to `decimals` places (`Tensor.round`).
    public func round(decimals: Int = 0) -> Tensor { Nabla.round(self, decimals: decimals) }
    /// Rounds toward zero (`Tensor.trunc`).
    public func trunc() -> Tensor { Nabla.trunc(self) }
    /// Fractional part (`Tensor.frac`).
    public func frac() -> Tensor { Nabla.frac(self) }
}
