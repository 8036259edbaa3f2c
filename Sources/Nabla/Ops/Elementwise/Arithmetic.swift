// The four arithmetic ops, tensor∘tensor with broadcasting and tensor∘scalar, with their backward.

/// `input + other` with NumPy broadcasting (`torch.add`); `alpha` scales `other`.
public func add(_ input: Tensor, _ other: Tensor, alpha: Double = 1) -> Tensor {
    if alpha != 1 { return add(input, other * alpha) }
    let out = OpSupport.binary(.add, input, other, name: "add")
    guard isRecording(input, other) else { return out }
    let backward: PairBackwardFunction
    if Shape.same(input.shape, other.shape) { backward = { g, _ in (g, g) } } else {
        let sa = input.shape, sb = other.shape
        backward = { g, _ in (g.sumTo(sa), g.sumTo(sb)) }
    }
    if AutogradState.forwardLevel == 0 {   // reverse mode only: no arrays, no forward rule
        attachPairNode(out, op: "AddBackward", input, other, pairBackward: backward)
        return out
    }
    let sa = input.shape, sb = other.shape
    return record(out, op: "AddBackward", inputs: [input, other], jvp: { t in
        let r = (t[0] ?? Tensor.zeros(sa, dtype: out.dtype, device: out.device)) + (t[1] ?? Tensor.zeros(sb, dtype: out.dtype, device: out.device))
        return r.shape == out.shape ? r : r.expand(out.shape).contiguous()
    }, pairBackward: backward)
}

/// `input - other` with broadcasting (`torch.sub`).
public func sub(_ input: Tensor, _ other: Tensor, alpha: Double = 1) -> Tensor {
    if alpha != 1 { return sub(input, other * alpha) }
    let out = OpSupport.binary(.sub, input, other, name: "sub")
    guard isRecording(input, other) else { return out }
    let backward: PairBackwardFunction
    if Shape.same(input.shape, other.shape) { backward = { g, _ in (g, -g) } } else {
        let sa = input.shape, sb = other.shape
        backward = { g, _ in (g.sumTo(sa), (-g).sumTo(sb)) }
    }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "SubBackward", input, other, pairBackward: backward)
        return out
    }
    return record(out, op: "SubBackward", inputs: [input, other], pairBackward: backward)
}

/// `input * other` with broadcasting (`torch.mul`).
public func mul(_ input: Tensor, _ other: Tensor) -> Tensor {
    let out = OpSupport.binary(.mul, input, other, name: "mul")
    guard isRecording(input, other) else { return out }
    let backward: PairBackwardFunction = { g, node in
        // Reads its operands from the node's saved slots, so the closure captures nothing (no context to allocate).
        // Each term is `(g * operand).sumTo(shape)`, or nil when the engine added it into the input's gathered gradient.
        guard let input = node.savedTensor(0), let other = node.savedTensor(1) else { nablaFail("MulBackward: saved tensors were released") }
        return (input.requiresGradFlag || input.tangent != nil ? node.gradientProduct(g, other, input: 0, shape: input.shape) : nil,
                other.requiresGradFlag || other.tangent != nil ? node.gradientProduct(g, input, input: 1, shape: other.shape) : nil)
    }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "MulBackward", input, other, saveInputs: true, pairBackward: backward)
        return out
    }
    return record(out, op: "MulBackward", inputs: [input, other], saving: [input, other], jvp: { t in
        var r: Tensor? = nil
        if let ta = t[0] { r = ta * other.detached() }
        if let tb = t[1] { let q = input.detached() * tb; r = r.map { $0 + q } ?? q }
        return r!.shape == out.shape ? r! : r!.expand(out.shape).contiguous()
    }, pairBackward: backward)
}

/// `input / other` with broadcasting, true division (`torch.div`).
public func div(_ input: Tensor, _ other: Tensor) -> Tensor {
    let out = OpSupport.binary(.div, input, other, name: "div")
    guard isRecording(input, other) else { return out }
    let backward: PairBackwardFunction = { g, node in
        // Reads its operands from the node's saved slots, so the closure captures nothing.
        guard let input = node.savedTensor(0), let other = node.savedTensor(1) else { nablaFail("DivBackward: saved tensors were released") }
        return ((g / other).sumTo(input.shape),
                other.requiresGradFlag || other.tangent != nil ? (-g * input / (other * other)).sumTo(other.shape) : nil)
    }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "DivBackward", input, other, saveInputs: true, pairBackward: backward)
        return out
    }
    return record(out, op: "DivBackward", inputs: [input, other], saving: [input, other], pairBackward: backward)
}

/// `input + scalar`.
public func add(_ input: Tensor, _ scalar: Double) -> Tensor {
    let out = OpSupport.binaryScalar(.add, input, scalar, reversed: false, name: "add")
    guard isRecording(input) else { return out }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "AddBackward", input, nil, pairBackward: { g, _ in (g, nil) })
        return out
    }
    return record(out, op: "AddBackward", inputs: [input], jvp: { t in t[0]! }, pairBackward: { g, _ in (g, nil) })
}

/// `input * scalar`.
public func mul(_ input: Tensor, _ scalar: Double) -> Tensor {
    let out = OpSupport.binaryScalar(.mul, input, scalar, reversed: false, name: "mul")
    guard isRecording(input) else { return out }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "MulBackward", input, nil, scalar: scalar, pairBackward: { g, node in (g * node.savedScalar, nil) })
        return out
    }
    record(out, op: "MulBackward", inputs: [input], jvp: { t in t[0]! * scalar }, pairBackward: { g, node in (g * node.savedScalar, nil) })
    out.gradFn?.savedScalar = scalar  // read by the backward, which so captures nothing
    return out
}

/// `input / scalar` (true division).
public func div(_ input: Tensor, _ scalar: Double) -> Tensor {
    let out = OpSupport.binaryScalar(.div, input, scalar, reversed: false, name: "div")
    guard isRecording(input) else { return out }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "DivBackward", input, nil, scalar: scalar, pairBackward: { g, node in (g / node.savedScalar, nil) })
        return out
    }
    record(out, op: "DivBackward", inputs: [input], jvp: { t in t[0]! / scalar }, pairBackward: { g, node in (g / node.savedScalar, nil) })
    out.gradFn?.savedScalar = scalar  // read by the backward, which so captures nothing
    return out
}

/// `scalar / input`.
public func div(_ scalar: Double, _ input: Tensor) -> Tensor {
    let out = OpSupport.binaryScalar(.div, input, scalar, reversed: true, name: "div")
    guard isRecording(input) else { return out }
    return record(out, op: "DivBackward", inputs: [input], saving: [input]) { g, _ in [-g[0] * scalar / (input * input)] }
}

/// `-input` (`torch.neg`).
public func neg(_ input: Tensor) -> Tensor {
    let out = OpSupport.unary(.neg, input)
    guard isRecording(input) else { return out }
    if AutogradState.forwardLevel == 0 {
        attachPairNode(out, op: "NegBackward", input, nil, pairBackward: { g, _ in (-g, nil) })
        return out
    }
    return record(out, op: "NegBackward", inputs: [input], jvp: { t in -t[0]! }, pairBackward: { g, _ in (-g, nil) })
}

extension Tensor {
    /// Broadcasting addition.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { Nabla.add(lhs, rhs) }
    /// Broadcasting subtraction.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { Nabla.sub(lhs, rhs) }
    /// Broadcasting multiplication.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { Nabla.mul(lhs, rhs) }
    /// Broadcasting true division.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { Nabla.div(lhs, rhs) }
    /// Adds a scalar.
    public static func + (lhs: Tensor, rhs: Double) -> Tensor { Nabla.add(lhs, rhs) }
    /// Adds to a scalar.
    public static func + (lhs: Double, rhs: Tensor) -> Tensor { Nabla.add(rhs, lhs) }
    /// Subtracts a scalar.
    public static func - (lhs: Tensor, rhs: Double) -> Tensor { Nabla.add(lhs, -rhs) }
    /// Subtracts from a scalar.
    public static func - (lhs: Double, rhs: Tensor) -> Tensor { Nabla.add(Nabla.neg(rhs), lhs) }
    /// Multiplies by a scalar.
    public static func * (lhs: Tensor, rhs: Double) -> Tensor { Nabla.mul(lhs, rhs) }
    /// Multiplies a scalar.
    public static func * (lhs: Double, rhs: Tensor) -> Tensor { Nabla.mul(rhs, lhs) }
    /// Divides by a scalar.
    public static func / (lhs: Tensor, rhs: Double) -> Tensor { Nabla.div(lhs, rhs) }
    /// Divides a scalar.
    public static func / (lhs: Double, rhs: Tensor) -> Tensor { Nabla.div(lhs, rhs) }
    /// Negation.
    public static prefix func - (x: Tensor) -> Tensor { Nabla.neg(x) }

    /// `self + other` (`Tensor.add`).
    public func add(_ other: Tensor, alpha: Double = 1) -> Tensor { Nabla.add(self, other, alpha: alpha) }
    /// `self - other` (`Tensor.sub`).
    public func sub(_ other: Tensor, alpha: Double = 1) -> Tensor { Nabla.sub(self, other, alpha: alpha) }
    /// `self * other` (`Tensor.mul`).
    public func mul(_ other: Tensor) -> Tensor { Nabla.mul(self, other) }
    /// `self / other` (`Tensor.div`).
    public func div(_ other: Tensor) -> Tensor { Nabla.div(self, other) }
    /// `-self` (`Tensor.neg`).
    public func neg() -> Tensor { Nabla.neg(self) }
}
