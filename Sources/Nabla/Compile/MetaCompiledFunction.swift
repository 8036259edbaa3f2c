import Foundation

/// A function of tensors compiled for one fixed signature from a symbolic trace (`MetaTrace`): no kernel runs while
/// it compiles, and its first call already runs the graph (`torch.compile` tracing with fake tensors, then running
/// the compiled graph for every call, the first included).
///
/// `CompiledFunction` traces by running the function eagerly while recording it, which costs at least one eager
/// call holding every intermediate until the trace ends. For an inference function (no grad, no lazily created
/// state, no optimizer) that is not needed: the Swift code of every op runs on zero-filled probe tensors of the
/// given shapes, each backend call is recorded and none executed, and the recorded graph is optimised and planned
/// as `CompiledFunction`'s is. Compiling then costs the ops' Swift code, the passes and the memory plan.
///
/// The function runs under `noGrad`. Its graph is for the shapes and dtypes of `inputs` only: a call with any other
/// shape is a programmer error (one function per shape; keep a cache of them, as `SentenceEmbedder.compile()` does).
/// A function that reads a computed value on the host (`item()`, a data-dependent branch) cannot be traced
/// symbolically: it then runs eagerly at every call, `graphBreak` says why and where, and standard error says so
/// once. The weights it captures are read in place at each run (set new values with `copy_`); constant folding
/// runs when the function is made, so give a captured tensor a new storage only with a new function.
/// ```swift
/// let f = MetaCompiledFunction(name: "mlp", inputs: [TensorSpec(shape: [32, 784])]) { xs in [model(xs[0])] }
/// let y = f.call([x])[0]          // the graph, from the first call on
/// print(f.compileSeconds, f.graph!)
/// ```
public final class MetaCompiledFunction: @unchecked Sendable {
    /// A name for messages.
    public let name: String
    /// The shapes and dtypes the function was compiled for (every dimension fixed).
    public let inputSpecs: [TensorSpec]
    /// The optimised graph, nil when the trace broke (`graphBreak`).
    public let graph: CompiledGraph?
    /// Why the function runs eagerly, when the symbolic trace could not become a graph.
    public let graphBreak: GraphBreak?
    /// Seconds spent tracing symbolically, optimising and planning (and running the folded constants).
    public let compileSeconds: Double
    /// How `compileSeconds` divides: the symbolic trace, the passes and memory plan, building the runner.
    public let compilePhases: (trace: Double, optimize: Double, runner: Double)
    /// Backend calls the last run made (0 for an eager run).
    public private(set) var lastBackendCalls = 0
    private let body: ([Tensor]) -> [Tensor]
    private let runner: GraphRunner?
    private var warned = false

    /// Traces `body` symbolically on probes of `inputs`' shapes and compiles the graph; no kernel of `body` runs.
    ///
    /// - Parameters:
    ///   - name: shown in messages (default `compiled`).
    ///   - inputs: the argument shapes and dtypes; every dimension fixed (no `-1`).
    ///   - body: a function of `[Tensor]` to `[Tensor]`, run without grad.
    public init(name: String = "compiled", inputs: [TensorSpec], _ body: @escaping ([Tensor]) -> [Tensor]) {
        check(inputs.allSatisfy { $0.shape.allSatisfy { $0 >= 0 } },
              "MetaCompiledFunction(\(name)): input shapes must be fixed, got \(inputs.map(\.shape))")
        self.name = name
        self.inputSpecs = inputs
        self.body = body
        let clock = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        let start = clock()
        let trace = MetaTrace.trace(MetaTrace.probes(inputs, freeSize: 1)) { xs, _ in body(xs) }
        let traced = clock()
        var optimized = traced
        if let br = trace.graphBreak {
            graph = nil
            runner = nil
            graphBreak = br
        } else {
            let g = trace.graph
            g.optimize()
            optimized = clock()
            graph = g
            runner = GraphRunner(g)
            graphBreak = nil
        }
        let end = clock()
        compileSeconds = end - start
        compilePhases = (traced - start, optimized - traced, end - optimized)
    }

    /// Calls the function on `xs`, whose shapes and dtypes must be `inputSpecs`'; returns its outputs (fresh tensors).
    public func call(_ xs: [Tensor]) -> [Tensor] {
        check(xs.count == inputSpecs.count && zip(xs, inputSpecs).allSatisfy { $0.shape == $1.shape && $0.dtype == $1.dtype },
              "MetaCompiledFunction(\(name)): compiled for \(inputSpecs.map(\.description)), called with \(xs.map { "\($0.dtype)\($0.shape)" })")
        guard let runner else {
            if !warned, let graphBreak {
                warned = true
                FileHandle.standardError.write(Data("compile(\(name)): runs eagerly: \(graphBreak)\n".utf8))
            }
            lastBackendCalls = 0
            return noGrad { body(xs) }
        }
        let outs = runner.run(xs)
        lastBackendCalls = runner.backendCalls
        return outs
    }

    /// Calls a function of tensors and returns its first output.
    public func callAsFunction(_ xs: Tensor...) -> Tensor { call(xs)[0] }

    /// What compiling did: the signature, the node counts and planned bytes with the passes' log, or the graph break.
    public func explain() -> String {
        let sig = "(" + inputSpecs.map(\.description).joined(separator: ", ") + ")"
        guard let graph else { return "compile(\(name)) \(sig): EAGER (graph break: \(graphBreak.map { "\($0)" } ?? "?"))" }
        return "compile(\(name)) \(sig): symbolic trace, \(graph.tracedNodeCount) backend calls → \(graph.nodes.count) nodes, "
            + "peak \(graph.plan.peakBytes) bytes, compiled in \(String(format: "%.3f", compileSeconds)) s "
            + String(format: "(trace %.3f, passes and plan %.3f, runner %.3f); ", compilePhases.trace, compilePhases.optimize, compilePhases.runner)
            + graph.passLog.joined(separator: "; ")
    }
}
