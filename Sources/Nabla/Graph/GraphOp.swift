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
