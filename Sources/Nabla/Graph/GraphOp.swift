/// Something a graph node calls as one op: a Keras layer, or a Keras model used as a layer.
///
/// The callable runs on concrete tensors with eager Nabla ops, so running a graph records autograd as eager code
/// does; what those ops are, as `OpKind`s, is what `Graph.trace` records for it without running any kernel.
public protocol GraphCallable: AnyObject {
    /// The op name listings show for its calls (`Dense`, `Functional`).
    var className: String { get }
    /// Runs the call on concrete tensors (eager ops; autograd records as usual).
    func invoke(_ inputs: [Tensor]) -> [Tensor]
    /// The graph it runs, when it is itself a graph (a model used as a layer); nil otherwise.
    var subgraph: Graph? { get }
}

/// What a graph node computes, named as data.
///
/// Primitive nodes hold the compile IR's own op kinds (`OpKind`), so a graph built from placeholders and a traced
/// function speak the same op names; a call node holds the layer it calls (its configuration is the node's
/// attributes, and Keras' `getConfig` serialises it).
public enum GraphOp: CustomStringConvertible, @unchecked Sendable {
    /// A graph input, fed at each run (`tf.placeholder`, Keras `Input`).
    case placeholder
    /// A tensor the graph holds (a weight given to `matmul(constant:)`); gradients reach it through runs.
    case constant(Tensor)
    /// A primitive op: `.unary(.relu)`, `.binary(.add)`, `.matmul`.
    case op(OpKind)
    /// The call of a layer (or of a model used as a layer).
    case call(any GraphCallable)

    /// `Placeholder`, `Constant`, the op kind (`relu`, `add`, `matmul`) or the layer's class (`Dense`).
    public var name: String {
        switch self {
        case .placeholder: return GraphNode.placeholderOp
        case .constant: return "Constant"
        case .op(let k): return k.description
        case .call(let c): return c.className
        }
    }

    /// The op name.
    public var description: String { name }

    /// The stem of default node names (`relu` for `relu_12`).
    var nameStem: String {
        switch self {
        case .placeholder: return "placeholder"
        case .constant: return "constant"
        case .op(let k): return String(k.description.prefix { $0.isLetter || $0.isNumber })
        case .call(let c): return c.className
        }
    }

    /// The op's shape rule: the output specs for input specs, or a `ShapeError` naming the op and the shapes; nil for
    /// placeholders and layer calls (a layer's rule is its own `computeOutputSpecs`).
    public func outputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec]? {
        switch self {
        case .placeholder, .call: return nil
        case .constant(let t): return [TensorSpec(shape: t.shape, dtype: t.dtype)]
        case .op(let k): return [try GraphOp.primitiveSpec(k, inputs)]
        }
    }

    /// The shape rules of the primitive kinds graphs hold (free dims `-1`).
    static func primitiveSpec(_ kind: OpKind, _ s: [TensorSpec]) throws(ShapeError) -> TensorSpec {
        switch kind {
        case .unary:
            guard s.count == 1 else { throw ShapeError(op: "\(kind)", "expected 1 input, got \(s.count)") }
            return s[0]
        case .binary(let op):
            guard s.count == 2 else { throw ShapeError(op: "\(op)", "expected 2 inputs, got \(s.count)") }
            return TensorSpec(shape: try Graph.broadcastFree(s[0].shape, s[1].shape, op: "\(op)"), dtype: s[0].dtype.promoted(with: s[1].dtype))
        case .matmul:
            guard s.count == 2 else { throw ShapeError(op: "matmul", "expected 2 inputs, got \(s.count)") }
            let a = s[0].shape, b = s[1].shape
            guard a.count >= 1, b.count >= 2 else {
                throw ShapeError(op: "matmul", "expected operands of rank >= 1 and >= 2, got \(TensorSpec.format(a)) and \(TensorSpec.format(b))")
            }
            let k1 = a[a.count - 1], k2 = b[b.count - 2]
            guard k1 < 0 || k2 < 0 || k1 == k2 else {
                throw ShapeError(op: "matmul", "shapes \(TensorSpec.format(a)) and \(TensorSpec.format(b)) cannot be multiplied (\(k1) vs \(k2))")
            }
            let dtype = s[0].dtype.promoted(with: s[1].dtype)
            if b.count == 2 { return TensorSpec(shape: Array(a.dropLast()) + [b[1]], dtype: dtype) }
            guard a.count >= 2 else {
                throw ShapeError(op: "matmul", "a batched right operand \(TensorSpec.format(b)) needs a left operand of rank >= 2, got \(TensorSpec.format(a))")
            }
            let batch = try Graph.broadcastFree(Array(a.dropLast(2)), Array(b.dropLast(2)), op: "matmul")
            return TensorSpec(shape: batch + [a[a.count - 2], b[b.count - 1]], dtype: dtype)
        default:
            throw ShapeError(op: "\(kind)", "is not an op graphs hold (relu, sigmoid, tanh, exp, add, sub, mul, div, matmul are)")
        }
    }

    /// The primitive op kinds a graph node can hold, with the eager op that runs each.
    static func eager(_ kind: OpKind) -> (([Tensor]) -> Tensor)? {
        switch kind {
        case .unary(.relu): return { relu($0[0]) }
        case .unary(.sigmoid): return { sigmoid($0[0]) }
        case .unary(.tanh): return { tanh($0[0]) }
        case .unary(.exp): return { exp($0[0]) }
        case .binary(.add): return { $0[0] + $0[1] }
        case .binary(.sub): return { $0[0] - $0[1] }
        case .binary(.mul): return { $0[0] * $0[1] }
        case .binary(.div): return { $0[0] / $0[1] }
        case .matmul: return { matmul($0[0], $0[1]) }
        default: return nil
        }
    }

    /// Computes the node's outputs from concrete inputs with eager ops (placeholders are fed, never applied).
    func apply(_ inputs: [Tensor], node: String) -> [Tensor] {
        switch self {
        case .placeholder: nablaFail("graph: placeholder \(node) evaluated without a feed")
        case .constant(let t): return [t]
        case .op(let k):
            guard let f = GraphOp.eager(k) else { nablaFail("graph: node \(node): op \(k) has no eager form in graphs") }
            return [f(inputs)]
        case .call(let c): return c.invoke(inputs)
        }
    }
}
