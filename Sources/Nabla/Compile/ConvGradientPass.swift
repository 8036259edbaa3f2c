extension GraphPasses {
    /// Planned convolution input gradients: a `conv2dBackward` node that returns the input's gradient (a buffer the
    /// backend allocates at every run, outside the memory plan) writes it instead into a planned buffer, through
    /// `Backend.conv2dBackward(_:weight:grad:geometry:inputGradient:weight:bias:)` (the CPU's Winograd kernel computes
    /// straight into it; other kernels copy). The buffer then shares the arena with the rest, and element-wise nodes
    /// after it may write over it in place. The weight's and bias's gradients stay returned (they are small).
    static func planConvInputGradients(_ g: CompiledGraph) {
        var nodes = g.nodes
        let writers = writerCounts(g)
        var planned = 0
        for i in nodes.indices {
            let n = nodes[i]
            guard case .conv2dBackward(let geometry, let needX, let needW, let needB) = n.kind, needX, n.returned.count == 3,
                  let gx = n.returned[0], writers[gx.buffer] == 1, gx.coversContiguously(g.buffers[gx.buffer].count),
                  n.reads.count == 3, n.reads.allSatisfy({ $0 != nil })
            else { continue }
            let call: NodeCall = { b, a in
                let r = b.conv2dBackward(a.reads[0]!, weight: a.reads[1]!, grad: a.reads[2]!, geometry: geometry,
                                         inputGradient: a.writes[0], weight: needW, bias: needB)
                return NodeResult(returned: [nil, r.weight, r.bias])
            }
            nodes[i] = TracedNode(kind: n.kind, reads: n.reads, writes: [gx], returned: [nil, n.returned[1], n.returned[2]],
                                  contextFrom: n.contextFrom, location: n.location, backend: n.backend, call: call, rule: n.rule)
            planned += 1
        }
        guard planned > 0 else { return }
        g.replaceNodes(nodes, log: "planned convolution input gradients: \(planned)")
    }
}
