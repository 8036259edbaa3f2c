extension GraphPasses {
    /// Log-softmax + NLL fusion: `logSoftmax(x, dim: 1)` read by `nllLoss` becomes one `softmaxCrossEntropy` node (one
    /// pass per row writes the log-probabilities and picks the loss), and `nllLossBackward` read only by
    /// `logSoftmaxBackward` becomes one `softmaxCrossEntropyBackward` node (`(softmax − one-hot)·w·g/W` in one pass),
    /// so `nllLoss(logSoftmax(x, dim: 1), y)` runs as `crossEntropy(x, y)` does.
    ///
    /// Each fused node runs where the second of its pair ran, so the pair fuses only when nothing between them reads
    /// what the first wrote or writes what the first read.
    static func fuseSoftmaxCrossEntropy(_ g: CompiledGraph) {
        var nodes = g.nodes
        let writers = writerCounts(g), liveOut = g.liveOut, foldable = foldableNodes(g)
        let (readers, writePositions) = accessPositions(g)
        /// Whether no node strictly between `a` and `b` writes a buffer in `reads`.
        func unchanged(_ reads: [TensorRef?], between a: Int, _ b: Int) -> Bool {
            reads.allSatisfy { r in r.map { r in !writePositions[r.buffer].contains { $0 > a && $0 < b } } ?? true }
        }
        var keep = [Bool](repeating: true, count: nodes.count)
        var forward = 0, backward = 0
        for i in nodes.indices {
            let n = nodes[i]
            switch n.kind {
            case .nllLoss(let ignore, let reduction):
                guard let lv = n.reads[0], writers[lv.buffer] == 1, let s = writePositions[lv.buffer].first, s < i, keep[s],
                      case .softmax(dim: 1, log: true) = nodes[s].kind, nodes[s].writes == [lv], lv.shape.count == 2,
                      let x = nodes[s].reads[0], x.shape == lv.shape, !foldable[s], !foldable[i],
                      readers[lv.buffer].allSatisfy({ $0 >= i }), unchanged([x], between: s, i)
                else { continue }
                let call: NodeCall = { b, a in
                    b.softmaxCrossEntropy(a.reads[0]!, target: a.reads[1]!, weight: a.reads[2], ignoreIndex: ignore, reduction: reduction,
                                          logProbs: a.writes[0], loss: a.writes[1])
                    return NodeResult()
                }
                nodes[i] = TracedNode(kind: .softmaxCrossEntropy(ignoreIndex: ignore, reduction: reduction), reads: [x, n.reads[1], n.reads[2]],
                                      writes: [lv, n.writes[0]], returned: [], contextFrom: nil, location: n.location,
                                      backend: n.backend, call: call, rule: nil)
                keep[s] = false
                forward += 1
            case .softmaxBackward(dim: 1, log: true):
                guard let gv = n.reads[0], let y = n.reads[1], gv.shape.count == 2, writers[gv.buffer] == 1,
                      let p = writePositions[gv.buffer].first, p < i, keep[p], case .nllLossBackward(let ignore, let reduction) = nodes[p].kind,
                      nodes[p].writes == [gv], readers[gv.buffer] == [i], !liveOut.contains(gv.buffer), !foldable[p], !foldable[i],
                      unchanged(nodes[p].reads, between: p, i)
                else { continue }
                let b1 = nodes[p]
                let call: NodeCall = { b, a in
                    b.softmaxCrossEntropyBackward(a.reads[0]!, logProbs: a.reads[1]!, target: a.reads[2]!, weight: a.reads[3],
                                                  ignoreIndex: ignore, reduction: reduction, out: a.writes[0])
                    return NodeResult()
                }
                nodes[i] = TracedNode(kind: .softmaxCrossEntropyBackward(ignoreIndex: ignore, reduction: reduction),
                                      reads: [b1.reads[0], y, b1.reads[1], b1.reads[2]], writes: n.writes, returned: [], contextFrom: nil,
                                      location: n.location, backend: n.backend, call: call, rule: nil)
                keep[p] = false
                backward += 1
            default: continue
            }
        }
        guard forward + backward > 0 else { return }
        g.replaceNodes(nodes, log: "")
        filter(g, keep: keep, log: "softmax + cross-entropy: \(forward) forward and \(backward) backward pairs into one node each")
    }
}
