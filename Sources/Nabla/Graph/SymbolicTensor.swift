import Synchronization

/// The static description of a graph value: a shape whose free dimensions are `-1` and a dtype.
///
/// `TensorSpec(shape: [-1, 784], dtype: .float32)` is `tf.TensorSpec([None, 784])`: any batch size,
/// 784 features. It prints as `f32[*, 784]`.
public struct TensorSpec: Hashable, Sendable, CustomStringConvertible {
    /// Sizes; `-1` marks a free dimension (the batch dimension of `Input(shape:)`).
    public var shape: [Int]
    /// Element type.
    public var dtype: DType

    /// Creates a spec.
    public init(shape: [Int], dtype: DType = .float32) { self.shape = shape; self.dtype = dtype }

    /// Whether a concrete tensor shape fits: same rank and equal sizes wherever the spec is fixed.
    public func accepts(_ concrete: [Int]) -> Bool {
        guard concrete.count == shape.count else { return false }
        for (s, c) in zip(shape, concrete) where s >= 0 && s != c { return false }
        return true
    }

    /// `f32[*, 784]`.
    public var description: String { "\(TensorSpec.shortName(dtype))\(TensorSpec.format(shape))" }

    /// A shape with free dims written `*`: `[*, 128]`.
    public static func format(_ shape: [Int]) -> String {
        "[" + shape.map { $0 < 0 ? "*" : String($0) }.joined(separator: ", ") + "]"
    }

    /// `f32`, `f64`, `i32`, `i64`, `bool`.
    public static func shortName(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "f32"
        case .float64: return "f64"
        case .int32: return "i32"
        case .int64: return "i64"
        case .bool: return "bool"
        }
    }
}

/// A value of the graph IR: output `index` of `node`, with a static shape and dtype (Keras's
/// `KerasTensor`, TensorFlow's symbolic `tf.Tensor`).
///
/// Placeholders (`Graph.placeholder`, Keras `Input(shape:)`) are the outputs of `Placeholder` nodes.
/// Its shape and dtype come from the shape rules of the ops that made it, never from running them.
/// A symbolic tensor holds no data: `Graph(inputs:outputs:).run(feeds)` computes its value.
/// ```swift
/// let x = Graph.placeholder(shape: [-1, 3], name: "x")
/// let y = x.relu()
/// let g = try Graph(inputs: [x], outputs: [y])
/// g.run([Tensor([[-1, 2, 3]], dtype: .float32)])   // [tensor([[0., 2., 3.]])]
/// ```
public final class SymbolicTensor: CustomStringConvertible, Hashable, @unchecked Sendable {
    /// The node that computes this value.
    public let node: GraphNode
    /// Which output of `node` this is.
    public let index: Int

    /// Creates a handle on output `index` of `node`.
    public init(node: GraphNode, index: Int) {
        check(index >= 0 && index < node.outputSpecs.count,
              "SymbolicTensor: node \(node.name) has \(node.outputSpecs.count) outputs, asked for output \(index)")
        self.node = node
        self.index = index
    }

    /// Shape and dtype.
    public var spec: TensorSpec { node.outputSpecs[index] }
    /// Sizes, `-1` for free dimensions.
    public var shape: [Int] { spec.shape }
    /// Element type.
    public var dtype: DType { spec.dtype }
    /// Number of dimensions.
    public var rank: Int { spec.shape.count }
    /// Whether this value is a placeholder (a graph input).
    public var isPlaceholder: Bool { if case .placeholder = node.kind { return true } else { return false } }
    /// The value's name: the node's name, with `:index` for nodes with several outputs.
    public var name: String { node.outputSpecs.count == 1 ? node.name : "\(node.name):\(index)" }

    /// `SymbolicTensor(name: "dense_1", f32[*, 64])`.
    public var description: String { "SymbolicTensor(name: \"\(name)\", \(spec))" }

    /// Two handles are equal when they name the same output of the same node.
    public static func == (a: SymbolicTensor, b: SymbolicTensor) -> Bool { a.node === b.node && a.index == b.index }
    /// Hashes the node identity and the output index.
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(node)); h.combine(index) }
}

/// A node of a graph: an op named as data (`GraphOp`) applied to symbolic inputs, producing symbolic outputs.
///
/// A node is a placeholder, a constant, a primitive op (an `OpKind`: `relu`, `add`, `matmul`), or the call of a
/// `GraphCallable` (a Keras layer, or a model used as a layer, whose `subgraph` is its own graph). No node holds a
/// closure: running a graph calls each node's op by what it is. Nodes are numbered in creation order, which is a
/// topological order.
public final class GraphNode: CustomStringConvertible, @unchecked Sendable {
    /// The op name of placeholder nodes.
    public static let placeholderOp = "Placeholder"
    private static let counter = Atomic<Int>(0)

    /// Creation number, unique per process; a node's inputs always have smaller ids.
    public let id: Int
    /// What the node computes, as data.
    public let kind: GraphOp
    /// A readable name (`"dense_1"`), unique within Keras models.
    public var name: String
    /// Attributes, in order (`units=64`, `activation="relu"`).
    public var attributes: [(String, GraphAttribute)]
    /// The input values.
    public let inputs: [SymbolicTensor]
    /// Shape and dtype of each output.
    public let outputSpecs: [TensorSpec]

    init(kind: GraphOp, name: String? = nil, attributes: [(String, GraphAttribute)] = [], inputs: [SymbolicTensor],
         outputSpecs: [TensorSpec]) {
        id = GraphNode.counter.add(1, ordering: .relaxed).newValue
        self.kind = kind
        self.name = name ?? "\(kind.nameStem)_\(id)"
        self.attributes = attributes
        self.inputs = inputs
        self.outputSpecs = outputSpecs
    }

    /// The op's name as listings show it (`"Placeholder"`, `"relu"`, `"Dense"`).
    public var op: String { kind.name }
    /// The object the node calls (a Keras layer), if it is a call.
    public var owner: AnyObject? { if case .call(let c) = kind { return c } else { return nil } }
    /// For a node that calls a whole graph (a model used as a layer): that graph.
    public var subgraph: Graph? { if case .call(let c) = kind { return c.subgraph } else { return nil } }

    /// Output `i` of this node.
    public func output(_ i: Int = 0) -> SymbolicTensor { SymbolicTensor(node: self, index: i) }
    /// All outputs of this node.
    public var outputs: [SymbolicTensor] { (0..<outputSpecs.count).map { SymbolicTensor(node: self, index: $0) } }

    /// A node calling `callable` on `inputs`, whose outputs have `outputSpecs` (the callable's own shape rule gave
    /// them); returns its outputs. Keras layers add themselves to graphs with it.
    public static func call(_ callable: any GraphCallable, name: String, attributes: [(String, GraphAttribute)] = [],
                            inputs: [SymbolicTensor], outputSpecs: [TensorSpec]) -> [SymbolicTensor] {
        GraphNode(kind: .call(callable), name: name, attributes: attributes, inputs: inputs, outputSpecs: outputSpecs).outputs
    }

    /// `dense_1 = Dense[units=64](%input_1) : f32[*, 64]`.
    public var description: String {
        let attrs = attributes.isEmpty ? "" : "[" + attributes.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "]"
        let outs = outputSpecs.map(\.description).joined(separator: ", ")
        return "\(name) = \(op)\(attrs)(\(inputs.map { "%" + $0.name }.joined(separator: ", "))) : \(outs)"
    }
}

/// A node attribute value: the static configuration of an op (units, axis, activation name, ...).
public enum GraphAttribute: Sendable, Equatable, CustomStringConvertible {
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// A flag.
    case bool(Bool)
    /// A string (activation names, padding modes).
    case string(String)
    /// A list of integers (shapes, kernel sizes, axes).
    case ints([Int])

    /// The value as written in graph listings (`64`, `0.5`, `true`, `"relu"`, `[3, 3]`).
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let v): return "\"\(v)\""
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        }
    }
}
