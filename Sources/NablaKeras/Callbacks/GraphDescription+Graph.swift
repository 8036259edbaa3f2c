import NablaBoard
import NablaNN

extension GraphDescription {
    /// TensorBoard's view of a graph (a Keras functional model's `graph`) as the ops it computes, as TensorFlow's op
    /// graph of a Keras model shows it: each layer call is a name scope (`dense_1/`) holding its ops (`matmul`,
    /// `add`, `relu`, ...) and its weights (`dense_1/kernel`, op `VariableV2`), and ends in a node named as the call
    /// whose op is the layer's class (`Dense`, with the layer's configuration as attributes), which the next layers'
    /// ops read. Inputs are `Placeholder` nodes named as the inputs. The ops come from the graph's symbolic trace
    /// (`Graph.trace`: no kernel runs), with free dimensions `-1`.
    public init(_ graph: Graph) {
        let t = graph.trace
        var nodes: [GraphNodeDescription] = []
        var producer: [Int: String] = [:]   // buffer → the node holding its latest value
        var used = Set<String>()
        func unique(_ base: String) -> String {
            var name = base, k = 1
            while used.contains(name) { name = "\(base)_\(k)"; k += 1 }
            used.insert(name)
            return name
        }
        for (k, x) in graph.inputs.enumerated() {
            let name = unique(x.name)
            nodes.append(GraphNodeDescription(name: name, op: GraphNode.placeholderOp, outputShapes: [x.shape], dtype: x.dtype))
            if k < t.graph.inputs.count { producer[t.graph.inputs[k].buffer] = name }
        }
        // Weights by storage, named `<node>/<weight path>`.
        var weightName: [ObjectIdentifier: String] = [:]
        for n in graph.nodes {
            guard let l = n.owner as? Layer else { continue }
            for (prefix, m) in l.namedModules() {
                guard let sub = m as? Layer else { continue }
                for (w, tensor) in sub.weightEntries where weightName[ObjectIdentifier(tensor.storage)] == nil {
                    let path = (prefix.isEmpty ? w : prefix + "." + w).replacing(".", with: "/")
                    weightName[ObjectIdentifier(tensor.storage)] = n.name + "/" + path
                }
            }
        }
        func source(_ b: Int) -> String? {
            if let p = producer[b] { return p }
            let buf = t.graph.buffers[b]
            let name: String, op: String
            switch buf.role {
            case .captured:
                name = unique(buf.capturedStorage.flatMap { weightName[ObjectIdentifier($0)] } ?? "captured/b\(b)"); op = "VariableV2"
            case .constant: name = unique("constant/b\(b)"); op = "Const"
            case .input, .intermediate: return nil
            }
            nodes.append(GraphNodeDescription(name: name, op: op, outputShapes: [[buf.count]], dtype: buf.dtype))
            producer[b] = name
            return name
        }
        for (i, n) in graph.nodes.enumerated() {
            let ops = i < t.spans.count ? t.spans[i] : 0..<0
            for k in ops {
                let op = t.graph.nodes[k]
                let stem = String(op.kind.description.prefix { $0.isLetter || $0.isNumber })
                var inputs: [String] = []
                for r in op.reads { if let r, let p = source(r.buffer), !inputs.contains(p) { inputs.append(p) } }
                let outs = op.writes + op.returned.compactMap { $0 }
                let name = unique(n.name + "/" + stem)
                nodes.append(GraphNodeDescription(name: name, op: stem, inputs: inputs, outputShapes: outs.map { t.symbolicShape($0, node: k) },
                                                  dtype: outs.first.map { t.graph.buffers[$0.buffer].dtype },
                                                  attributes: ["op": .string(op.kind.description)]))
                for o in outs { producer[o.buffer] = name }
            }
            // The call itself: reads the values its ops left in its outputs, and stands for them afterwards.
            let outRefs = i < t.nodeOutputs.count ? t.nodeOutputs[i] : []
            var inputs: [String] = []
            for r in outRefs { if let p = source(r.buffer), !inputs.contains(p) { inputs.append(p) } }
            var attrs: [String: GraphAttributeValue] = [:]
            for (k, v) in n.attributes {
                switch v {
                case .int(let x): attrs[k] = .int(x)
                case .double(let x): attrs[k] = .double(x)
                case .bool(let x): attrs[k] = .bool(x)
                case .string(let x): attrs[k] = .string(x)
                case .ints(let x): attrs[k] = .ints(x)
                }
            }
            let name = unique(n.name)
            nodes.append(GraphNodeDescription(name: name, op: n.op, inputs: inputs, outputShapes: n.outputSpecs.map(\.shape),
                                              dtype: n.outputSpecs.first?.dtype, attributes: attrs))
            for r in outRefs { producer[r.buffer] = name }
        }
        self.init(nodes: nodes)
    }
}

extension SummaryWriter {
    /// Writes a graph (a Keras model's `graph`) for TensorBoard's Graphs tab as its op graph, one name scope per
    /// layer call (see `GraphDescription.init(_: Graph)`): `writer.addGraph(model.graph!)`.
    public func addGraph(_ graph: Graph, wallTime: Double? = nil) {
        addGraph(GraphDescription(graph), wallTime: wallTime)
    }
}
