import Nabla

extension GraphDescription {
    /// TensorBoard's view of a compiled graph (`compile`, `module.traceGraph(input:)`): one node per graph node, named
    /// `<index>_<op>`, plus a `Placeholder` per argument, a `Variable` per captured buffer (parameters, optimizer state)
    /// and a `Const` per constant; each node's inputs are the latest writers of the buffers it reads.
    /// ```swift
    /// writer.addGraph(GraphDescription(model.traceGraph(input: x)))
    /// ```
    public init(_ graph: CompiledGraph) {
        var nodes: [GraphNodeDescription] = []
        var producer: [Int: String] = [:]   // buffer → node holding its current value
        for (b, buf) in graph.buffers.enumerated() {
            let name: String, op: String
            switch buf.role {
            case .input(let k): name = "input_\(k)"; op = "Placeholder"
            case .captured: name = "captured/b\(b)"; op = "Variable"
            case .constant: name = "constant/b\(b)"; op = "Const"
            case .intermediate: continue
            }
            producer[b] = name
            nodes.append(GraphNodeDescription(name: name, op: op, outputShapes: [[buf.count]], dtype: buf.dtype, device: "cpu"))
        }
        for (i, n) in graph.nodes.enumerated() {
            let opName = n.kind.description.prefix { $0 != "(" && $0 != "[" }
            let name = "\(i)_\(opName)"
            var inputs: [String] = []
            for r in n.reads { if let r, let p = producer[r.buffer], !inputs.contains(p) { inputs.append(p) } }
            let outs = n.writes + n.returned.compactMap { $0 }
            nodes.append(GraphNodeDescription(name: name, op: String(opName), inputs: inputs, outputShapes: outs.map(\.shape),
                                              dtype: outs.first.map { graph.buffers[$0.buffer].dtype }, device: "cpu",
                                              attributes: ["op": .string(n.kind.description), "traced_at": .string("\(n.location)")]))
            for o in outs { producer[o.buffer] = name }
        }
        self.init(nodes: nodes)
    }
}

extension SummaryWriter {
    /// Writes a compiled graph for TensorBoard's Graphs tab (`writer.addGraph(model.traceGraph(input: x))`).
    public func addGraph(_ graph: CompiledGraph, wallTime: Double? = nil) {
        addGraph(GraphDescription(graph), wallTime: wallTime)
    }
}
