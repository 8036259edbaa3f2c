// Element-wise functions of two tensors beyond the four arithmetic ops: pow, maximum, minimum,
// atan2, remainder, floorDivide — with broadcasting and their backward.

import RealModule

/// Whether the backward must produce a gradient for `t`.
@inline(__always) private func needsGrad(_ t: Tensor) -> Bool { t.requiresGradFlag || t.tangent != nil }

/// `input ** exponent` element-wise with broadcasting (`torch.pow`).
///
/// Integer tensors stay integral. Gradients follow PyTorch: zero for `input` where `exponent == 0`,
/// zero for `exponent` where `input == 0 && exponent >= 0` (instead of `0 * log 0`).
/// ```swift
/// pow(x, y)       // x.pow(y)
/// ```
public func pow(_ input: Tensor, _ exponent: Tensor) -> Tensor {
    let out = OpSupport.binary(.pow, input, exponent, name: "pow")
    guard isRecording(input, exponent) else { return out }
    let sa = input.shape, sb = exponent.shape
    return record(out, op: "PowBackward1", inputs: [input, exponent], saving: [input, exponent], saveOutput: true) { g, node in
        let g = g[0]
        var ga: Tensor? = nil, gb: Tensor? = nil
        if needsGrad(input) {
            ga = `where`(exponent.eq(0), 0.0, g * exponent * pow(input, exponent - 1)).sumTo(sa)
        }
        if needsGrad(exponent) {
            let zero = input.eq(0).logicalAnd(exponent.ge(0))
            gb = `where`(zero, 0.0, g * node.output() * input.log()).sumTo(sb)
        }
        return [ga, gb]
    }
}

/// `input ** exponent` with a scalar exponent (`torch.pow(x, 2.5)`, `x.pow(2)`).
///
/// Integer tensors with a non-negative integral exponent stay integral.
public func pow(_ input: Tensor, _ exponent: Double) -> Tensor {
    if !input.dtype.isFloatingPoint && exponent == exponent.rounded() && Swift.abs(exponent) < 9.0e18 {
        check(exponent >= 0, "pow: integers to negative integer powers are not allowed (exponent \(exponent), dtype \(input.dtype))")
        return OpSupport.binaryScalar(.pow, input, exponent, reversed: false, name: "pow")
    }
    let out = OpSupport.unary(.powScalar(exponent), input)
    guard isRecording(input) else { return out }
    return record(out, op: "PowBackward0", inputs: [input], saving: [input]) { g, _ in
        if exponent == 0 { return [Tensor.zerosLike(g[0])] }
        if exponent == 1 { return [g[0]] }
        if exponent == 2 { return [g[0] * input * 2] }
        return [g[0] * pow(input, exponent - 1) * exponent]
    }
}

/// `base ** exponent` with a scalar base (`torch.pow(2, x)`).
public func pow(_ base: Double, _ exponent: Tensor) -> Tensor {
    if !exponent.dtype.isFloatingPoint && base == base.rounded() && Swift.abs(base) < 9.0e18 {
        return OpSupport.binaryScalar(.pow, exponent, base, reversed: true, name: "pow")
    }
    let out = OpSupport.unary(.rpowScalar(base), exponent)
    guard isRecording(exponent) else { return out }
    let logBase = Double.log(base)
    return record(out, op: "PowBackward2", inputs: [exponent], saving: base == 0 ? [exponent] : [], saveOutput: true) { g, node in
        let d = g[0] * node.output() * logBase
        return [base == 0 ? `where`(exponent.ge(0), 0.0, d) : d]
    }
}

/// Element-wise maximum with broadcasting (`torch.maximum`); NaN propagates; integer dtypes stay integral.
///
/// Where both are equal the gradient is split evenly between them, as PyTorch does.
public func maximum(_ input: Tensor, _ other: Tensor) -> Tensor { extremum(.maximum, input, other) }

/// Element-wise minimum with broadcasting (`torch.minimum`); NaN propagates; integer dtypes stay integral.
///
/// Where both are equal the gradient is split evenly between them, as PyTorch does.
public func minimum(_ input: Tensor, _ other: Tensor) -> Tensor { extremum(.minimum, input, other) }

/// `maximum` or `minimum`: where both are equal each gets half the gradient, else the one picked gets all of it.
private func extremum(_ op: BinaryOp, _ input: Tensor, _ other: Tensor) -> Tensor {
    let isMax = op == .maximum
    let out = OpSupport.binary(op, input, other, name: isMax ? "maximum" : "minimum")
    guard isRecording(input, other) else { return out }
    let sa = input.shape, sb = other.shape
    return record(out, op: isMax ? "MaximumBackward" : "MinimumBackward", inputs: [input, other], saving: [input, other]) { g, _ in
        let shared = `where`(input.eq(other), g[0] / 2, g[0])
        return [needsGrad(input) ? shared.maskedFill(isMax ? input.lt(other) : input.gt(other), value: 0).sumTo(sa) : nil,
                needsGrad(other) ? shared.maskedFill(isMax ? input.gt(other) : input.lt(other), value: 0).sumTo(sb) : nil]
    }
}

/// The angle of the point `(other, input)`, i.e. `atan(input / other)` in the right quadrant (`torch.atan2`).
public func atan2(_ input: Tensor, _ other: Tensor) -> Tensor {
    let out = OpSupport.binary(.atan2, input, other, name: "atan2")
    guard isRecording(input, other) else { return out }
    let sa = input.shape, sb = other.shape
    return record(out, op: "Atan2Backward", inputs: [input, other], saving: [input, other]) { g, _ in
        let r = g[0] / (input * input + other * other)
        return [needsGrad(input) ? (r * other).sumTo(sa) : nil, needsGrad(other) ? (-r * input).sumTo(sb) : nil]
    }
}

/// Python-style modulus: the result has the sign of `other` (`torch.remainder`), broadcasting.
public func remainder(_ input: Tensor, _ other: Tensor) -> Tensor {
    let out = OpSupport.binary(.remainder, input, other, name: "remainder")
    guard isRecording(input, other) else { return out }
    let sa = input.shape, sb = other.shape
    return record(out, op: "RemainderBackward", inputs: [input, other], saving: [input, other]) { g, _ in
        [g[0].sumTo(sa), needsGrad(other) ? (-g[0] * floorDivide(input, other)).sumTo(sb) : nil]
    }
}

/// Python-style modulus by a scalar (`torch.remainder(x, 3)`).
public func remainder(_ input: Tensor, _ other: Double) -> Tensor {
    let out = OpSupport.binaryScalar(.remainder, input, other, reversed: false, name: "remainder")
    guard isRecording(input) else { return out }
    return record(out, op: "RemainderBackward", inputs: [input]) { g, _ in [g[0]] }
}

/// `floor(input / other)` element-wise with broadcasting (`torch.floor_divide`); not differentiable.
public func floorDivide(_ input: Tensor, _ other: Tensor) -> Tensor {
    OpSupport.binary(.floorDivide, input, other, name: "floorDivide")
}

/// `floor(input / other)` by a scalar (`torch.floor_divide(x, 2)`); not differentiable.
public func floorDivide(_ input: Tensor, _ other: Double) -> Tensor {
    OpSupport.binaryScalar(.floorDivide, input, other, reversed: false, name: "floorDivide")
}

extension Tensor {
    /// `self ** exponent` (`Tensor.pow`).
    public func pow(_ exponent: Tensor) -> Tensor { Nabla.pow(self, exponent) }
    /// `self ** exponent` with a scalar exponent (`Tensor.pow`).
    public func pow(_ exponent: Double) -> Tensor { Nabla.pow(self, exponent) }
    /// Element-wise maximum (`Tensor.maximum`).
    public func maximum(_ other: Tensor) -> Tensor { Nabla.maximum(self, other) }
    /// Element-wise minimum (`Tensor.minimum`).
    public func minimum(_ other: Tensor) -> Tensor { Nabla.minimum(self, other) }
    /// Four-quadrant arctangent of `self / other` (`Tensor.atan2`).
    public func atan2(_ other: Tensor) -> Tensor { Nabla.atan2(self, other) }
    /// Python-style modulus (`Tensor.remainder`).
    public func remainder(_ other: Tensor) -> Tensor { Nabla.remainder(self, other) }
    /// Python-style modulus by a scalar (`Tensor.remainder`).
    public func remainder(_ other: Double) -> Tensor { Nabla.remainder(self, other) }
    /// Floor division (`Tensor.floor_divide`).
    public func floorDivide(_ other: Tensor) -> Tensor { Nabla.floorDivide(self, other) }
    /// Floor division by a scalar (`Tensor.floor_divide`).
    public func floorDivide(_ other: Double) -> Tensor { Nabla.floorDivide(self, other) }
}
