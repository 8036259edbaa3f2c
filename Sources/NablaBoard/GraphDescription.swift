import Nabla

/// A dataflow graph to show in TensorBoard's Graphs tab (what `SummaryWriter.add_graph` traces).
///
/// Nodes name their inputs by node name; `SummaryWriter.addGraph` writes the graph as a TensorFlow `GraphDef`.
///
/// ```swift
/// let graph = GraphDescription(nodes: [
///     GraphNodeDescription(name: "input", op: "Placeholder", outputShapes: [[1, 4]]),
///     GraphNodeDescription(name: "dense/MatMul", op: "MatMul", inputs: ["input"], outputShapes: [[1, 2]]),
/// ])
/// try writer.addGraph(graph)
/// ```
public struct GraphDescription: Sendable, Hashable {
    /// The nodes, in any order; names are unique and may use `/` to group nodes into scopes.
    public var nodes: [GraphNodeDescription]

    /// A graph made of `nodes`.
    public init(nodes: [GraphNodeDescription] = []) { self.nodes = nodes }
}

/// One node of a `GraphDescription` (a TensorFlow `NodeDef`).
public struct GraphNodeDescription: Sendable, Hashable {
    /// Unique name; `/` separates name scopes (`"encoder/linear1/MatMul"`).
    public var name: String
    /// The operation (`"Linear"`, `"ReLU"`, `"Placeholder"`).
    public var op: String
    /// Names of the nodes whose outputs this node reads.
    public var inputs: [String]
    /// Shapes of the node's outputs (written as the `_output_shapes` attribute); `-1` marks an unknown size.
    public var outputShapes: [[Int]]
    /// Element type of the outputs, when known (written as the `dtype` attribute).
    public var dtype: DType?
    /// Device the node runs on (`"cpu"`), or empty.
    public var device: String
    /// Further attributes shown in the node's info card.
    public var attributes: [String: GraphAttributeValue]

    /// A node named `name` running `op` on the outputs of `inputs`.
    public init(name: String, op: String, inputs: [String] = [], outputShapes: [[Int]] = [], dtype: DType? = nil,
                device: String = "", attributes: [String: GraphAttributeValue] = [:]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputShapes = outputShapes
        self.dtype = dtype
        self.device = device
        self.attributes = attributes
    }
}

/// The value of a graph node attribute (a TensorFlow `AttrValue`).
public enum GraphAttributeValue: Sendable, Hashable {
    /// A string (`AttrValue.s`).
    case string(String)
    /// An integer (`AttrValue.i`).
    case int(Int)
    /// A number (`AttrValue.f`, stored as float32).
    case double(Double)
    /// A flag (`AttrValue.b`).
    case bool(Bool)
    /// A shape (`AttrValue.shape`); `-1` marks an unknown size.
    case shape([Int])
    /// A list of integers (`AttrValue.list.i`), such as a kernel size.
    case ints([Int])
    /// A list of numbers (`AttrValue.list.f`).
    case doubles([Double])
    /// A list of strings (`AttrValue.list.s`).
    case strings([String])
}
