// Custom autograd functions: a forward and a hand-written backward, as `torch.autograd.Function`.

/// The state a `CustomFunction` passes from its forward to its backward (`ctx` in PyTorch).
///
/// Save tensors with `saveForBackward(_:)` (autograd then refuses a backward after they were modified
/// in place) and anything else in `userInfo` or through the `Double` subscript (`ctx["alpha"] = 0.5`).
public final class FunctionContext {
    private var stored: [Tensor] = []
    /// Indices into `stored` that hold the function's own output (re-attached to the node in backward).
    var outputSlots: [Int] = []
    /// The node running the backward, while it runs.
    var currentNode: Node? = nil
    /// Whether each input requires a gradient (`ctx.needs_input_grad`).
    public internal(set) var needsInputGrad: [Bool] = []
    /// Non-tensor values the backward needs (`ctx.some_attribute = ...` in PyTorch).
    public var userInfo: [String: Any] = [:]

    init() {}

    /// Saves tensors for the backward (`ctx.save_for_backward`); call it once in `forward`.
    ///
    /// Inputs, the output, or tensors computed in `forward` may be saved.
    public func saveForBackward(_ tensors: Tensor...) { stored = tensors }

    /// Saves an array of tensors for the backward.
    public func saveForBackward(_ tensors: [Tensor]) { stored = tensors }

    /// The tensors given to `saveForBackward`, in order (`ctx.saved_tensors`).
    ///
    /// During the backward, a saved output is attached to the graph, so `createGraph: true` sees through it.
    public var savedTensors: [Tensor] {
        guard let node = currentNode, !outputSlots.isEmpty else { return stored }
        var r = stored
        for i in outputSlots { r[i] = node.output(0) }
        return r
    }

    /// A number stored for the backward: `ctx["alpha"] = 0.5` in forward, `ctx["alpha"]!` in backward.
    public subscript(key: String) -> Double? {
        get { userInfo[key] as? Double }
        set { userInfo[key] = newValue }
    }

    /// The saved tensors as stored (outputs not re-attached), for `apply`.
    var rawSaved: [Tensor] { stored }
}

/// A differentiable operation with a hand-written backward (`torch.autograd.Function`).
///
/// `forward` runs with gradient recording off and returns the output; `backward` receives the
/// gradient of the output and returns one gradient per input (nil where none is needed). Write
/// the backward with Tensor ops, so `createGraph: true` gives higher-order gradients. Call it
/// through `apply`.
///
/// ```swift
/// /// XNOR-Net style binarisation: sign in forward, straight-through estimator in backward
/// /// (the gradient passes where |x| <= 1 and is zero elsewhere).
/// enum StraightThroughSign: CustomFunction {
///     static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
///         let x = inputs[0]
///         ctx.saveForBackward(x)
///         return x.ge(0).to(x.dtype) * 2 - 1          // sign, with sign(0) = 1
///     }
///     static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
///         let x = ctx.savedTensors[0]
///         let inside = x.ge(-1).logicalAnd(x.le(1)).to(gradOutput.dtype)
///         return [gradOutput * inside]
///     }
/// }
/// let x = Tensor([-2.0, -0.5, 0.5, 2.0], requiresGrad: true)
/// StraightThroughSign.apply(x).sum().backward()
/// print(x.grad!)   // tensor([0., 1., 1., 0.])
/// ```
public protocol CustomFunction {
    /// Computes the output from `inputs` (recording is off); save what the backward needs in `ctx`.
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor
    /// The gradient of each input from the gradient of the output, one entry per input (nil for none).
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?]
}

extension CustomFunction {
    /// Runs the function on `inputs` and records it for autograd (`Function.apply`).
    public static func apply(_ inputs: Tensor...) -> Tensor { apply(inputs) }

    /// Runs the function on an array of inputs and records it for autograd (`Function.apply`).
    public static func apply(_ inputs: [Tensor]) -> Tensor {
        let ctx = FunctionContext()
        ctx.needsInputGrad = inputs.map { $0.requiresGradFlag && isGradEnabled }
        let raw = withForwardLevel(0) { noGrad { forward(ctx, inputs) } }
        guard isRecording(inputs) else { return raw }
        // A fresh tensor object, so an input returned as is never gets this node as its gradFn.
        let out = raw.detached()
        let saved = ctx.rawSaved
        var saving: [Tensor] = []
        var outputSlots: [Int] = []
        for (i, t) in saved.enumerated() {
            if t === raw || t === out {
                // Holding the output itself would make a cycle out -> node -> ctx -> out: keep an alias for the
                // version check and read it back through node.output() in backward.
                outputSlots.append(i)
                saving.append(t.detached())
            } else {
                saving.append(t)
            }
        }
        ctx.outputSlots = outputSlots
        let name = "\(Self.self)Backward"
        let shapes = inputs.map(\.shape)
        return record(out, op: name, inputs: inputs, saving: saving, saveOutput: !outputSlots.isEmpty) { grads, node in
            ctx.currentNode = node
            defer { ctx.currentNode = nil }
            let gs = backward(ctx, grads[0])
            check(gs.count == shapes.count, "\(name): backward returned \(gs.count) gradients, expected \(shapes.count) (one per input)")
            for (i, g) in gs.enumerated() {
                if let g {
                    check(g.shape == shapes[i], "\(name): gradient \(i) has shape \(g.shape) but input \(i) has shape \(shapes[i])")
                }
            }
            return gs
        }
    }
}
