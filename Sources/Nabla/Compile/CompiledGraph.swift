/// A traced function as a graph of backend ops (`OpKind`s as data) over buffers, after the compiler's passes:
/// what `CompiledFunction` runs, and what `print`, `dot()` and TensorBoard show.
///
/// One graph holds the whole traced call: a training step's forward, its backward (the backward ops of every op,
/// which are Tensor ops themselves) and the optimizer update. Parameters and optimizer state are captured buffers,
/// updated in place at each run; intermediates live where the memory plan puts them.
public final class CompiledGraph: CustomStringConvertible, @unchecked Sendable {
    /// The buffers the nodes read and write.
    public private(set) var buffers: [TracedBuffer]
    /// The nodes, in the order they run.
    public private(set) var nodes: [TracedNode]
    /// The views of the function's arguments.
    public let inputs: [TensorRef]
    /// The views the function returns.
    public let outputs: [TensorRef]
    /// Leaves whose `.grad` the graph sets, with the view that holds it (`inputIndex` when the leaf is an argument).
    let gradSinks: [(leaf: Tensor?, inputIndex: Int?, ref: TensorRef)]
    /// Optimizers whose rules the graph's updates read at each run.
    let ruleSources: [RuleSource]
    /// How many rules each source gave while tracing.
    let ruleCounts: [Int]
    /// The backend calls the trace recorded (the eager call's count), before any pass.
    public let tracedNodeCount: Int
    /// What each pass did, in order (`dce: removed 3 nodes`).
    public private(set) var passLog: [String] = []
    /// The memory plan of the intermediates (set by `plan()`).
    public private(set) var plan: MemoryPlan = MemoryPlan(placement: [:], storages: [], peakBytes: 0)

    init(buffers: [TracedBuffer], nodes: [TracedNode], inputs: [TensorRef], outputs: [TensorRef],
         gradSinks: [(leaf: Tensor?, inputIndex: Int?, ref: TensorRef)], ruleSources: [RuleSource], ruleCounts: [Int]) {
        self.buffers = buffers
        self.nodes = nodes
        self.tracedNodeCount = nodes.count
        self.inputs = inputs
        self.outputs = outputs
        self.gradSinks = gradSinks
        self.ruleSources = ruleSources
        self.ruleCounts = ruleCounts
    }

    /// Buffers that must hold their value when the run ends: outputs and gradients.
    var liveOut: Set<Int> { Set(outputs.map(\.buffer) + gradSinks.map(\.ref.buffer)) }

    /// Whether a node's effect outlives the graph: it writes an argument or a captured buffer, or is impure.
    func hasEffect(_ n: TracedNode) -> Bool {
        if n.kind.isImpure { return true }
        for w in n.writes {
            switch buffers[w.buffer].role {
            case .input, .captured: return true
            case .constant, .intermediate: continue
            }
        }
        return false
    }

    /// Replaces the nodes (a pass) and logs what it did.
    func replaceNodes(_ new: [TracedNode], log: String) {
        nodes = new
        if !log.isEmpty { passLog.append(log) }
    }

    /// Adds a buffer (a pass's new intermediate); returns its index.
    func addBuffer(_ b: TracedBuffer) -> Int {
        buffers.append(b)
        return buffers.count - 1
    }

    /// Sets the memory plan.
    func setPlan(_ p: MemoryPlan) { plan = p }

    /// Runs the passes in order: dead-code elimination, common-subexpression elimination, algebraic
    /// simplification, dead-code elimination again, copy forwarding, convolution input gradients into planned
    /// memory, log-softmax + NLL fusion, ReLU gradients masked before max pools' backward, prepared convolutions and
    /// linear layers (eval graphs), GEMM epilogues, element-wise fusion, in-place reuse of dead inputs; then marks
    /// what folds to constants and plans memory.
    func optimize() {
        GraphPasses.eliminateDeadCode(self)
        GraphPasses.eliminateCommonSubexpressions(self)
        GraphPasses.simplifyAlgebra(self)
        GraphPasses.eliminateDeadCode(self)
        GraphPasses.forwardCopies(self)
        GraphPasses.planConvInputGradients(self)
        GraphPasses.fuseSoftmaxCrossEntropy(self)
        GraphPasses.maskGradientsBeforePoolBackward(self)
        GraphPasses.prepareConvolutions(self)
        GraphPasses.fuseConvReluPool(self)
        GraphPasses.prepareLinearLayers(self)
        GraphPasses.fuseGemmEpilogues(self)
        GraphPasses.fuseElementwise(self)
        GraphPasses.reuseDeadInputs(self)
        folded = GraphPasses.foldableNodes(self)
        passLog.append("constant folding: \(folded.filter { $0 }.count) nodes run once, when the graph is built")
        setPlan(MemoryPlan.make(for: self))
    }

    /// Which nodes run once at build time (constant folding), by node index.
    public private(set) var folded: [Bool] = []

    /// The graph as text: one line per node, `%b4[64, 10] = matmul(%b0[64, 784], %b1[784, 10])  // File.swift:12`.
    public var description: String {
        var lines = ["graph(" + inputs.enumerated().map { "%b\($0.element.buffer): \(buffers[$0.element.buffer].dtype)\($0.element.shape)" }.joined(separator: ", ") + ") {"]
        for n in nodes {
            let outs = (n.writes + n.returned.compactMap { $0 }).map(\.description).joined(separator: ", ")
            let ins = n.reads.map { $0?.description ?? "nil" }.joined(separator: ", ")
            lines.append("  \(outs.isEmpty ? "" : outs + " = ")\(n.kind)(\(ins))")
        }
        lines.append("  return " + outputs.map(\.description).joined(separator: ", "))
        lines.append("}  // \(nodes.count) nodes, peak \(plan.peakBytes) bytes of intermediates (\(plan.liveBytesBound) alive at most at once, \(plan.unplannedBytes) unshared), \(plan.returnedBytes) bytes returned by kernels outside the plan")
        return lines.joined(separator: "\n")
    }

    /// The graph in Graphviz DOT (`dot -Tpng`): buffers as ellipses, nodes as boxes.
    public func dot() -> String {
        var out = ["digraph nabla {", "  rankdir=TB;", "  node [fontname=\"Helvetica\", fontsize=10];"]
        var shown = Set<Int>()
        func buffer(_ b: Int) {
            guard shown.insert(b).inserted else { return }
            let role: String
            switch buffers[b].role {
            case .input(let k): role = "input \(k)"
            case .captured: role = "captured"
            case .constant: role = "constant"
            case .intermediate: role = ""
            }
            out.append("  b\(b) [shape=ellipse, label=\"%b\(b) \(buffers[b].dtype)[\(buffers[b].count)]\(role.isEmpty ? "" : "\\n" + role)\"];")
        }
        for (i, n) in nodes.enumerated() {
            out.append("  n\(i) [shape=box, label=\"\(n.kind.description.replacingOccurrences(of: "\"", with: "'"))\"];")
            for r in n.reads { if let r { buffer(r.buffer); out.append("  b\(r.buffer) -> n\(i);") } }
            for w in n.writes + n.returned.compactMap({ $0 }) { buffer(w.buffer); out.append("  n\(i) -> b\(w.buffer);") }
            if let c = n.contextFrom { out.append("  n\(c) -> n\(i) [style=dashed];") }
        }
        out.append("}")
        return out.joined(separator: "\n")
    }
}
