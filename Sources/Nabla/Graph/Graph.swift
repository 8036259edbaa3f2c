/// Why a graph could not be built from its inputs and outputs.
public struct GraphError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, naming the values involved.
    public let message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// `graph: message`.
    public var description: String { "graph: \(message)" }
}

/// A dataflow graph of Nabla ops ("define then run"), as a `tf.Graph` or a traced `torch.fx.Graph`.
///
/// Built from placeholders (`Graph.placeholder`, Keras `Input(shape:)`) and the symbolic outputs computed from them:
/// only the nodes the outputs need are kept (dead code never runs), in topological order. Every node names its op as
/// data (`GraphOp`: a primitive `OpKind`, a constant, or a layer call), and every shape comes from a shape rule,
/// never from running an op. `run(_:)` calls the nodes' eager ops, so gradients flow through a run exactly as
/// through eager code. `trace` holds what the graph computes in the compile IR (`OpKind` nodes over buffers,
/// recorded symbolically: no kernel runs), which `print`, `dot()`, TensorBoard and Keras models show. Keras
/// functional models are these graphs.
/// ```swift
/// let x = Graph.placeholder(shape: [-1, 2], name: "x")
/// let w = Tensor([[1.0], [2.0]], dtype: .float32, requiresGrad: true)
/// let y = try x.matmul(constant: w)
/// let g = try Graph(inputs: [x], outputs: [y])
/// print(g)                 // graph(%x: f32[*, 2]) { ... }
/// let out = g.run([Tensor.ones([4, 2])])[0]    // [4, 1], differentiable in w
/// ```
public final class Graph: CustomStringConvertible, @unchecked Sendable {
    /// The placeholders fed to `run`, in order.
    public let inputs: [SymbolicTensor]
    /// The values `run` returns, in order.
    public let outputs: [SymbolicTensor]
    /// The nodes computing `outputs` from `inputs`, in topological order (placeholders excluded).
    public let nodes: [GraphNode]

    struct Step {
        let node: GraphNode
        let inputSlots: [Int]
        let outputBase: Int
        let release: [Int]
    }
    private let steps: [Step]
    private let outputSlots: [Int]
    private let slotCount: Int

    /// A new placeholder: a graph input of the given shape (`-1` for free dims) and dtype (`tf.placeholder`).
    public static func placeholder(shape: [Int], dtype: DType = .float32, name: String? = nil) -> SymbolicTensor {
        for s in shape { check(s >= -1, "placeholder: sizes must be >= 0 or -1 (free), got shape \(shape)") }
        return GraphNode(kind: .placeholder, name: name, inputs: [], outputSpecs: [TensorSpec(shape: shape, dtype: dtype)]).output(0)
    }

    /// Builds the graph computing `outputs` from the placeholders `inputs`; throws when an output
    /// needs a placeholder that is not among `inputs`, or when an input is not a placeholder.
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor]) throws(GraphError) {
        for x in inputs where !x.isPlaceholder {
            throw GraphError("inputs must be placeholders (Input(shape:)); \(x.name) is the output of a \(x.node.op) node")
        }
        var inputSet = Set<ObjectIdentifier>()
        for x in inputs {
            guard inputSet.insert(ObjectIdentifier(x.node)).inserted else { throw GraphError("input \(x.name) is listed twice") }
        }
        // Collect the nodes the outputs depend on.
        var seen = Set<ObjectIdentifier>()
        var found: [GraphNode] = []
        var stack = outputs.map(\.node)
        while let n = stack.popLast() {
            guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
            if case .placeholder = n.kind {
                guard inputSet.contains(ObjectIdentifier(n)) else {
                    throw GraphError("an output depends on input \(n.name) (\(n.outputSpecs[0])), which is not among the inputs [\(inputs.map(\.name).joined(separator: ", "))]")
                }
                continue
            }
            found.append(n)
            for i in n.inputs { stack.append(i.node) }
        }
        found.sort { $0.id < $1.id }   // creation order is a topological order
        var base: [ObjectIdentifier: Int] = [:]
        var slot = 0
        for x in inputs { base[ObjectIdentifier(x.node)] = slot; slot += 1 }
        for n in found { base[ObjectIdentifier(n)] = slot; slot += n.outputSpecs.count }
        func slotOf(_ v: SymbolicTensor) -> Int { base[ObjectIdentifier(v.node)]! + v.index }
        let outSlots = outputs.map(slotOf)
        // Last use of each slot, so `run` drops intermediates as soon as it can.
        var lastUse = [Int](repeating: -1, count: slot)
        for (k, n) in found.enumerated() { for i in n.inputs { lastUse[slotOf(i)] = k } }
        for s in outSlots { lastUse[s] = Int.max }
        var release = [[Int]](repeating: [], count: found.count)
        for (s, k) in lastUse.enumerated() where k >= 0 && k < found.count && s >= inputs.count { release[k].append(s) }
        steps = found.enumerated().map { k, n in
            Step(node: n, inputSlots: n.inputs.map(slotOf), outputBase: base[ObjectIdentifier(n)]!, release: release[k])
        }
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = found
        self.outputSlots = outSlots
        self.slotCount = slot
    }

    /// Runs the graph on concrete `feeds` (one per input, in order) and returns the outputs.
    ///
    /// Each feed must fit its placeholder's spec (same rank, equal fixed sizes); a feed of another
    /// floating dtype is converted. Autograd records through the run as through eager code.
    public func run(_ feeds: [Tensor]) -> [Tensor] { run(feeds, afterEachNode: nil) }

    /// `run(_:)`, calling `afterEachNode` after each node (a symbolic trace marks the ops each node recorded).
    func run(_ feeds: [Tensor], afterEachNode: (([Tensor]) -> Void)?) -> [Tensor] {
        check(feeds.count == inputs.count, "graph: expected \(inputs.count) input tensors (\(inputs.map(\.name).joined(separator: ", "))), got \(feeds.count)")
        var env = [Tensor?](repeating: nil, count: slotCount)
        for (i, f) in feeds.enumerated() {
            let spec = inputs[i].spec
            check(spec.accepts(f.shape), "graph: input \(inputs[i].name) expects shape \(TensorSpec.format(spec.shape)), got \(f.shape)")
            env[i] = (f.dtype == spec.dtype || !(f.dtype.isFloatingPoint && spec.dtype.isFloatingPoint)) ? f : f.to(spec.dtype)
        }
        for step in steps {
            var args: [Tensor] = []
            args.reserveCapacity(step.inputSlots.count)
            for s in step.inputSlots { args.append(env[s]!) }
            let outs = step.node.kind.apply(args, node: step.node.name)
            check(outs.count == step.node.outputSpecs.count,
                  "graph: node \(step.node.name) (\(step.node.op)) returned \(outs.count) outputs, declared \(step.node.outputSpecs.count)")
            for (j, o) in outs.enumerated() { env[step.outputBase + j] = o }
            for s in step.release { env[s] = nil }
            afterEachNode?(outs)
        }
        return outputSlots.map { env[$0]! }
    }

    /// Runs the graph with feeds given per placeholder (`sess.run(outputs, feed_dict:)`).
    public func run(feeds: [SymbolicTensor: Tensor]) -> [Tensor] {
        run(inputs.map { x in
            guard let t = feeds[x] else { nablaFail("graph: no feed for input \(x.name) (\(x.spec))") }
            return t
        })
    }

    /// Infers output specs of `fn` from its ops' shape rules, with a symbolic trace: the ops' Swift code runs on
    /// probe tensors, their kernels do not (`MetaTrace`).
    ///
    /// Free dims (`-1`) are set to 2 in a first trace and 3 in a second; output dims that differ between the two
    /// are free in the result. Used for layers without a shape rule of their own; `fn` must not depend on the values
    /// (only on the shapes) of its inputs.
    public static func inferSpecs(_ inputs: [TensorSpec], _ fn: ([Tensor]) -> [Tensor]) -> [TensorSpec] {
        MetaTrace.inferSpecs(inputs, fn)
    }

    /// Placeholders and nodes in order, one per line, each node followed by the ops it computes (its part of
    /// `trace`, with free dims `*`):
    /// ```
    /// graph(%x: f32[*, 2]) {
    ///   %dense_1 = Dense[units=1](%x) : f32[*, 1] {
    ///     %b3[*, 1] = matmul(%b0[*, 2], %b1[2, 1])
    ///     %b4[*, 1] = add(%b3[*, 1], %b2[1])
    ///   }
    ///   return %dense_1
    /// }
    /// ```
    public var description: String {
        let t = trace
        var lines = ["graph(" + inputs.map { "%\($0.name): \($0.spec)" }.joined(separator: ", ") + ") {"]
        for (i, n) in nodes.enumerated() {
            let ops = i < t.spans.count ? t.spans[i] : 0..<0
            lines.append("  %" + n.description + (ops.isEmpty ? "" : " {"))
            guard !ops.isEmpty else { continue }
            for k in ops { lines.append("    " + t.line(k)) }
            lines.append("  }")
        }
        lines.append("  return " + outputs.map { "%" + $0.name }.joined(separator: ", "))
        lines.append("}")
        if let br = t.graphBreak { lines.append("// the ops were traced only in part: \(br)") }
        return lines.joined(separator: "\n")
    }

    /// The graph in Graphviz DOT (`dot -Tpng`): placeholders as ellipses, each node a cluster labelled with its
    /// name and op, holding its ops as boxes; edges follow the buffers, labelled with shapes.
    public func dot(name: String = "graph") -> String {
        func esc(_ s: String) -> String { s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") }
        let t = trace
        var lines = ["digraph \"\(esc(name))\" {", "  rankdir=TB;", "  node [fontname=\"Helvetica\", fontsize=10];"]
        var producer: [Int: String] = [:]   // buffer → the DOT node holding its latest value
        for (k, x) in inputs.enumerated() {
            lines.append("  p\(k) [shape=ellipse, label=\"\(esc(x.name))\\n\(esc(x.spec.description))\"];")
            if k < t.graph.inputs.count { producer[t.graph.inputs[k].buffer] = "p\(k)" }
        }
        for (i, n) in nodes.enumerated() {
            let ops = i < t.spans.count ? t.spans[i] : 0..<0
            lines.append("  subgraph cluster_\(i) {")
            lines.append("    label=\"\(esc(n.name)) (\(esc(n.op)))\\n\(esc(n.outputSpecs.map(\.description).joined(separator: ", ")))\";")
            if ops.isEmpty { lines.append("    n\(i) [shape=box, label=\"\(esc(n.op))\"];") }
            for k in ops { lines.append("    o\(k) [shape=box, label=\"\(esc(t.graph.nodes[k].kind.description))\"];") }
            lines.append("  }")
            for k in ops {
                let op = t.graph.nodes[k]
                for r in op.reads {
                    guard let r, let p = producer[r.buffer] else { continue }
                    lines.append("  \(p) -> o\(k) [label=\"\(esc(t.shape(r, node: k)))\"];")
                }
                for w in op.writes + op.returned.compactMap({ $0 }) { producer[w.buffer] = "o\(k)" }
            }
            if ops.isEmpty {
                for x in n.inputs { if let k = inputs.firstIndex(of: x) { lines.append("  p\(k) -> n\(i);") } }
            }
        }
        for (k, o) in t.graph.outputs.enumerated() {
            lines.append("  out\(k) [shape=plaintext, label=\"output \(k)\"];")
            if let p = producer[o.buffer] { lines.append("  \(p) -> out\(k);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }
}
