extension GraphPasses {
    /// ReLU's gradient through a max pool: `thresholdBackward(maxPool2dBackward(g, idx), y)`, where `y` is what the
    /// max pool read (a ReLU's output), becomes `maxPool2dBackward(thresholdBackward(g, p), idx)`, where `p` is the
    /// pool's output, so the backward no longer reads `y` and the memory plan frees it as soon as the forward pooled
    /// it (in W4 the two ReLU outputs, 19 of the step's 42 MB, stop living across the backward).
    ///
    /// Exact, bit for bit: the pool's backward puts `g[j]` (summed, where windows overlap) at the input positions its
    /// windows picked, and zeros elsewhere; at a picked position `idx[j]`, `y[idx[j]]` is `p[j]` itself, so masking
    /// `g[j]` by `p[j] > 0` before the scatter keeps or drops the same terms as masking the sum by `y > 0` after it.
    ///
    /// The masked gradient lives in a new buffer the size of the pool's output (the in-place pass may put it over `g`
    /// when `g` dies there). Both nodes keep their places: the mask runs where the pool's backward ran, the pool's
    /// backward where the mask ran, so the rewrite applies only when nothing between them writes what they read.
    static func maskGradientsBeforePoolBackward(_ g: CompiledGraph) {
        var nodes = g.nodes
        let writers = writerCounts(g), liveOut = g.liveOut, foldable = foldableNodes(g)
        let (readers, writePositions) = accessPositions(g)
        func unchanged(_ b: Int, between a: Int, _ c: Int) -> Bool { !writePositions[b].contains { $0 > a && $0 < c } }
        var rewritten = 0
        for i in nodes.indices {
            // B: the ReLU's backward, thresholdBackward(G, y) → G'.
            let mask = nodes[i]
            guard case .binary(.thresholdBackward) = mask.kind, mask.reads.count == 2, let grad = mask.reads[0], let y = mask.reads[1],
                  mask.writes.count == 1, !foldable[i], mask.contextFrom == nil, mask.returned.isEmpty,
                  // A: the pool's backward writing G (all of it), read by B alone.
                  writers[grad.buffer] == 1, let a = writePositions[grad.buffer].first, a < i,
                  case .maxPool2dBackward = nodes[a].kind, nodes[a].writes == [grad], !foldable[a],
                  readers[grad.buffer] == [i], !liveOut.contains(grad.buffer),
                  let poolGrad = nodes[a].reads[0], let indices = nodes[a].reads[1],
                  // F: the forward pool that read y and wrote p and the same indices, each written once.
                  writers[y.buffer] == 1, writers[indices.buffer] == 1, let f = writePositions[indices.buffer].first, f < a,
                  case .maxPool2d = nodes[f].kind, nodes[f].reads.first == y, nodes[f].writes.count == 2,
                  nodes[f].writes[1] == indices, case let p = nodes[f].writes[0], writers[p.buffer] == 1,
                  p.shape == poolGrad.shape, g.buffers[p.buffer].dtype == g.buffers[poolGrad.buffer].dtype,
                  g.buffers[y.buffer].dtype == g.buffers[p.buffer].dtype,
                  unchanged(poolGrad.buffer, between: a, i), unchanged(indices.buffer, between: a, i),
                  unchanged(p.buffer, between: f, a)
            else { continue }
            let count = p.shape.reduce(1, *)
            let masked = TensorRef(buffer: g.addBuffer(TracedBuffer(role: .intermediate, dtype: g.buffers[p.buffer].dtype, count: count)),
                                   shape: p.shape, strides: Shape.contiguousStrides(p.shape), offset: 0)
            let backward = nodes[a]
            nodes[a] = TracedNode(kind: mask.kind, reads: [poolGrad, p], writes: [masked], returned: [], contextFrom: nil,
                                  location: mask.location, backend: mask.backend, call: mask.call, rule: nil)
            nodes[i] = TracedNode(kind: backward.kind, reads: [masked, indices], writes: mask.writes, returned: [], contextFrom: nil,
                                  location: backward.location, backend: backward.backend, call: backward.call, rule: nil)
            rewritten += 1
        }
        guard rewritten > 0 else { return }
        g.replaceNodes(nodes, log: "ReLU gradients through max pools: \(rewritten) masked before the pool's backward")
    }
}
