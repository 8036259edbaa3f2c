// Training convolutions with their ReLU and 2x2 max pool: the forward `conv2d → relu → maxPool2d` becomes one
// `conv2dReluMaxPool` node and, once the ReLU's gradient is masked by the pool's output (the pool-mask pass), the
// backward `thresholdBackward → maxPool2dBackward` one `maxPool2dReluBackward` node, as a CNN compiler fuses a conv
// block's post-ops. The full-size activation between the convolution and the pool is never written, and its
// gradient is written once instead of zeroed, then scattered into.

extension GraphPasses {
    /// Fuses each `conv2d` whose output only a `relu` reads, whose output only a 2x2, stride-2 `maxPool2d` reads (its
    /// indices may be read: the backward's), into one `conv2dReluMaxPool` node that writes the pool's values and
    /// indices, run where the pool ran. Then fuses each `thresholdBackward(g, p)` whose result only a
    /// `maxPool2dBackward` reads, where `p` and the indices are the values and indices of such a 2x2 pool, into one
    /// `maxPool2dReluBackward` node run where the pool's backward ran.
    ///
    /// Exact: the fused forward runs the convolution kernel the separate `conv2d` picks (block of images by block,
    /// each output element summed in the same order), then the same ReLU and pool kernels; the fused backward puts
    /// `0 + masked g` at each window's picked position and zero elsewhere, which is what zeroing and adding into
    /// non-overlapping windows give. Runs after the pool-mask pass (which leaves the ReLU's output read by the pool
    /// alone) and the prepared-convolution pass (eval graphs), before GEMM epilogues and element-wise fusion.
    static func fuseConvReluPool(_ g: CompiledGraph) {
        fuseConvReluPoolForward(g)
        fusePoolReluBackward(g)
    }

    /// The forward half of `fuseConvReluPool`.
    private static func fuseConvReluPoolForward(_ g: CompiledGraph) {
        let nodes = g.nodes
        let writers = writerCounts(g), liveOut = g.liveOut, foldable = foldableNodes(g)
        let (readers, writePositions) = accessPositions(g)
        func soleReader(_ b: Int) -> Int? { GraphPasses.soleReader(of: b, g, writers: writers, readers: readers, liveOut: liveOut) }
        func whole(_ r: TensorRef) -> Bool { r.coversContiguously(g.buffers[r.buffer].count) }
        var out = nodes, keep = [Bool](repeating: true, count: nodes.count), fused = 0
        for (i, n) in nodes.enumerated() {
            guard case .conv2d(let geom, let hasBias) = n.kind, !foldable[i], n.contextFrom == nil, n.returned.isEmpty,
                  n.writes.count == 1, n.reads.count == 3, n.reads[0] != nil, n.reads[1] != nil, whole(n.writes[0]),
                  let r = soleReader(n.writes[0].buffer), case .unary(.relu) = nodes[r].kind, !foldable[r],
                  nodes[r].reads == [n.writes[0]], nodes[r].writes.count == 1, whole(nodes[r].writes[0]),
                  let p = soleReader(nodes[r].writes[0].buffer), case .maxPool2d(let windows) = nodes[p].kind, !foldable[p],
                  isPool2x2(windows, geom),
                  nodes[p].reads == [nodes[r].writes[0]], nodes[p].writes.count == 2, nodes[p].writes.allSatisfy(whole)
            else { continue }
            // The fused node runs at the pool's position: nothing in between may write what the convolution reads.
            let inputs = n.reads.compactMap { $0?.buffer }
            guard !inputs.contains(where: { b in writePositions[b].contains { $0 > i && $0 < p } }) else { continue }
            let call: NodeCall = { b, a in
                b.conv2dReluMaxPool(a.reads[0]!, weight: a.reads[1]!, bias: a.reads[2], geometry: geom, windows: windows,
                                    out: a.writes[0], indices: a.writes[1])
                return NodeResult()
            }
            out[p] = TracedNode(kind: .conv2dReluMaxPool(geom, bias: hasBias, windows), reads: n.reads, writes: nodes[p].writes,
                                returned: [], contextFrom: nil, location: n.location, backend: n.backend, call: call, rule: nil)
            keep[i] = false
            keep[r] = false
            fused += 1
        }
        guard fused > 0 else { return }
        g.replaceNodes(out, log: "")
        filter(g, keep: keep, log: "convolution blocks: \(fused) conv2d + relu + maxPool2d fused")
    }

    /// The backward half of `fuseConvReluPool`.
    private static func fusePoolReluBackward(_ g: CompiledGraph) {
        let nodes = g.nodes
        let writers = writerCounts(g), liveOut = g.liveOut, foldable = foldableNodes(g)
        let (readers, writePositions) = accessPositions(g)
        var out = nodes, keep = [Bool](repeating: true, count: nodes.count), fused = 0
        for (i, n) in nodes.enumerated() {
            guard case .maxPool2dBackward = n.kind, !foldable[i], n.reads.count == 2, let masked = n.reads[0], let indices = n.reads[1],
                  n.writes.count == 1, n.returned.isEmpty,
                  // The mask: thresholdBackward(grad, pooled) → masked, read by this node alone.
                  GraphPasses.soleReader(of: masked.buffer, g, writers: writers, readers: readers, liveOut: liveOut) == i,
                  let m = writePositions[masked.buffer].first, m < i, case .binary(.thresholdBackward) = nodes[m].kind,
                  !foldable[m], nodes[m].writes == [masked], nodes[m].reads.count == 2,
                  let grad = nodes[m].reads[0], let pooled = nodes[m].reads[1],
                  // The forward that wrote the pooled values and the indices together, with 2x2 windows.
                  writers[indices.buffer] == 1, writers[pooled.buffer] == 1, let f = writePositions[indices.buffer].first,
                  let windows = poolWindows(of: nodes[f]), windows.tiledKernel == 2, nodes[f].writes == [pooled, indices],
                  masked.shape == pooled.shape, grad.shape == pooled.shape
            else { continue }
            // The fused node runs at the pool backward's position: nothing in between may write what the mask read.
            guard ![grad.buffer, pooled.buffer].contains(where: { b in writePositions[b].contains { $0 > m && $0 < i } }) else { continue }
            let call: NodeCall = { b, a in
                b.maxPool2dReluBackward(a.reads[0]!, pooled: a.reads[1]!, indices: a.reads[2]!, windows: windows, out: a.writes[0])
                return NodeResult()
            }
            out[i] = TracedNode(kind: .maxPool2dReluBackward(windows), reads: [grad, pooled, indices], writes: n.writes, returned: [],
                                contextFrom: nil, location: n.location, backend: n.backend, call: call, rule: nil)
            keep[m] = false
            fused += 1
        }
        guard fused > 0 else { return }
        g.replaceNodes(out, log: "")
        filter(g, keep: keep, log: "max-pool gradients: \(fused) thresholdBackward + maxPool2dBackward fused")
    }

    /// The windows of a node that writes a 2-D max pool's values and indices (a pool, or a fused convolution block).
    private static func poolWindows(of n: TracedNode) -> PoolWindows? {
        switch n.kind {
        case .maxPool2d(let w), .conv2dReluMaxPool(_, _, let w): return w
        default: return nil
        }
    }
}
