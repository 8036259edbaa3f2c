import Testing
import Foundation
import NablaOptim
import NablaTestSupport

/// Learning-rate sequences against PyTorch (Scripts/fixtures/optim.py): two groups (lr 0.1 and 0.01), 30 steps.
@Suite struct SchedulerTests {
    static let fixture = loadFixture("optim")
    static let cases = ["step", "multistep", "exponential", "cosine", "linear", "lambda", "onecycle_cos",
                        "onecycle_linear_three_adam", "plateau_min_rel", "plateau_max_abs",
                        "sequential_warmup_cosine", "sequential_three"]

    static func optimizer(adam: Bool) -> Optimizer {
        let groups = [ParamGroup(params: [Tensor.zeros([2], dtype: .float64).requiresGrad_()]),
                      ParamGroup(params: [Tensor.zeros([3], dtype: .float64).requiresGrad_()], lr: 0.01)]
        return adam ? Adam(groups: groups, lr: 0.1) : SGD(groups: groups, lr: 0.1, momentum: 0.9)
    }

    static func make(_ name: String, _ o: Optimizer) -> LRScheduler {
        switch name {
        case "step": return StepLR(o, stepSize: 7, gamma: 0.5)
        case "multistep": return MultiStepLR(o, milestones: [5, 12, 12, 20], gamma: 0.3)
        case "exponential": return ExponentialLR(o, gamma: 0.9)
        case "cosine": return CosineAnnealingLR(o, tMax: 10, etaMin: 0.001)
        case "linear": return LinearLR(o, startFactor: 0.25, endFactor: 0.9, totalIters: 8)
        case "lambda": return LambdaLR(o, lrLambdas: [{ pow(0.95, Double($0)) }, { 1.0 / Double($0 + 1) }])
        case "onecycle_cos": return OneCycleLR(o, maxLrs: [1.0, 0.1], totalSteps: 30)
        case "onecycle_linear_three_adam":
            return OneCycleLR(o, maxLr: 0.5, totalSteps: 31, pctStart: 0.25, annealStrategy: .linear, threePhase: true)
        case "plateau_min_rel":
            return ReduceLROnPlateau(o, factor: 0.5, patience: 2, threshold: 0.01, cooldown: 1, minLr: 0.004)
        case "plateau_max_abs":
            return ReduceLROnPlateau(o, mode: .max, factor: 0.3, patience: 1, threshold: 0.05, thresholdMode: .abs, minLrs: [0, 0.002])
        case "sequential_warmup_cosine":
            return SequentialLR(o, schedulers: [LinearLR(o, startFactor: 0.1, totalIters: 5),
                                                CosineAnnealingLR(o, tMax: 20, etaMin: 0.0005)], milestones: [5])
        case "sequential_three":
            return SequentialLR(o, schedulers: [LinearLR(o, startFactor: 0.5, totalIters: 4), StepLR(o, stepSize: 3, gamma: 0.5),
                                                ExponentialLR(o, gamma: 0.8)], milestones: [6, 18])
        default: fatalError("unknown scheduler case \(name)")
        }
    }

    static func momentum(_ o: Optimizer) -> [Double] {
        o.paramGroups.map { $0["beta1"] ?? $0.momentum }
    }

    static func advance(_ s: LRScheduler, _ metrics: [Double]?, at i: Int) {
        if let plateau = s as? ReduceLROnPlateau { plateau.step(metrics![i]) } else { s.step() }
    }

    @Test(arguments: cases) func matchesTorch(_ name: String) {
        let c = Self.fixture[name]
        let o = Self.optimizer(adam: name.hasSuffix("adam"))
        let s = Self.make(name, o)
        let metrics = c.inputs.first?.tensor.toDoubleArray()
        var lrs = o.paramGroups.map(\.lr), moms = Self.momentum(o)
        for i in 0..<30 {
            Self.advance(s, metrics, at: i)
            lrs += o.paramGroups.map(\.lr); moms += Self.momentum(o)
            #expect(s.getLastLr() == o.paramGroups.map(\.lr))
        }
        let r = allClose(Tensor(shape: [31, 2], data: lrs, dtype: .float64), c.outputs[0].tensor, rtol: 1e-12, atol: 1e-15)
        #expect(r.ok, "\(name) lr: \(r.failure)")
        let rm = allClose(Tensor(shape: [31, 2], data: moms, dtype: .float64), c.outputs[1].tensor, rtol: 1e-12, atol: 1e-15)
        #expect(rm.ok, "\(name) momentum: \(rm.failure)")
    }

    @Test(arguments: cases) func stateDictResume(_ name: String) {
        let c = Self.fixture[name]
        let metrics = c.inputs.first?.tensor.toDoubleArray()
        let adam = name.hasSuffix("adam")
        let o = Self.optimizer(adam: adam), s = Self.make(name, o)
        for i in 0..<12 { Self.advance(s, metrics, at: i) }
        let optState = o.stateDict(), schedState = s.stateDict()
        var expected: [Double] = []
        for i in 12..<30 { Self.advance(s, metrics, at: i); expected += o.paramGroups.map(\.lr) }

        let o2 = Self.optimizer(adam: adam), s2 = Self.make(name, o2)
        do {
            try o2.loadStateDict(optState)
            try s2.loadStateDict(schedState)
        } catch { Issue.record("\(name): \(error)"); return }
        #expect(s2.lastEpoch == s.lastEpoch - 18)
        var got: [Double] = []
        for i in 12..<30 { Self.advance(s2, metrics, at: i); got += o2.paramGroups.map(\.lr) }
        #expect(got == expected, "\(name): resumed lr sequence differs")
    }

    @Test func lastEpochAndBaseLrs() {
        let o = Self.optimizer(adam: false)
        let s = StepLR(o, stepSize: 2)
        #expect(s.lastEpoch == 0 && s.baseLrs == [0.1, 0.01])
        s.step(); s.step()
        #expect(s.lastEpoch == 2)
        #expect(abs(s.getLastLr()[0] - 0.01) < 1e-15)
        #expect(o.paramGroups[0]["initial_lr"] == 0.1)
    }

    static func stderrText(_ r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func oneCyclePastTotalStepsIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let o = SGD([Tensor.zeros([2]).requiresGrad_()], lr: 0.1, momentum: 0.9)
            let s = OneCycleLR(o, maxLr: 1, totalSteps: 3)
            for _ in 0..<4 { s.step() }
        }
        let text = Self.stderrText(r)
        #expect(text.contains("OneCycleLR") && text.contains("total steps is 3"), "stderr: \(text)")
    }
}
