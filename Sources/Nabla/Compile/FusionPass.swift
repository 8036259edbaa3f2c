extension GraphPasses {
    /// Element-wise fusion: connected element-wise nodes of one output shape become one `fused` node that runs them
    /// tile by tile (`FusedKernel`), so their intermediate results never go through memory.
    ///
    /// A node joins the group of a producer when it is the only node reading the producer's result, reads it whole
    /// and in order, and has the same shape; the group runs where its last member ran, so no buffer a member reads
    /// may be written between that member and the last one. Results that leave the group (outputs, gradients, values
    /// other nodes read) end a group. Nodes that constant folding will run once at build time stay apart.
    static func fuseElementwise(_ g: CompiledGraph) {
        let nodes = g.nodes
        let writers = writerCounts(g), liveOut = g.liveOut
        let foldable = foldableNodes(g)
        var readers = [Set<Int>](repeating: [], count: g.buffers.count)
        var writePositions = [[Int]](repeating: [], count: g.buffers.count)
        for (i, n) in nodes.enumerated() {
            for r in n.reads { if let r { readers[r.buffer].insert(i) } }
            for w in n.writes { writePositions[w.buffer].append(i) }
            for r in n.returned { if let r { writePositions[r.buffer].append(i) } }
        }
        func candidate(_ i: Int) -> Bool {
            let n = nodes[i]
            guard n.kind.isElementwise, !foldable[i], n.contextFrom == nil, n.returned.isEmpty, n.writes.count == 1,
                  n.rule == nil else { return false }
            let w = n.writes[0], buf = g.buffers[w.buffer]
            return buf.role == .intermediate && writers[w.buffer] == 1 && w.coversContiguously(buf.count)
                && !n.reads.contains { $0?.buffer == w.buffer }
        }
        var groupOf = [Int?](repeating: nil, count: nodes.count)   // node → group id
        var members: [[Int]] = []                                 // group id → nodes, in order
        for i in nodes.indices where candidate(i) {
            let n = nodes[i], shape = n.writes[0].shape
            var joined: [Int] = []
            for r in n.reads {
                guard let r, let p = (writePositions[r.buffer].count == 1 ? writePositions[r.buffer][0] : nil),
                      let gid = groupOf[p], !joined.contains(gid), members[gid].last == p,
                      !liveOut.contains(r.buffer), readers[r.buffer] == [i], r.shape == shape,
                      r.coversContiguously(g.buffers[r.buffer].count), nodes[p].writes[0].shape == shape,
                      n.reads.allSatisfy({ $0?.buffer != r.buffer || $0 == r })
                else { continue }
                // Every member of the producer's group must be able to run at position i.
                let movable = members[gid].allSatisfy { m in
                    nodes[m].reads.allSatisfy { rr in
                        guard let rr else { return true }
                        return !writePositions[rr.buffer].contains { $0 > m && $0 < i }
                    }
                }
                if movable { joined.append(gid) }
            }
            if joined.isEmpty {
                groupOf[i] = members.count
                members.append([i])
            } else {
                let merged = joined.flatMap { members[$0] }.sorted() + [i]
                let gid = joined[0]
                for k in joined.dropFirst() { members[k] = [] }
                members[gid] = merged
                for m in merged { groupOf[m] = gid }
            }
        }
        var rootOf: [Int: Int] = [:]    // last member → group id
        var absorbed = Set<Int>()
        for (gid, ms) in members.enumerated() where ms.count > 1 {
            rootOf[ms.last!] = gid
            absorbed.formUnion(ms.dropLast())
        }
        guard !rootOf.isEmpty else { g.replaceNodes(nodes, log: "fusion: no element-wise chains"); return }
        var out: [TracedNode] = []
        var newIndex = [Int?](repeating: nil, count: nodes.count)
        var fusedOps = 0
        for (i, n) in nodes.enumerated() where !absorbed.contains(i) {
            var m = n
            if let gid = rootOf[i] {
                m = fusedNode(members[gid].map { nodes[$0] }, g)
                fusedOps += members[gid].count
            }
            if let c = n.contextFrom { m.contextFrom = newIndex[c] }
            newIndex[i] = out.count
            out.append(m)
        }
        g.replaceNodes(out, log: "fusion: \(fusedOps) element-wise nodes into \(rootOf.count) fused nodes")
    }

    /// One node running `group` (element-wise nodes, the last one's result the output) tile by tile.
    private static func fusedNode(_ group: [TracedNode], _ g: CompiledGraph) -> TracedNode {
        var inputs: [TensorRef] = []
        var producedBy: [Int: Int] = [:]   // buffer → member
        var operands: [[FusedProgram.Operand]] = []
        for (k, n) in group.enumerated() {
            operands.append(n.reads.map { r in
                let r = r!
                if let m = producedBy[r.buffer] { return .member(m) }
                if let j = inputs.firstIndex(of: r) { return .input(j) }
                inputs.append(r)
                return .input(inputs.count - 1)
            })
            producedBy[n.writes[0].buffer] = k
        }
        let program = FusedProgram(ops: group.map(\.kind), operands: operands)
        let last = group.last!
        let kernel = FusedKernel(program: program, calls: group.map(\.call),
                                 dtypes: group.map { g.buffers[$0.writes[0].buffer].dtype }, shape: last.writes[0].shape)
        return TracedNode(kind: .fused(program), reads: inputs, writes: last.writes, returned: [], contextFrom: nil,
                          location: last.location, backend: last.backend, call: kernel.call, rule: nil)
    }
}
