import Foundation

/// A function of tensors that runs as an optimised graph (`tf.function`, `torch.compile`, MXNet `hybridize`).
///
/// The first call with a new signature (argument shapes, dtypes, devices, `requiresGrad` flags, grad mode and the
/// `watch` value) runs eagerly, which creates lazy state such as optimizer buffers; the second traces: it runs
/// eagerly too while recording every backend call into a `CompiledGraph` (forward, `backward()` and the optimizer's
/// update included), which the passes then optimise. Later calls with that signature run the graph: no autograd
/// node, no shape logic, planned memory. A new signature retraces (`explain()` says why); graphs are cached.
///
/// What a graph cannot capture falls back to eager for that signature, never silently: code that reads a computed
/// value on the host (`loss.item()`, `toArray()`, `print(t)`) inside the function, or a function whose outputs
/// still need autograd (compile the whole training step instead, or call it under `noGrad`). `explain()` and a
/// one-time message on standard error name the reason and the Swift line. Outputs of a step that ran `backward()`
/// come back detached (a loss to log).
///
/// Swift values the closure captures (a `Double` learning rate, a flag) are constants of the graph, as in
/// `jax.jit`; pass tensors to vary them, or give `watch` a value that changes when they do. Optimizers are the
/// exception: their learning rate and step count are read at every run, so schedulers work. The graph updates the
/// storages it captured in place: after giving a parameter a new storage (`module.to(...)`, `set_`) or an optimizer
/// new state (`loadStateDict`), call `reset()`. Call a compiled function from one thread at a time.
///
/// Dynamic shapes (`dynamic:`, as torch.compile's): when a call differs from a traced signature only in the size of
/// some input dims (a last partial batch, another batch size), the function traces it once and unifies the two
/// traces into a graph template whose sizes are affine in one symbol `s`; every later size specialises the template
/// (no trace, no eager run), cached per size (`GraphTemplate`). `explain()` shows the symbol, the sizes and why a
/// pair of traces did not unify.
/// ```swift
/// let step = compile { (x: Tensor, y: Tensor) -> Tensor in
///     opt.zeroGrad()
///     let loss = crossEntropy(model(x), y)
///     loss.backward()
///     opt.step()
///     return loss
/// }
/// for (x, y) in loader { let loss = step(x, y) }
/// ```
public final class CompiledFunction: @unchecked Sendable {
    /// A cached signature's state.
    enum Entry {
        /// Calls so far, all eager (warm-up).
        case warming(Int)
        /// The compiled graph and its runner.
        case compiled(CompiledGraph, GraphRunner)
        /// Eager for good, with the reason.
        case eager(GraphBreak)
    }

    let body: ([Tensor]) -> [Tensor]
    /// A name for messages.
    public let name: String
    private let watch: (() -> AnyHashable)?
    private let warmupCalls: Int
    /// torch.compile's `dynamic=`: nil unifies when a second size shows up, true too (and says on standard error
    /// when it cannot), false traces every shape.
    public let dynamic: Bool?
    /// The raw (before passes) graph of each traced signature, for unification.
    private var raws: [Signature: RawGraph] = [:]
    /// One template per signature pattern (shapes aside), with the sizes it has run.
    private var templates: [Pattern: (template: GraphTemplate, sizes: [Int])] = [:]
    /// Patterns whose traces did not unify, with the reason: they trace per shape.
    private var unifyFailures: [Pattern: String] = [:]
    /// Graphs specialised from templates, by signature, least recently used first (at most `maxSpecialised`).
    private var specialised: [Signature: (graph: CompiledGraph, runner: GraphRunner)] = [:]
    private var specialisedOrder: [Signature] = []
    /// How many specialised graphs are kept (least recently used dropped first).
    public static let maxSpecialised = 8
    /// Seconds each specialisation took (evaluating the template's sizes, the passes, the memory plan).
    public private(set) var specialiseSeconds: [Double] = []
    private var cache: [Signature: Entry] = [:]
    private var order: [Signature] = []
    private var events: [String] = []
    private var warned = Set<Signature>()
    /// Seconds spent tracing and optimising, per signature, in trace order.
    public private(set) var compileSeconds: [Double] = []
    /// Backend calls the last compiled run made.
    public private(set) var lastBackendCalls = 0

    /// Compiles `body`, a function of `[Tensor]` to `[Tensor]`.
    ///
    /// - Parameters:
    ///   - name: shown in messages (default `compiled`).
    ///   - warmup: eager calls before a signature is traced (default 1, so lazily created state exists).
    ///   - watch: a value read at each call; when it changes the function retraces (e.g. `{ model.training }`).
    ///   - dynamic: as torch.compile's `dynamic=`. `nil` (automatic) and `true`: a call that differs from a compiled
    ///     signature only in the sizes of some input dims traces once more without warm-up, and the two traces are
    ///     unified into a template that every later size specialises without tracing (`true` also reports on
    ///     standard error when they do not unify); `false`: every shape is a signature of its own, traced anew.
    public init(name: String = "compiled", warmup: Int = 1, watch: (() -> AnyHashable)? = nil, dynamic: Bool? = nil,
                _ body: @escaping ([Tensor]) -> [Tensor]) {
        self.body = body
        self.name = name
        self.watch = watch
        self.warmupCalls = Swift.max(0, warmup)
        self.dynamic = dynamic
    }

    /// How many calls traced (an eager run recorded and compiled); specialisations of a template are not traces.
    public var traceCount: Int { compileSeconds.count }

    /// The key a call is cached under.
    struct Signature: Hashable, CustomStringConvertible {
        let args: [String]
        let grad: Bool
        let watched: AnyHashable?
        /// The arguments' shapes.
        let shapes: [[Int]]
        /// The signature with shapes left out, apart from their ranks: signatures of one pattern can share a template.
        let pattern: Pattern
        var description: String {
            "(" + args.joined(separator: ", ") + ")" + (grad ? "" : " noGrad") + (watched.map { " watch=\($0)" } ?? "")
        }
    }

    /// A signature without its sizes.
    struct Pattern: Hashable {
        let args: [String]
        let ranks: [Int]
        let grad: Bool
        let watched: AnyHashable?
    }

    private func signature(_ xs: [Tensor]) -> Signature {
        // Each argument's device and flag, written once: the pattern leaves its shape out, the signature puts it in.
        let tags = xs.map { "\($0.device == .cpu ? "" : "@\($0.device)")\($0.requiresGrad ? " requiresGrad" : "")" }
        let rest = zip(xs, tags).map { "\($0.dtype)\($1)" }
        let grad = AutogradState.gradEnabled, watched = watch?()
        return Signature(args: zip(xs, tags).map { "\($0.dtype)\($0.shape)\($1)" },
                         grad: grad, watched: watched, shapes: xs.map(\.shape),
                         pattern: Pattern(args: rest, ranks: xs.map(\.rank), grad: grad, watched: watched))
    }

    /// Calls the function on `xs`; returns its outputs.
    public func call(_ xs: [Tensor]) -> [Tensor] {
        let sig = signature(xs)
        switch cache[sig] {
        case .compiled(_, let runner)?:
            let outs = runner.run(xs)
            lastBackendCalls = runner.backendCalls
            return outs
        case .eager?:
            return body(xs)
        case .warming(let n)?:
            if n < warmupCalls { cache[sig] = .warming(n + 1); return body(xs) }
            return trace(xs, sig)
        case nil:
            if dynamic != false {
                if let hit = specialised[sig] {
                    if specialisedOrder.last != sig { specialisedOrder.removeAll { $0 == sig }; specialisedOrder.append(sig) }
                    let outs = hit.runner.run(xs)
                    lastBackendCalls = hit.runner.backendCalls
                    return outs
                }
                if let runner = specialise(sig) {
                    let outs = runner.run(xs)
                    lastBackendCalls = runner.backendCalls
                    return outs
                }
            }
            if let last = order.last { events.append("retrace: \(sig) differs from \(last)") }
            order.append(sig)
            // A new size of a pattern already compiled needs no warm-up: the lazily made state exists.
            let sibling = dynamic != false && unifyFailures[sig.pattern] == nil && raws.keys.contains { $0.pattern == sig.pattern }
            if warmupCalls > 0 && !sibling { cache[sig] = .warming(1); return body(xs) }
            return trace(xs, sig)
        }
    }

    /// Specialises the template of `sig`'s pattern for its size and caches the graph; nil when there is no template
    /// for it or the template does not hold at that size (the call then traces).
    private func specialise(_ sig: Signature) -> GraphRunner? {
        guard let entry = templates[sig.pattern], let s = entry.template.size(for: sig.shapes) else { return nil }
        let start = DispatchTime.now().uptimeNanoseconds
        let raw: RawGraph
        do { raw = try entry.template.specialise(s) } catch {
            events.append("dynamic: cannot specialise for s = \(s): \(error); traces \(sig)")
            return nil
        }
        let graph = raw.compiled()
        graph.optimize()
        let runner = GraphRunner(graph)
        specialised[sig] = (graph, runner)
        newestGraph = graph
        specialisedOrder.append(sig)
        if specialisedOrder.count > Self.maxSpecialised { specialised[specialisedOrder.removeFirst()] = nil }
        if !entry.sizes.contains(s) { templates[sig.pattern]!.sizes.append(s) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        specialiseSeconds.append(seconds)
        events.append("specialised \(sig) for s = \(s) in \(String(format: "%.3f", seconds)) s (no trace): \(graph.nodes.count) nodes")
        return runner
    }

    /// After `sig` traced into `raw`: keeps the raw graph and, when another compiled signature of the same pattern
    /// differs from it only in sizes, unifies the two into a template.
    private func noteTraced(_ sig: Signature, _ raw: RawGraph) {
        guard dynamic != false else { return }
        raws[sig] = raw
        guard templates[sig.pattern] == nil, unifyFailures[sig.pattern] == nil else { return }
        for (other, otherRaw) in raws where other != sig && other.pattern == sig.pattern {
            guard let sym = GraphTemplate.symbol(other.shapes, sig.shapes) else {
                unifyFailures[sig.pattern] = "\(other) and \(sig) differ in more than one size"
                events.append("dynamic: cannot unify: " + unifyFailures[sig.pattern]!)
                return
            }
            switch GraphTemplate.unify(otherRaw, size: sym.sA, raw, size: sym.sB, symbolDims: sym.dims) {
            case .success(let t):
                templates[sig.pattern] = (t, [sym.sA, sym.sB])
                events.append("dynamic: \(t.symbolDescription) unifies \(other) and \(sig) (\(t.varyingInts) sizes and \(t.varyingDoubles) attributes depend on s)")
            case .failure(let f):
                unifyFailures[sig.pattern] = f.reason
                events.append("dynamic: cannot unify \(other) and \(sig): \(f.reason); each shape traces")
                if dynamic == true {
                    FileHandle.standardError.write(Data("compile(\(name)): dynamic: cannot unify \(other) and \(sig): \(f.reason)\n".utf8))
                }
            }
            return
        }
    }

    /// Calls a function of tensors and returns its first output.
    public func callAsFunction(_ xs: Tensor...) -> Tensor { call(xs)[0] }

    /// Calls the function once on `xs` (a real call: a training step trains) and reports where its memory went: the
    /// planned arena, and every node that allocated at run time (see `StepMemory`). Nil when this signature does not
    /// run a compiled graph yet (warm-up, tracing, or a graph break); the call's outputs come back beside it.
    public func profileMemory(_ xs: [Tensor]) -> (outputs: [Tensor], memory: StepMemory?) {
        let sig = signature(xs)
        guard let runner = specialised[sig]?.runner ?? { if case .compiled(_, let r)? = cache[sig] { return r } else { return nil } }()
        else { return (call(xs), nil) }
        runner.profilingMemory = true
        defer { runner.profilingMemory = false }
        let outs = call(xs)
        return (outs, runner.lastMemory)
    }

    /// Traces one call (which runs eagerly and returns the eager result) and compiles its graph.
    private func trace(_ xs: [Tensor], _ sig: Signature) -> [Tensor] {
        let start = DispatchTime.now().uptimeNanoseconds
        let tracer = Tracer()
        // Under dynamic shapes an argument that is a view into a larger storage (a batch sliced from a dataset) is
        // traced as a compact copy, so its buffer's size follows its shape; what the call writes into it is copied back.
        let args = dynamic == false ? xs : xs.map { x in
            x.requiresGrad || (x.isContiguous && x.offset == 0 && x.storage.byteCount == x.count * x.dtype.itemSize) ? x : x.contiguousCopy()
        }
        let inputRefs = args.enumerated().map { tracer.registerInput($0.element, index: $0.offset) }
        let outs = tracer.recording { body(args) }
        for (k, a) in args.enumerated() where a !== xs[k] && tracer.nodes.contains(where: { $0.writes.contains { $0.buffer == inputRefs[k].buffer } }) {
            xs[k].backend.copy(a, into: xs[k])
        }
        if tracer.isRecording && AutogradState.gradEnabled && tracer.gradLeaves.isEmpty, let o = outs.first(where: { $0.requiresGrad }) {
            tracer.breakGraph("an output of shape \(o.shape) requires grad, and a graph run cannot carry autograd past its outputs: compile the whole training step (with backward()) or call it under noGrad")
        }
        if let br = tracer.graphBreak {
            cache[sig] = .eager(br)
            events.append("graph break for \(sig): \(br); this signature runs eagerly")
            if warned.insert(sig).inserted {
                FileHandle.standardError.write(Data("compile(\(name)): falls back to eager for \(sig): \(br)\n".utf8))
            }
            return outs
        }
        let outputRefs = outs.map { o in tracer.existingRef(o) ?? tracer.ref(o, writing: false) }
        var sinks: [(leaf: Tensor?, inputIndex: Int?, ref: TensorRef)] = []
        for leaf in tracer.gradLeaves {
            guard let g = leaf.grad, let r = tracer.existingRef(g), tracer.buffers[r.buffer].role == .intermediate else { continue }
            if let k = args.firstIndex(where: { $0 === leaf }) { sinks.append((nil, k, r)) } else { sinks.append((leaf, nil, r)) }
        }
        let raw = RawGraph(buffers: tracer.buffers, nodes: tracer.nodes, inputs: inputRefs, outputs: outputRefs,
                           gradSinks: sinks, ruleSources: tracer.ruleSources, ruleCounts: tracer.ruleCounts)
        let graph = raw.compiled()
        graph.optimize()
        let runner = GraphRunner(graph)
        cache[sig] = .compiled(graph, runner)
        newestGraph = graph
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        compileSeconds.append(seconds)
        events.append("traced \(sig): \(tracer.nodes.count) backend calls → \(graph.nodes.count) nodes in \(String(format: "%.3f", seconds)) s; " + graph.passLog.joined(separator: "; "))
        if Self.logsGraphs {
            FileHandle.standardError.write(Data("compile(\(name)): graph for \(sig)\n\(graph)\n".utf8))
        }
        noteTraced(sig, raw)
        return outs
    }

    /// Whether `NABLA_LOGS` asks for every compiled graph on standard error (`NABLA_LOGS=graph`, as PyTorch's
    /// `TORCH_LOGS=graph_code`).
    static let logsGraphs: Bool = {
        guard let v = ProcessInfo.processInfo.environment["NABLA_LOGS"] else { return false }
        return v.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "graph" }
    }()

    /// The graph compiled most recently (traced, or specialised from a dynamic-shape template), if any compiled.
    public var graph: CompiledGraph? { newestGraph }
    private var newestGraph: CompiledGraph?

    /// The graph breaks met so far (signatures that run eagerly), with their reasons and Swift lines.
    public var graphBreaks: [GraphBreak] {
        order.compactMap { if case .eager(let b)? = cache[$0] { return b } else { return nil } }
    }

    /// What happened so far, for people: each signature and its state, every retrace with its reason, every graph break.
    public func explain() -> String {
        var lines = ["compile(\(name)): \(order.count) signature(s), \(traceCount) trace(s), \(specialiseSeconds.count) specialisation(s)"]
        for sig in order {
            switch cache[sig] {
            case .compiled(let g, _)?: lines.append("  \(sig): compiled, \(g.nodes.count) nodes, peak \(g.plan.peakBytes) bytes")
            case .eager(let b)?: lines.append("  \(sig): EAGER (graph break: \(b))")
            case .warming(let n)?: lines.append("  \(sig): warming up (\(n) eager call\(n == 1 ? "" : "s"))")
            case nil: break
            }
        }
        for (_, e) in templates.sorted(by: { $0.value.sizes.first ?? 0 < $1.value.sizes.first ?? 0 }) {
            lines.append("  dynamic: \(e.template.symbolDescription), specialised for sizes \(e.sizes)")
        }
        if dynamic == false { lines.append("  dynamic: false (every shape traces)") }
        for (_, reason) in unifyFailures { lines.append("  dynamic: cannot unify: \(reason)") }
        lines += events.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    /// Drops every cached graph: the next calls warm up and trace again.
    public func reset() {
        cache = [:]
        order = []
        raws = [:]
        templates = [:]
        unifyFailures = [:]
        specialised = [:]
        specialisedOrder = []
        newestGraph = nil
        events.append("reset")
    }
}

/// Compiles a function of one tensor (see `CompiledFunction`).
public func compile(name: String = "compiled", watch: (() -> AnyHashable)? = nil, dynamic: Bool? = nil,
                    _ f: @escaping (Tensor) -> Tensor) -> CompiledFunction {
    CompiledFunction(name: name, watch: watch, dynamic: dynamic) { [f($0[0])] }
}

/// Compiles a function of two tensors, such as a training step of `(x, y)` (see `CompiledFunction`).
public func compile(name: String = "compiled", watch: (() -> AnyHashable)? = nil, dynamic: Bool? = nil,
                    _ f: @escaping (Tensor, Tensor) -> Tensor) -> CompiledFunction {
    CompiledFunction(name: name, watch: watch, dynamic: dynamic) { [f($0[0], $0[1])] }
}

/// Compiles a function of three tensors (see `CompiledFunction`).
public func compile(name: String = "compiled", watch: (() -> AnyHashable)? = nil, dynamic: Bool? = nil,
                    _ f: @escaping (Tensor, Tensor, Tensor) -> Tensor) -> CompiledFunction {
    CompiledFunction(name: name, watch: watch, dynamic: dynamic) { [f($0[0], $0[1], $0[2])] }
}

/// Compiles a function of any number of tensors to any number of tensors (see `CompiledFunction`).
public func compile(name: String = "compiled", watch: (() -> AnyHashable)? = nil, dynamic: Bool? = nil,
                    _ f: @escaping ([Tensor]) -> [Tensor]) -> CompiledFunction {
    CompiledFunction(name: name, watch: watch, dynamic: dynamic, f)
}

/// Runs `body` (one optimizer step's updates) with `source` as the owner of the `Backend.optimizerStep` calls it
/// makes, so a compiled graph can ask `source` for fresh rules (learning rate, step count) at each run. Optimizers
/// call it around their kernel calls; outside a trace it just runs `body`.
public func withRuleSource<R>(_ source: RuleSource, _ body: () -> R) -> R {
    Tracer.withRuleSource(source, body)
}

/// Runs `body`, which reads tensor values on the host only to check them (a class index in range, say) and
/// computes nothing the caller uses from them. Under `compile`, these reads neither break the graph nor become part
/// of it, and later runs of the graph do not repeat the check (the kernels still check their own bounds). Outside a
/// trace it just runs `body`.
public func checkingOnHost<R>(_ body: () throws -> R) rethrows -> R {
    let f = AutogradState.flags
    let saved = f.pointee.tracer
    guard saved != nil else { return try body() }
    f.pointee.tracer = nil
    defer { AutogradState.flags.pointee.tracer = saved }
    return try body()
}
