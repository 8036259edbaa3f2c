extension GraphPasses {
    /// In-place reuse of dead inputs: an element-wise node (unary, binary, scalar, `where`, a fused chain) whose
    /// output has the shape and element type of an input read for the last time by that node writes over that input
    /// (a ReLU over the convolution it follows, a ReLU's gradient over the gradient it masks), so the two never take
    /// memory at once. Run last, before the memory plan.
    ///
    /// Only exact overlays qualify: both views whole and contiguous with the same shape, so element `k` of the output
    /// is written where element `k` of the input was, after the kernel read it (element-wise kernels, and fused nodes
    /// tile by tile, read an element before they write it). Inputs that outlive the node (read later, directly or
    /// through a backward's context, outputs, gradients, constants folded at build time) are never overwritten.
    static func reuseDeadInputs(_ g: CompiledGraph) {
        var nodes = g.nodes
        let liveOut = g.liveOut, foldable = foldableNodes(g), dynamic = MemoryPlan.returnedBuffers(g)
        let writers = writerCounts(g)
        var start = [Int](repeating: Int.max, count: g.buffers.count), end = [Int](repeating: -1, count: g.buffers.count)
        var writtenByFolded = [Bool](repeating: false, count: g.buffers.count)
        for (i, n) in nodes.enumerated() {
            for b in n.touched { start[b] = Swift.min(start[b], i); end[b] = Swift.max(end[b], i) }
            if let c = n.contextFrom { for b in nodes[c].touched { end[b] = Swift.max(end[b], i) } }
            if foldable[i] { for w in n.writes { writtenByFolded[w.buffer] = true } }
        }
        func eligible(_ b: Int) -> Bool {
            g.buffers[b].role == .intermediate && !liveOut.contains(b) && !dynamic.contains(b) && !writtenByFolded[b]
        }
        var rename: [Int: Int] = [:]   // output buffer → the input buffer it now lives in
        for i in nodes.indices {
            // References to merged buffers point at their new home.
            nodes[i].reads = nodes[i].reads.map { $0.map { r in var r = r; r.buffer = rename[r.buffer] ?? r.buffer; return r } }
            nodes[i].writes = nodes[i].writes.map { w in var w = w; w.buffer = rename[w.buffer] ?? w.buffer; return w }
            let n = nodes[i]
            switch n.kind {
            case .unary, .binary, .binaryScalar, .select, .fused: break
            default: continue
            }
            guard !foldable[i], n.writes.count == 1, n.returned.isEmpty, n.contextFrom == nil else { continue }
            let w = n.writes[0], wb = g.buffers[w.buffer]
            guard eligible(w.buffer), writers[w.buffer] == 1, start[w.buffer] == i, w.coversContiguously(wb.count) else { continue }
            let candidate = n.reads.first { r in
                guard let r, r.buffer != w.buffer, end[r.buffer] == i, eligible(r.buffer) else { return false }
                let rb = g.buffers[r.buffer]
                return rb.dtype == wb.dtype && rb.count == wb.count && r.shape == w.shape && r.coversContiguously(rb.count)
                    && n.reads.allSatisfy { $0?.buffer != r.buffer || $0 == r }
            }
            guard let home = candidate??.buffer else { continue }
            rename[w.buffer] = home
            end[home] = end[w.buffer]
            nodes[i].writes[0].buffer = home
        }
        g.replaceNodes(nodes, log: "in-place reuse: \(rename.count) element-wise outputs written over their dead inputs")
    }
}
