
/// Whether an op on `a` must record for autograd or forward mode.
@inline(__always) func isRecording(_ a: Tensor) -> Bool {
    let f = AutogradState.flags.pointee   // one thread-local read for both flags
    return (a.tracksGrad && f.gradDisabled == 0) || (f.forwardLevel != 0 && a.tangent != nil)
}

/// Whether an op on `a` and `b` must record for autograd or forward mode.
@inline(__always) func isRecording(_ a: Tensor, _ b: Tensor) -> Bool {
    let f = AutogradState.flags.pointee
    return ((a.tracksGrad || b.tracksGrad) && f.gradDisabled == 0)
        || (f.forwardLevel != 0 && (a.tangent != nil || b.tangent != nil))
}

/// Whether an op on `inputs` must record for autograd or forward mode.
@inline(__always) func isRecording(_ inputs: [Tensor]) -> Bool {
    let f = AutogradState.flags.pointee
    if f.gradDisabled == 0 { for t in inputs where t.requiresGradFlag { return true } }
    if f.forwardLevel != 0 { for t in inputs where t.tangent != nil { return true } }
    return false
}

/// Attaches an autograd node to `out` (and, in forward mode, its tangent).
///
/// - Parameters:
///   - op: the node's name (`"mul"` gives `MulBackward`).
///   - inputs: the differentiable inputs, in the order `backward` returns their gradients.
///   - saving: tensors the backward reads; an in-place change to them before backward is an error.
///   - saveOutput: whether `backward` reads the output via `node.output()`.
///   - jvp: the forward-mode rule (tangents of the inputs, nil where none → tangent of the output);
///     without it (or when it returns nil) forward mode falls back to the double-vjp trick. It is not
///     escaping, so passing one costs nothing outside forward mode.
///   - backward: gradients of the inputs from the gradient of the output (Tensor ops only).
@discardableResult
public func record(_ out: Tensor, op: String, inputs: [Tensor], saving: [Tensor] = [], saveOutput: Bool = false,
                   jvp: ([Tensor?]) -> Tensor? = { _ in nil }, backward: @escaping BackwardFunction) -> Tensor {
    let f = AutogradState.flags.pointee
    if f.forwardLevel != 0 {
        recordOutputs([out], op: op, inputs: inputs, saving: saving, saveOutputs: saveOutput,
                      jvp: { t in jvp(t).map { [$0] } }, backward: backward)
        return out
    }
    // The common case, kept free of temporary arrays: one output, reverse mode only.
    guard f.gradDisabled == 0 && inputs.contains(where: { $0.tracksGrad }) else { return out }
    attachNode(out, op: op, inputs: inputs, saving: saving, saveOutput: saveOutput, backward: backward, pairBackward: nil)
    return out
}

/// Attaches an autograd node to `out` whose backward returns the gradients of its one or two inputs as a pair:
/// `record(_:op:inputs:saving:saveOutput:jvp:backward:)` for the hot ops, without an array of gradients.
///
/// - Parameters:
///   - inputs: one or two differentiable inputs; `pairBackward` returns their gradients in this order (the second
///     nil for one input).
///   - pairBackward: gradients of the inputs from the gradient of the output (Tensor ops only).
///
/// Inlined at its call sites, so that the optimiser can drop the `inputs:`/`saving:` array literals altogether.
@discardableResult @inline(__always)
public func record(_ out: Tensor, op: String, inputs: [Tensor], saving: [Tensor] = [], saveOutput: Bool = false,
                   jvp: ([Tensor?]) -> Tensor? = { _ in nil }, pairBackward: @escaping PairBackwardFunction) -> Tensor {
    check(inputs.count == 1 || inputs.count == 2, "\(op): a pair backward takes one or two inputs, got \(inputs.count)")
    let f = AutogradState.flags.pointee
    if f.forwardLevel != 0 {
        let one = inputs.count == 1
        recordOutputs([out], op: op, inputs: inputs, saving: saving, saveOutputs: saveOutput,
                      jvp: { t in jvp(t).map { [$0] } },
                      backward: { g, node in let (a, b) = pairBackward(g[0], node); return one ? [a] : [a, b] })
        return out
    }
    guard f.gradDisabled == 0 && inputs.contains(where: { $0.tracksGrad }) else { return out }
    attachNode(out, op: op, inputs: inputs, saving: saving, saveOutput: saveOutput, backward: nil, pairBackward: pairBackward)
    return out
}

/// The reverse-mode form of `record(_:op:inputs:saving:saveOutput:jvp:pairBackward:)` for the hot ops, with the one
/// or two inputs as parameters: no `inputs:`/`saving:` array literal to fill and destroy, and no forward-mode rule whose
/// closure would copy the op's values into its context. The caller has checked `isRecording` and that no forward-mode
/// level is active (otherwise it calls `record`, which runs the forward rule).
///
/// - Parameters:
///   - saveInputs: whether the backward reads `a` and `b` (`node.savedTensor(0)`, `(1)`).
///   - saveOutput: whether the backward reads the output (`node.output()`, `node.savedOutputValue()`).
///   - scalar: kept in `node.savedScalar` (`x * 2.0`), so the backward captures nothing.
@inline(__always)
func attachPairNode(_ out: Tensor, op: String, _ a: Tensor, _ b: Tensor?, saveInputs: Bool = false, saveOutput: Bool = false,
                    scalar: Double = 0, pairBackward: @escaping PairBackwardFunction) {
    let n = Node(name: op, outputShape: out.shape, dtype: out.dtype, device: out.device, backward: nil)
    n.pairBackwardFn = pairBackward
    n.savedScalar = scalar
    n.appendEdge(a.gradEdge)
    if let b { n.appendEdge(b.gradEdge) }
    if saveInputs {
        n.save(a)
        if let b { n.save(b) }
    }
    finishAttaching(n, to: out, saveOutput: saveOutput)
}

/// The last steps of attaching `n` to the single output `out`: save the output when backward reads it, and make
/// `n` the output's gradient function when the output can carry a gradient.
@inline(__always)
private func finishAttaching(_ n: Node, to out: Tensor, saveOutput: Bool) {
    if saveOutput {
        n.savedOutput0 = Tensor(storage: out.storage, shape: out.shape, strides: out.strides, offset: out.offset)
        n.savedOutputVersion0 = out.storage.version
    }
    if out.dtype.isFloatingPoint {
        out.gradFn = n
        out.outputNr = 0
        out.requiresGradFlag = true
    }
}

/// Makes the node of a single-output op in reverse mode and attaches it to `out` (edges and saved tensors in the
/// node's inline slots: neither array escapes).
@inline(__always)
private func attachNode(_ out: Tensor, op: String, inputs: [Tensor], saving: [Tensor], saveOutput: Bool,
                        backward: BackwardFunction?, pairBackward: PairBackwardFunction?) {
    let n = Node(name: op, outputShape: out.shape, dtype: out.dtype, device: out.device, backward: backward)
    n.pairBackwardFn = pairBackward
    for t in inputs { n.appendEdge(t.gradEdge) }
    for t in saving { n.save(t) }
    finishAttaching(n, to: out, saveOutput: saveOutput)
}

/// Attaches one autograd node to several outputs (`split`, `max` with indices, `unbind`).
public func recordOutputs(_ outs: [Tensor], op: String, inputs: [Tensor], saving: [Tensor] = [], saveOutputs: Bool = false,
                          jvp: ([Tensor?]) -> [Tensor]? = { _ in nil }, backward: @escaping BackwardFunction) {
    let needsGraph = AutogradState.gradEnabled && inputs.contains { $0.tracksGrad }
    var node: Node? = nil
    if needsGraph {
        let n = Node(name: op, next: inputs.map { $0.gradEdge }, outputShapes: outs.map(\.shape),
                     dtype: outs[0].dtype, device: outs[0].device, backward: backward)
        if !saving.isEmpty { n.save(saving) }
        if saveOutputs {
            n.ensuredExtras.savedOutputs = outs.map { Tensor(storage: $0.storage, shape: $0.shape, strides: $0.strides, offset: $0.offset) }
            n.ensuredExtras.savedOutputVersions = outs.map { $0.storage.version }
        }
        for (i, o) in outs.enumerated() where o.dtype.isFloatingPoint {
            o.gradFn = n
            o.outputNr = i
            o.requiresGradFlag = true
        }
        node = n
    }
    if AutogradState.forwardLevel != 0 {
        let tangents = inputs.map { $0.tangent }
        if tangents.contains(where: { $0 != nil }) {
            let outTangents: [Tensor]
            if let rule = withForwardLevel(0, { jvp(tangents) }) { outTangents = rule }
            else { outTangents = ForwardMode.doubleVJP(outs: outs, inputs: inputs, tangents: tangents, backward: backward, node: node,
                                                                 saving: saving) }
            for (o, t) in zip(outs, outTangents) where o.dtype.isFloatingPoint { o.tangent = t }
        }
    }
}

/// Runs `body` with the thread's forward-mode level set to `level`.
@inline(__always) func withForwardLevel<R>(_ level: Int32, _ body: () -> R) -> R {
    let f = AutogradState.flags, previous = f.pointee.forwardLevel
    f.pointee.forwardLevel = level
    defer { AutogradState.flags.pointee.forwardLevel = previous }
    return body()
}
