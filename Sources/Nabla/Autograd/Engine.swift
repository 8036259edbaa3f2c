import Synchronization

/// Runs reverse-mode passes over the recorded graph (Kahn's algorithm over the nodes reachable
/// from the roots), accumulating into leaves or capturing gradients for `gradients(of:wrt:)`.
enum Engine {
    private static let epoch = Atomic<Int>(0)

    /// Back-propagates `rootGrads` from `roots`.
    ///
    /// - Parameter capture: when given, gradients reaching these edges are returned instead of
    ///   being accumulated into `.grad` (and no leaf is touched).
    static func run(roots: [Tensor], rootGrads: [Tensor], retainGraph: Bool, createGraph: Bool,
                    capture: [Edge]? = nil) -> [Tensor?] {
        let mark = epoch.wrappingAdd(1, ordering: .relaxed).newValue
        // Discover nodes reachable from the roots and count incoming edges. The list of them is kept only for a
        // capture: otherwise the nodes no edge reaches, where the pass starts, are among the roots.
        let keepsOrder = capture != nil
        var order: [Node] = []
        var stack: [Node] = []
        var rootNodes: [Node] = []
        for r in roots {
            guard let n = r.gradEdge.node else { continue }
            if n.mark != mark { n.mark = mark; n.dependencies = 0; n.resetPending(); stack.append(n); rootNodes.append(n) }
        }
        while let n = stack.popLast() {
            if keepsOrder { order.append(n) }
            for k in 0..<n.edgeCount {
                guard let m = n.edge(k).node else { continue }
                if m.mark != mark {
                    m.mark = mark; m.dependencies = 0
                    m.resetPending()
                    stack.append(m)
                }
                m.dependencies += 1
            }
        }
        var captured = [Tensor?](repeating: nil, count: capture?.count ?? 0)
        var captureIndex: [ObjectIdentifier: [(Int, Int)]] = [:]
        // With a capture, only nodes on a path to a captured edge run (torch.autograd.grad's exec_info):
        // no wasted work below the inputs, and parts of the graph freed earlier are never touched.
        var needed: Set<ObjectIdentifier>? = nil
        if let capture {
            for (i, e) in capture.enumerated() { if let n = e.node { captureIndex[ObjectIdentifier(n), default: []].append((e.outputNr, i)) } }
            needed = neededNodes(order, captures: captureIndex)
        }
        // Seed the roots.
        for (r, g) in zip(roots, rootGrads) {
            let e = r.gradEdge
            guard let n = e.node else { continue }
            n.addPending(e.outputNr, g)
        }
        // The nodes to start from, in the order a traversal of the roots discovers them (the last root first).
        var ready: [Node] = keepsOrder ? order.filter { $0.dependencies == 0 } : rootNodes.reversed().filter { $0.dependencies == 0 }
        var single: [Tensor] = []
        single.reserveCapacity(1)
        let previous = isGradEnabled
        isGradEnabled = createGraph
        defer { isGradEnabled = previous }
        while let n = ready.popLast() {
            let pending0 = n.pending0.take()   // moved out: no retain of the gradient and no release of the slot
            let slots = captureIndex.isEmpty ? nil : captureIndex[ObjectIdentifier(n)]
            if n.isAccumulator {
                let acc = unsafeDowncast(n, to: AccumulateGrad.self)
                if let slots {
                    // The leaf's hooks see the gradient before it is returned, as they would before accumulation.
                    if var g = pending0 {
                        if let hooks = acc.leaf.hooks { for h in hooks { if let r = h(g) { g = r } } }
                        for (_, i) in slots { captured[i] = g }
                    }
                } else if capture == nil, let g = pending0 {
                    acc.accumulate(g, createGraph: createGraph)
                }
                continue
            }
            let runs = needed.map { $0.contains(ObjectIdentifier(n)) } ?? true
            if !runs && slots == nil {
                for k in 0..<n.edgeCount {
                    guard let m = n.edge(k).node else { continue }
                    m.dependencies -= 1
                    if m.dependencies == 0 { ready.append(m) }
                }
                continue
            }
            if n.pairBackwardFn != nil && runs && n.outputCount == 1 && slots == nil && !n.isObserved,
               let g = pending0 {
                // A one- or two-input op with a pair backward and nothing to observe its gradient: no arrays, and
                // a product term may go straight into an input's gathered gradient (`Node.gradientProduct`).
                n.fusesGradients = true
                let (g0, g1) = n.applyPair(g)
                n.fusesGradients = false
                if !retainGraph { n.release() }
                let edges = n.edgeCount
                if edges > 0 { deliver(g0, from: n, edge: 0, ready: &ready) }
                if edges > 1 { deliver(g1, from: n, edge: 1, ready: &ready) }
                continue
            }
            // Materialise missing output gradients as zeros; run hooks and retained grads.
            var grads: [Tensor]
            var anyGrad = false
            if n.outputCount == 1 && !n.isObserved && slots == nil {
                // The common case: one output, no hooks, nothing retained or captured. The one-element array is
                // reused from node to node (it is uniquely referenced again once a backward has returned, unless
                // that backward kept it, and then copy-on-write leaves the kept one alone).
                if let g = pending0 {
                    if single.isEmpty { single.append(g) } else { single[0] = g }
                    grads = single
                    anyGrad = true
                } else { grads = [] }
            } else {
                grads = []
                grads.reserveCapacity(n.outputCount)
                for i in 0..<n.outputCount {
                    if var g = i == 0 ? pending0 : n.extras!.pendingRest[i - 1] {
                        anyGrad = true
                        for (k, h) in n.outputHooks where k == i { if let r = h(g) { g = r } }
                        for (k, w) in n.retained where k == i {
                            if let t = w.tensor {
                                let d = createGraph ? g : g.detached()
                                t.grad = t.grad.map { $0 + d } ?? d
                            }
                        }
                        if let slots { for (k, c) in slots where k == i { captured[c] = g } }
                        grads.append(g)
                    } else if runs {
                        grads.append(Tensor.zeros(n.outputShape(i), dtype: n.outputDType, device: n.outputDevice))
                    }
                }
            }
            var inputGrads: [Tensor?] = []
            if runs && anyGrad {
                inputGrads = n.apply(grads)
                check(inputGrads.count == n.edgeCount, "\(n.name): backward returned \(inputGrads.count) gradients for \(n.edgeCount) inputs")
            }
            grads = []
            if n.outputCount > 1 { n.extras?.pendingRest = [] }
            if runs && !retainGraph { n.release() }
            for k in 0..<n.edgeCount {
                let e = n.edge(k)
                guard let m = e.node else { continue }
                if k < inputGrads.count, let g = inputGrads[k] { m.addPending(e.outputNr, g) }
                m.dependencies -= 1
                if m.dependencies == 0 { ready.append(m) }
            }
        }
        return captured
    }

    /// Adds `g` (when there is one) to the gradient gathered at the node of `n`'s edge `k` (0 or 1) and readies that
    /// node when this was its last incoming edge.
    @inline(__always) private static func deliver(_ g: Tensor?, from n: Node, edge k: Int, ready: inout [Node]) {
        guard let m = k == 0 ? n.edge0.node : n.edge1.node else { return }
        if let g { m.addPending(k == 0 ? n.edge0.outputNr : n.edge1.outputNr, g) }
        m.dependencies -= 1
        if m.dependencies == 0 { ready.append(m) }
    }

    /// The nodes whose backward must run: those with an input from which a captured node can be reached.
    private static func neededNodes(_ nodes: [Node], captures: [ObjectIdentifier: [(Int, Int)]]) -> Set<ObjectIdentifier> {
        // Children before parents: a topological order of the discovered subgraph, reversed.
        var indegree: [ObjectIdentifier: Int] = [:]
        for n in nodes { for e in n.next { if let m = e.node { indegree[ObjectIdentifier(m), default: 0] += 1 } } }
        var queue = nodes.filter { indegree[ObjectIdentifier($0)] == nil }
        var topo: [Node] = []
        topo.reserveCapacity(nodes.count)
        while let n = queue.popLast() {
            topo.append(n)
            for e in n.next {
                guard let m = e.node else { continue }
                let id = ObjectIdentifier(m)
                indegree[id]! -= 1
                if indegree[id] == 0 { queue.append(m) }
            }
        }
        var reaches = Set<ObjectIdentifier>(), runs = Set<ObjectIdentifier>()
        for n in topo.reversed() {
            let id = ObjectIdentifier(n)
            let childReaches = n.next.contains { $0.node.map { reaches.contains(ObjectIdentifier($0)) } ?? false }
            if childReaches { runs.insert(id) }
            if childReaches || captures[id] != nil { reaches.insert(id) }
        }
        return runs
    }
}
