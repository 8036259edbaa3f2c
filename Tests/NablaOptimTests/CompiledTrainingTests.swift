import Testing
import Nabla
import NablaNN
import NablaOptim
import NablaTestSupport

/// Whole training steps compile: `compile { x, y in zeroGrad; loss; backward; step; return loss }` gives the same
/// losses and weights as the eager step over 10 steps (W3, W4, W5, W7 models, float32 and float64), runs no Tensor op
/// and makes no autograd node, and makes fewer backend calls than the eager step.
@Suite(.serialized) struct CompiledTrainingTests {
    /// Trains `steps` Adam steps from `state`, eagerly or through `compile`; returns the losses, the weights and the
    /// compiled function (when compiled).
    static func train(_ w: ReferenceTrainingTests.Workload, state: StateDict, dtype: DType, steps: Int, compiled: Bool,
                      optimizer: ([Tensor]) -> Optimizer = { Adam($0, lr: 1e-3) }) throws -> ([Double], StateDict, CompiledFunction?) {
        let model = w.make()
        try model.loadStateDict(state, strict: true)
        model.to(dtype)
        let opt = optimizer(model.parameters())
        let x = w.input.to(dtype), y = w.target
        let body = { (x: Tensor, y: Tensor) -> Tensor in
            opt.zeroGrad()
            let loss = crossEntropy(w.logits(model, x), y)
            loss.backward()
            opt.step()
            return loss
        }
        let step = compiled ? compile(name: "train-step", body) : nil
        var losses: [Double] = []
        for _ in 0..<steps {
            let loss = step.map { $0(x, y) } ?? body(x, y)
            losses.append(loss.item())
        }
        return (losses, model.stateDict(), step)
    }

    @Test(.seeded(5), arguments: ["W3", "W4", "W5", "W7"], [DType.float64, .float32])
    func compiledTrainingStepsMatchEager(_ name: String, _ dtype: DType) throws {
        let w = ReferenceTrainingTests.workload(name)
        let state = w.make().stateDict()
        let (eagerLosses, eagerState, _) = try Self.train(w, state: state, dtype: dtype, steps: 10, compiled: false)
        let (losses, compiledState, step) = try Self.train(w, state: state, dtype: dtype, steps: 10, compiled: true)
        let step0 = try #require(step)
        #expect(step0.graph != nil, "\(name): the step did not compile:\n\(step0.explain())")
        #expect(step0.graphBreaks.isEmpty, "\(step0.explain())")
        let tol = dtype == .float64 ? 1e-9 : 1e-5
        for (a, b) in zip(eagerLosses, losses) {
            #expect(Swift.abs(a - b) <= tol * Swift.max(1, Swift.abs(a)), "\(name) \(dtype) losses \(eagerLosses) vs \(losses)")
        }
        for (k, t) in eagerState {
            let r = allClose(compiledState[k]!, t, rtol: tol, atol: dtype == .float64 ? 1e-11 : 1e-6)
            #expect(r.ok, "\(name) \(dtype) \(k): \(r.failure)")
        }
    }

    @Test(.seeded(5)) func aCompiledStepMakesNoAutogradNodeAndFewerBackendCallsThanEager() throws {
        let w = ReferenceTrainingTests.workload("W3")
        let state = w.make().stateDict()
        let (_, _, step) = try Self.train(w, state: state, dtype: .float32, steps: 3, compiled: true)
        let compiled = try #require(step)
        let graph = try #require(compiled.graph)
        let nodesBefore = autogradNodesCreated()
        _ = compiled(w.input, w.target)
        #expect(autogradNodesCreated() == nodesBefore, "a compiled run made autograd nodes")
        // The eager step's backend calls, counted by tracing it once more.
        let eagerCalls = graph.tracedNodeCount
        #expect(compiled.lastBackendCalls > 0 && compiled.lastBackendCalls < eagerCalls,
                "compiled \(compiled.lastBackendCalls) backend calls, eager \(eagerCalls)\n\(compiled.explain())")
        #expect(graph.plan.peakBytes < graph.plan.unplannedBytes, "memory plan: \(graph.plan.peakBytes) vs \(graph.plan.unplannedBytes)")
        let text = "\(graph)"
        #expect(text.contains("optimizerStep(adam)") && text.contains("matmul"), "\(text.prefix(2000))")
        #expect(graph.dot().hasPrefix("digraph"))
    }

    @Test(.seeded(5)) func learningRateSchedulesAndStepCountsReachTheCompiledUpdate() throws {
        let w = ReferenceTrainingTests.workload("W3")
        let state = w.make().stateDict()
        func run(_ compiled: Bool) throws -> StateDict {
            let model = w.make()
            try model.loadStateDict(state, strict: true)
            let opt = Adam(model.parameters(), lr: 1e-2)
            let sched = StepLR(opt, stepSize: 2, gamma: 0.5)
            let body = { (x: Tensor, y: Tensor) -> Tensor in
                opt.zeroGrad()
                let loss = crossEntropy(w.logits(model, x), y)
                loss.backward()
                opt.step()
                return loss
            }
            let step = compile(body)
            for _ in 0..<6 {
                _ = compiled ? step(w.input, w.target) : body(w.input, w.target)
                sched.step()
            }
            if compiled { #expect(step.graph != nil, "\(step.explain())") }
            return model.stateDict()
        }
        let eager = try run(false), compiled = try run(true)
        for (k, t) in eager {
            let r = allClose(compiled[k]!, t, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(k): \(r.failure)")
        }
    }

    @Test func readingALossOnTheHostInsideTheStepFallsBackToEagerAndSaysWhere() throws {
        let model = Linear(3, 1)
        let opt = SGD(model.parameters(), lr: 0.1)
        let x = Tensor.randn([4, 3]), y = Tensor.randn([4, 1])
        var seen: [Double] = []
        let step = compile { (x: Tensor, y: Tensor) -> Tensor in
            opt.zeroGrad()
            let loss = mseLoss(model(x), y)
            if loss.item() > 1e9 { return loss }   // data-dependent control flow
            seen.append(loss.item())
            loss.backward()
            opt.step()
            return loss
        }
        for _ in 0..<3 { _ = step(x, y) }
        #expect(seen.count == 3)
        #expect(step.graph == nil)
        let br = try #require(step.graphBreaks.first)
        #expect(br.reason.contains("item"), "\(br)")
        #expect(br.location.description.contains("CompiledTrainingTests.swift"), "\(br.location)")
        #expect(step.explain().contains("EAGER"))
    }
}
