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
/// Built from placeholders (`Graph.placeholder`, Keras `Input(shape:)`) and the symbolic outputs
/// computed from them: only the nodes the outputs need are kept (dead code never runs), in
/// topological order. `run(_:)` replays the nodes eagerly with the same ops as eager mode, so
/// gradients flow through a run exactly as through eager code. Keras functional models are these
/// graphs; graph capture adds its passes (CSE, fusion, memory planning) to this same IR.
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
        let node = GraphNode(op: GraphNode.placeholderOp, name: name, inputs: [], outputSpecs: [TensorSpec(shape: shape, dtype: dtype)]) { _ in
            nablaFail("graph: placeholder evaluated without a feed")
        }
        return node.output(0)
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
            if n.op == GraphNode.placeholderOp {
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
    public func run(_ feeds: [Tensor]) -> [Tensor] {
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
            let outs = step.node.apply(args)
            check(outs.count == step.node.outputSpecs.count,
                  "graph: node \(step.node.name) (\(step.node.op)) returned \(outs.count) outputs, declared \(step.node.outputSpecs.count)")
            for (j, o) in outs.enumerated() { env[step.outputBase + j] = o }
            for s in step.release { env[s] = nil }
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

    /// Infers output specs by running `fn` on zero tensors of the input specs (shape inference by example).
    ///
    /// Free dims (`-1`) are set to 2 in a first run and 3 in a second; output dims that differ
    /// between the two runs are free in the result. Runs under `noGrad`. Used for ops without a
    /// throwing shape rule; `fn` must not depend on the values (only on the shapes) of its inputs.
    public static func inferSpecs(_ inputs: [TensorSpec], _ fn: ([Tensor]) -> [Tensor]) -> [TensorSpec] {
        let hasFree = inputs.contains { $0.shape.contains(-1) }
        func probe(_ size: Int) -> [Tensor] {
            noGrad { fn(inputs.map { Tensor.zeros($0.shape.map { $0 < 0 ? size : $0 }, dtype: $0.dtype) }) }
        }
        let a = probe(2)
        guard hasFree else { return a.map { TensorSpec(shape: $0.shape, dtype: $0.dtype) } }
        let b = probe(3)
        return zip(a, b).map { x, y in
            if x.rank != y.rank { return TensorSpec(shape: [Int](repeating: -1, count: x.rank), dtype: x.dtype) }
            return TensorSpec(shape: zip(x.shape, y.shape).map { $0 == $1 ? $0 : -1 }, dtype: x.dtype)
        }
    }

    /// Placeholders and nodes in order, one per line:
    /// ```
    /// graph(%x: f32[*, 2]) {
    ///   %matmul_3 = matmul(%x) : f32[*, 1]
    ///   return %matmul_3
    /// }
    /// ```
    public var description: String {
        var lines = ["graph(" + inputs.map { "%\($0.name): \($0.spec)" }.joined(separator: ", ") + ") {"]
        for n in nodes { lines.append("  %" + n.description) }
        lines.append("  return " + outputs.map { "%" + $0.name }.joined(separator: ", "))
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// The graph in Graphviz DOT (`dot -Tpng`): placeholders as ellipses, ops as boxes, edges labelled with shapes.
    public func dot(name: String = "graph") -> String {
        func esc(_ s: String) -> String { s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") }
        var lines = ["digraph \"\(esc(name))\" {", "  rankdir=TB;", "  node [fontname=\"Helvetica\"];"]
        for x in inputs {
            lines.append("  n\(x.node.id) [shape=ellipse, label=\"\(esc(x.name))\\n\(esc(x.spec.description))\"];")
        }
        for n in nodes {
            let shapes = n.outputSpecs.map(\.description).joined(separator: ", ")
            lines.append("  n\(n.id) [shape=box, label=\"\(esc(n.name))\\n\(esc(n.op))\\n\(esc(shapes))\"];")
            for i in n.inputs {
                lines.append("  n\(i.node.id) -> n\(n.id) [label=\"\(esc(TensorSpec.format(i.shape)))\"];")
            }
        }
        for (k, o) in outputs.enumerated() {
            lines.append("  out\(k) [shape=plaintext, label=\"output \(k)\"];")
            lines.append("  n\(o.node.id) -> out\(k);")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }
}
