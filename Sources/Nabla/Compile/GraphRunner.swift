/// Runs a compiled graph: the lowering of its nodes to backend calls over prebuilt views of planned buffers.
///
/// No Tensor op runs, so no autograd node is made, no shape is recomputed and no intermediate is allocated (except
/// what fused backward kernels allocate themselves); the views each node reads and writes are built once.
final class GraphRunner {
    /// How a node's argument is found at run time.
    enum Binding {
        /// A view built once (planned intermediates, captured buffers, constants, argument copies).
        case fixed(Tensor)
        /// A view of a buffer a backend returned earlier in this run.
        case dynamic(buffer: Int, shape: [Int], strides: [Int], offset: Int)
    }

    struct Step {
        let node: TracedNode
        let reads: [Binding?]
        let writes: [Binding]
        let returned: [Int?]
        /// Buffers returned by backends whose last reader this step is: dropped after it, so their memory goes back
        /// while the run goes on.
        var releases: [Int] = []
    }

    let graph: CompiledGraph
    private var steps: [Step] = []
    private var inputViews: [Tensor] = []
    private var outputBindings: [Binding] = []
    private var sinkBindings: [Binding] = []
    private var dynamic: [Storage?]
    private var contexts: [AnyObject?]
    private var rules: [[OptimizerRule]?]
    /// Arguments the graph changes in place (`x.add_(1)` on an argument): copied back to the caller's tensor.
    private var mutatedInputs: [Int] = []
    /// Constants the graph updates in place, with the bytes each run starts from.
    private var restores: [(Storage, [UInt8])] = []
    /// The node running now (for error messages).
    private(set) var runningNode = -1
    /// Backend calls made by the last run.
    private(set) var backendCalls = 0

    init(_ g: CompiledGraph) {
        graph = g
        dynamic = [Storage?](repeating: nil, count: g.buffers.count)
        contexts = [AnyObject?](repeating: nil, count: g.nodes.count)
        rules = [[OptimizerRule]?](repeating: nil, count: g.ruleSources.count)
        let dyn = MemoryPlan.returnedBuffers(g)
        var inputStorage: [Int: Storage] = [:]
        for r in g.inputs {
            let buf = g.buffers[r.buffer]
            let s = inputStorage[r.buffer] ?? Storage.allocate(count: buf.count, dtype: buf.dtype, backend: buf.inputBackend ?? Device.cpu.backend)
            inputStorage[r.buffer] = s
            inputViews.append(Tensor(storage: s, shape: r.shape, strides: r.strides, offset: r.offset))
        }
        func bind(_ r: TensorRef) -> Binding {
            let b = r.buffer
            if dyn.contains(b) { return .dynamic(buffer: b, shape: r.shape, strides: r.strides, offset: r.offset) }
            let storage: Storage
            var base = 0
            switch g.buffers[b].role {
            case .input: storage = inputStorage[b]!
            case .captured, .constant: storage = g.buffers[b].storage!
            case .intermediate:
                guard let place = g.plan.placement[b] else { nablaFail("compile: buffer %b\(b) has no place in the memory plan") }
                storage = g.plan.storages[place.arena]
                base = place.offset
            }
            return .fixed(Tensor(storage: storage, shape: r.shape, strides: r.strides, offset: base + r.offset))
        }
        for (i, n) in g.nodes.enumerated() {
            let step = Step(node: n, reads: n.reads.map { $0.map(bind) }, writes: n.writes.map(bind),
                            returned: n.returned.map { $0?.buffer })
            if i < g.folded.count && g.folded[i] {
                _ = execute(step)   // constant folding: run once now
            } else {
                steps.append(step)
            }
        }
        // A returned buffer dies after the last step that touches it, unless the run hands it out at the end.
        let keptToTheEnd = Set(g.outputs.map(\.buffer) + g.gradSinks.map(\.ref.buffer))
        var lastStep: [Int: Int] = [:]
        for (k, step) in steps.enumerated() { for b in step.node.touched where dyn.contains(b) { lastStep[b] = k } }
        for (b, k) in lastStep where !keptToTheEnd.contains(b) { steps[k].releases.append(b) }
        var written = Set<Int>()
        for n in g.nodes { for w in n.writes { written.insert(w.buffer) } }
        mutatedInputs = g.inputs.indices.filter { written.contains(g.inputs[$0].buffer) }
        for b in written where g.buffers[b].role == .constant {
            if let s = g.buffers[b].storage, let bytes = g.buffers[b].initialBytes { restores.append((s, bytes)) }
        }
        outputBindings = g.outputs.map(bind)
        sinkBindings = g.gradSinks.map { bind($0.ref) }
    }

    @inline(__always) private func resolve(_ b: Binding) -> Tensor {
        switch b {
        case .fixed(let t): return t
        case .dynamic(let buffer, let shape, let strides, let offset):
            guard let s = dynamic[buffer] else { nablaFail("compile: buffer %b\(buffer) read before the node that returns it ran") }
            return Tensor(storage: s, shape: shape, strides: strides, offset: offset)
        }
    }

    private func execute(_ step: Step) -> NodeResult {
        let n = step.node
        var rule: OptimizerRule? = nil
        if let (s, k) = n.rule {
            if rules[s] == nil {
                assignGradients(inputs: nil)
                let r = graph.ruleSources[s].nextRules()
                check(r.count == graph.ruleCounts[s],
                      "compile: \(type(of: graph.ruleSources[s])) gives \(r.count) updates this step, the compiled step traced \(graph.ruleCounts[s]) (a parameter gained or lost its gradient); call reset() on the compiled function")
                rules[s] = r
            }
            rule = rules[s]![k]
        }
        let args = NodeArgs(reads: step.reads.map { $0.map(resolve) }, writes: step.writes.map(resolve),
                            context: n.contextFrom.flatMap { contexts[$0] }, rule: rule)
        let result = n.call(n.backend, args)
        for (k, b) in step.returned.enumerated() { if let b, let t = result.returned[k] { dynamic[b] = t.storage } }
        return result
    }

    private var currentInputs: [Tensor]?

    /// Sets the `.grad` of every leaf the graph computes a gradient for.
    private func assignGradients(inputs: [Tensor]?) {
        for (sink, binding) in zip(graph.gradSinks, sinkBindings) {
            let g = resolve(binding)
            if let leaf = sink.leaf { leaf.grad = g } else if let k = sink.inputIndex, let xs = inputs ?? currentInputs { xs[k].grad = g }
        }
    }

    /// One run: copies the arguments in, runs every node, returns copies of the outputs.
    func run(_ xs: [Tensor]) -> [Tensor] {
        for (x, view) in zip(xs, inputViews) { view.backend.copy(x, into: view) }
        for (s, bytes) in restores { bytes.withUnsafeBytes { s.backend.upload($0, to: s, byteOffset: 0) } }
        currentInputs = xs
        for k in rules.indices { rules[k] = nil }
        let f = AutogradState.flags
        let savedRunner = f.pointee.compiledRunner
        f.pointee.compiledRunner = Unmanaged.passUnretained(self).toOpaque()
        defer { AutogradState.flags.pointee.compiledRunner = savedRunner; currentInputs = nil }
        backendCalls = 0
        let profiling = profilingMemory
        let runStart = MemoryStats.currentBytes, outerPeak = MemoryStats.peakBytes
        var allocating: [StepMemory.Node] = [], runPeak = 0
        for (i, step) in steps.enumerated() {
            runningNode = i
            let before = profiling ? MemoryStats.currentBytes : 0
            if profiling { MemoryStats.resetPeak() }
            let r = execute(step)
            if profiling {
                let peak = MemoryStats.peakBytes - runStart, kept = MemoryStats.currentBytes - before
                runPeak = Swift.max(runPeak, peak)
                if MemoryStats.peakBytes > before {
                    allocating.append(.init(index: indexInGraph(i), kind: "\(step.node.kind)", peakBytes: peak, keptBytes: kept))
                }
            }
            for b in step.releases { dynamic[b] = nil }
            if let c = r.context { contexts[indexInGraph(i)] = c }
            backendCalls += 1
        }
        runningNode = -1
        if profiling { MemoryStats.resetPeak() }
        for k in mutatedInputs { xs[k].backend.copy(inputViews[k], into: xs[k]) }
        assignGradients(inputs: xs)
        let outs = outputBindings.map { b -> Tensor in
            let v = resolve(b)
            let o = Tensor(empty: v.shape, dtype: v.dtype, device: v.device)
            v.backend.copy(v, into: o)
            return o
        }
        for k in dynamic.indices { dynamic[k] = nil }
        for k in contexts.indices { contexts[k] = nil }
        if profiling {
            runPeak = Swift.max(runPeak, MemoryStats.peakBytes - runStart)
            MemoryStats.raisePeak(to: Swift.max(outerPeak, runStart + runPeak))
            lastMemory = StepMemory(plannedBytes: graph.plan.peakBytes, unplannedPeakBytes: runPeak, nodes: allocating)
        }
        return outs
    }

    /// Whether the next runs measure each node's allocations (`CompiledFunction.profileMemory`); the measurement
    /// resets the allocator's peak around each node and restores it after, so outer peaks stay right.
    var profilingMemory = false
    /// What the last profiled run allocated.
    private(set) var lastMemory: StepMemory?

    /// The graph index of the `i`-th step (folded nodes are not steps).
    private lazy var stepToNode: [Int] = graph.nodes.indices.filter { !(($0 < graph.folded.count) && graph.folded[$0]) }
    private func indexInGraph(_ i: Int) -> Int { stepToNode[i] }

    /// `node 12: matmul traced at Model.swift:40`, for a failure inside a compiled run.
    var runningDescription: String? {
        guard runningNode >= 0 else { return nil }
        let n = steps[runningNode].node
        return "while running compiled node \(indexInGraph(runningNode)) (\(n.kind)) traced at \(n.location)"
    }

    /// The runner whose run is in progress on this thread.
    static var current: GraphRunner? {
        AutogradState.flags.pointee.compiledRunner.map { Unmanaged<GraphRunner>.fromOpaque($0).takeUnretainedValue() }
    }
}
