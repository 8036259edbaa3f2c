/// The compiler's graph-to-graph passes. Each keeps the graph's meaning: the same buffers that outlive the run
/// (arguments, captured buffers, outputs, gradients) end with the same values.
enum GraphPasses {
    /// How many nodes write each buffer.
    static func writerCounts(_ g: CompiledGraph) -> [Int] {
        var c = [Int](repeating: 0, count: g.buffers.count)
        for n in g.nodes {
            for w in n.writes { c[w.buffer] += 1 }
            for r in n.returned { if let r { c[r.buffer] += 1 } }
        }
        return c
    }

    /// For each buffer, the nodes that read it (each once, in order) and the positions of the nodes that write or
    /// return it (in order).
    static func accessPositions(_ g: CompiledGraph) -> (readers: [[Int]], writePositions: [[Int]]) {
        var readers = [[Int]](repeating: [], count: g.buffers.count)
        var writePositions = [[Int]](repeating: [], count: g.buffers.count)
        for (i, n) in g.nodes.enumerated() {
            for r in n.reads { if let r, readers[r.buffer].last != i { readers[r.buffer].append(i) } }
            for w in n.writes { writePositions[w.buffer].append(i) }
            for r in n.returned { if let r { writePositions[r.buffer].append(i) } }
        }
        return (readers, writePositions)
    }

    /// The index of the first node writing each buffer (nil when none does).
    static func firstWriter(_ g: CompiledGraph) -> [Int?] {
        var f = [Int?](repeating: nil, count: g.buffers.count)
        for (i, n) in g.nodes.enumerated() {
            for w in n.writes where f[w.buffer] == nil { f[w.buffer] = i }
            for r in n.returned { if let r, f[r.buffer] == nil { f[r.buffer] = i } }
        }
        return f
    }

    /// Whether `b` holds one value from before node `i` to the end: never written, or written once before `i`.
    static func isStable(_ b: Int, before i: Int, writers: [Int], first: [Int?]) -> Bool {
        writers[b] == 0 || (writers[b] == 1 && (first[b] ?? Int.max) < i)
    }

    /// `reads` with every buffer in `rename` replaced by the buffer holding the same value.
    static func renamed(_ reads: [TensorRef?], _ rename: [Int: Int]) -> [TensorRef?] {
        reads.map { $0.map { r in var r = r; r.buffer = rename[r.buffer] ?? r.buffer; return r } }
    }

    /// The node that alone reads `b`, when `b` is an intermediate that one node writes and nothing outside the graph
    /// reads (nil otherwise).
    static func soleReader(of b: Int, _ g: CompiledGraph, writers: [Int], readers: [[Int]], liveOut: Set<Int>) -> Int? {
        guard writers[b] == 1, !liveOut.contains(b), g.buffers[b].role == .intermediate, readers[b].count == 1 else { return nil }
        return readers[b][0]
    }

    /// Keeps the nodes where `keep` is true, renumbering context links.
    static func filter(_ g: CompiledGraph, keep: [Bool], log: String) {
        var newIndex = [Int?](repeating: nil, count: g.nodes.count)
        var out: [TracedNode] = []
        for (i, n) in g.nodes.enumerated() where keep[i] {
            newIndex[i] = out.count
            var m = n
            if let c = n.contextFrom { m.contextFrom = newIndex[c] }
            out.append(m)
        }
        g.replaceNodes(out, log: log)
    }

    /// Dead-code elimination: drops nodes whose results nothing reads and that have no effect outside the graph.
    static func eliminateDeadCode(_ g: CompiledGraph) {
        var needed = g.liveOut
        var contextNeeded = Set<Int>()
        var keep = [Bool](repeating: false, count: g.nodes.count)
        for i in stride(from: g.nodes.count - 1, through: 0, by: -1) {
            let n = g.nodes[i]
            let live = g.hasEffect(n) || contextNeeded.contains(i)
                || n.writes.contains { needed.contains($0.buffer) } || n.returned.contains { $0.map { needed.contains($0.buffer) } ?? false }
            guard live else { continue }
            keep[i] = true
            for r in n.reads { if let r { needed.insert(r.buffer) } }
            if let c = n.contextFrom { contextNeeded.insert(c) }
        }
        let removed = keep.filter { !$0 }.count
        filter(g, keep: keep, log: "dead-code elimination: removed \(removed) of \(g.nodes.count) nodes")
    }

    /// Common-subexpression elimination: a pure node that repeats an earlier one on unchanged inputs reuses its result.
    static func eliminateCommonSubexpressions(_ g: CompiledGraph) {
        let writers = writerCounts(g), first = firstWriter(g)
        let liveOut = g.liveOut
        struct Key: Hashable { let kind: OpKind; let reads: [TensorRef?]; let writes: [[Int]] }
        var seen: [Key: Int] = [:]
        var rename: [Int: Int] = [:]   // buffer → buffer holding the same value
        var keep = [Bool](repeating: true, count: g.nodes.count)
        var nodes = g.nodes
        for i in nodes.indices {
            var n = nodes[i]
            n.reads = renamed(n.reads, rename)
            nodes[i] = n
            // Only pure, single-writer, whole-buffer results of stable inputs are values one may share.
            guard !n.kind.isImpure, n.contextFrom == nil, n.returned.isEmpty, !g.hasEffect(n), !n.writes.isEmpty,
                  n.reads.allSatisfy({ $0.map { isStable($0.buffer, before: i, writers: writers, first: first) } ?? true }),
                  n.writes.allSatisfy({ writers[$0.buffer] == 1 && !liveOut.contains($0.buffer)
                                        && $0.coversContiguously(g.buffers[$0.buffer].count) }),
                  !n.reads.contains(where: { r in r.map { r in n.writes.contains { $0.buffer == r.buffer } } ?? false })
            else { continue }
            let key = Key(kind: n.kind, reads: n.reads, writes: n.writes.map { $0.shape + [g.buffers[$0.buffer].dtype.itemSize] })
            if let j = seen[key] {
                for (a, b) in zip(n.writes, nodes[j].writes) where g.buffers[a.buffer].dtype == g.buffers[b.buffer].dtype {
                    rename[a.buffer] = b.buffer
                }
                keep[i] = n.writes.allSatisfy { rename[$0.buffer] != nil }
            } else {
                seen[key] = i
            }
        }
        // Later writes never target a renamed buffer (single writer), so renaming reads is enough.
        g.replaceNodes(nodes, log: "")
        filter(g, keep: keep, log: "common-subexpression elimination: merged \(keep.filter { !$0 }.count) nodes")
    }

    /// Algebraic simplification: `x * 1`, `x / 1`, `x + 0`, `x - 0`, `x ** 1` and same-dtype whole-buffer copies
    /// become aliases of their input.
    static func simplifyAlgebra(_ g: CompiledGraph) {
        let writers = writerCounts(g), first = firstWriter(g)
        let liveOut = g.liveOut
        var rename: [Int: Int] = [:]
        var keep = [Bool](repeating: true, count: g.nodes.count)
        var nodes = g.nodes
        for i in nodes.indices {
            var n = nodes[i]
            n.reads = renamed(n.reads, rename)
            nodes[i] = n
            let identity: Bool
            switch n.kind {
            case .binaryScalar(.mul, 1, _), .binaryScalar(.div, 1, false), .binaryScalar(.add, 0, _), .binaryScalar(.sub, 0, false),
                 .binaryScalar(.pow, 1, false), .copy:
                identity = true
            default: identity = false
            }
            guard identity, n.reads.count == 1, let src = n.reads[0], n.writes.count == 1 else { continue }
            let dst = n.writes[0]
            let sb = g.buffers[src.buffer], db = g.buffers[dst.buffer]
            guard sb.dtype == db.dtype, sb.count == db.count, writers[dst.buffer] == 1,
                  isStable(src.buffer, before: i, writers: writers, first: first), !liveOut.contains(src.buffer),
                  !liveOut.contains(dst.buffer), src.coversContiguously(sb.count), dst.coversContiguously(db.count),
                  db.role == .intermediate
            else { continue }
            rename[dst.buffer] = src.buffer
            keep[i] = false
        }
        g.replaceNodes(nodes, log: "")
        filter(g, keep: keep, log: "algebraic simplification: removed \(keep.filter { !$0 }.count) identity nodes")
    }

    /// Copy forwarding: a whole-buffer copy of a result that nothing else reads is dropped, and the node computing
    /// that result writes straight into the copy's destination (gradients the trace copied into `.grad`, which eager
    /// mode hands over without a copy when it owns the only reference).
    static func forwardCopies(_ g: CompiledGraph) {
        let writers = writerCounts(g), first = firstWriter(g), liveOut = g.liveOut
        var readers = [[Int]](repeating: [], count: g.buffers.count)
        for (i, n) in g.nodes.enumerated() { for r in n.reads { if let r { readers[r.buffer].append(i) } } }
        var nodes = g.nodes
        var keep = [Bool](repeating: true, count: nodes.count)
        for i in nodes.indices {
            guard case .copy = nodes[i].kind, let src = nodes[i].reads[0], nodes[i].writes.count == 1 else { continue }
            let dst = nodes[i].writes[0]
            let sb = g.buffers[src.buffer], db = g.buffers[dst.buffer]
            guard sb.dtype == db.dtype, sb.count == db.count, sb.role == .intermediate, db.role == .intermediate,
                  writers[src.buffer] == 1, writers[dst.buffer] == 1, !liveOut.contains(src.buffer),
                  readers[src.buffer] == [i], readers[dst.buffer].allSatisfy({ $0 > i }),
                  src.coversContiguously(sb.count), dst.coversContiguously(db.count),
                  let p = first[src.buffer], p < i, keep[p],
                  let k = nodes[p].writes.firstIndex(where: { $0.buffer == src.buffer }),
                  nodes[p].writes[k].coversContiguously(sb.count),
                  !nodes[p].reads.contains(where: { $0?.buffer == dst.buffer })
            else { continue }
            let shape = nodes[p].writes[k].shape
            nodes[p].writes[k] = TensorRef(buffer: dst.buffer, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0)
            keep[i] = false
        }
        g.replaceNodes(nodes, log: "")
        filter(g, keep: keep, log: "copy forwarding: removed \(keep.filter { !$0 }.count) copies")
    }

    /// Nodes computable once, when the graph is built: pure nodes whose inputs are all constants (`fill`, literals
    /// and what is computed from them alone, such as the ones that seed a backward). Their results become constants.
    static func foldableNodes(_ g: CompiledGraph) -> [Bool] {
        let writers = writerCounts(g)
        var constant = [Bool](repeating: false, count: g.buffers.count)
        for (b, buf) in g.buffers.enumerated() where buf.role == .constant && writers[b] == 0 { constant[b] = true }
        let liveOut = g.liveOut
        var fold = [Bool](repeating: false, count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            guard !n.kind.isImpure, !g.hasEffect(n), n.contextFrom == nil, n.returned.isEmpty, !n.writes.isEmpty,
                  n.reads.allSatisfy({ $0.map { constant[$0.buffer] } ?? true }),
                  n.writes.allSatisfy({ writers[$0.buffer] == 1 && !liveOut.contains($0.buffer) && g.buffers[$0.buffer].role == .intermediate })
            else { continue }
            fold[i] = true
            for w in n.writes { constant[w.buffer] = true }
        }
        return fold
    }
}
