import Testing
import Foundation
import NablaOptim
import NablaTestSupport

@Suite struct OptimizerAPITests {
    @Test func zeroGradClearsOrZeroes() {
        let w = Tensor.randn([3], dtype: .float64).requiresGrad_()
        let opt = SGD([w], lr: 0.1)
        (w * w).sum().backward()
        opt.zeroGrad(setToNone: false)
        #expect(w.grad?.toDoubleArray() == [0, 0, 0])
        opt.zeroGrad()
        #expect(w.grad == nil)
    }

    @Test func computeThenApplyGradientsEqualsBackwardAndStep() {
        let a = Tensor.randn([4, 3], dtype: .float64), b = Tensor.randn([3], dtype: .float64)
        let x = Tensor.randn([5, 4], dtype: .float64), y = Tensor.randn([5, 3], dtype: .float64)
        let p1 = [a.clone().requiresGrad_(), b.clone().requiresGrad_()]
        let p2 = [a.clone().requiresGrad_(), b.clone().requiresGrad_()]
        let o1 = Adam(p1, lr: 0.05), o2 = Adam(p2, lr: 0.05)
        for _ in 0..<3 {
            o1.zeroGrad(); mseLoss(x.matmul(p1[0]) + p1[1], y).backward(); o1.step()
            var pairs = o2.computeGradients(mseLoss(x.matmul(p2[0]) + p2[1], y))
            #expect(pairs.count == 2 && pairs[0].gradient?.shape == [4, 3])
            pairs = pairs.map { (gradient: $0.gradient, parameter: $0.parameter) }
            o2.applyGradients(pairs)
        }
        #expect(p1[0].toDoubleArray() == p2[0].toDoubleArray())
        #expect(p1[1].toDoubleArray() == p2[1].toDoubleArray())
    }

    @Test func applyGradientsTouchesOnlyListedParameters() {
        let a = Tensor([1.0, 2.0], dtype: .float64).requiresGrad_(), b = Tensor([3.0], dtype: .float64).requiresGrad_()
        let opt = SGD([a, b], lr: 0.5)
        b.grad = Tensor([10.0], dtype: .float64)
        opt.applyGradients([(gradient: Tensor([1.0, -1.0], dtype: .float64), parameter: a)])
        #expect(a.toDoubleArray() == [0.5, 2.5])
        #expect(b.toDoubleArray() == [3.0])
        #expect(b.grad?.toDoubleArray() == [10.0])
    }

    @Test func clipGradNormScalesToMaxNorm() {
        let a = Tensor([3.0, 0.0], dtype: .float64).requiresGrad_(), b = Tensor([0.0], dtype: .float64).requiresGrad_()
        a.grad = Tensor([3.0, 0.0], dtype: .float64); b.grad = Tensor([4.0], dtype: .float64)
        let total = clipGradNorm_([a, b], maxNorm: 1.0)
        #expect(abs(total.item() - 5.0) < 1e-12)
        let scale = 1.0 / (5.0 + 1e-6)
        #expect(abs(a.grad!.toDoubleArray()[0] - 3 * scale) < 1e-12 && abs(b.grad!.toDoubleArray()[0] - 4 * scale) < 1e-12)
        let inf = clipGradNorm_([a, b], maxNorm: 10, normType: .infinity)
        #expect(abs(inf.item() - 4 * scale) < 1e-12)
        #expect(abs(b.grad!.toDoubleArray()[0] - 4 * scale) < 1e-12)   // below maxNorm: unchanged
        let one = clipGradNorm_([a, b], maxNorm: 100, normType: 1)
        #expect(abs(one.item() - 7 * scale) < 1e-12)
    }

    @Test func clipGradValueClamps() {
        let a = Tensor([0.0, 0.0, 0.0], dtype: .float64).requiresGrad_()
        a.grad = Tensor([-2.0, 0.1, 3.0], dtype: .float64)
        clipGradValue_([a], clipValue: 0.5)
        #expect(a.grad?.toDoubleArray() == [-0.5, 0.1, 0.5])
    }

    @Test func nonContiguousParameterIsUpdatedInPlace() {
        let base = Tensor.randn([3, 2], dtype: .float64)
        let w = base.t().requiresGrad_()         // a non-contiguous leaf [2, 3]
        let ref = base.t().contiguous().requiresGrad_()
        let g = Tensor.randn([2, 3], dtype: .float64)
        let o1 = Adam([w], lr: 0.1, amsgrad: true), o2 = Adam([ref], lr: 0.1, amsgrad: true)
        for _ in 0..<2 { w.grad = g; ref.grad = g; o1.step(); o2.step() }
        #expect(w.contiguous().toDoubleArray() == ref.toDoubleArray())
    }

    @Test func groupOptionsAndDefaults() {
        let a = Tensor.zeros([2]).requiresGrad_(), b = Tensor.zeros([2]).requiresGrad_()
        let opt = RMSprop(groups: [ParamGroup(params: [a]), ParamGroup(params: [b], lr: 0.5, options: ["momentum": 0.3])], lr: 0.01)
        #expect(opt.paramGroups[0].lr == 0.01 && opt.paramGroups[1].lr == 0.5)
        #expect(opt.paramGroups[0].momentum == 0 && opt.paramGroups[1].momentum == 0.3)
        #expect(opt.paramGroups[0].optionNames == ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"])
        let sd = opt.stateDict()
        #expect(sd.double("param_groups.1.momentum") == 0.3)
        #expect(sd["param_groups.1.params"]?.toDoubleArray() == [1])
    }

    @Test func loadStateDictRejectsMismatchedGroups() {
        let a = Tensor.zeros([2]).requiresGrad_(), b = Tensor.zeros([3]).requiresGrad_()
        let saved = SGD([a, b], lr: 0.1).stateDict()
        let other = SGD(groups: [ParamGroup(params: [a]), ParamGroup(params: [b])], lr: 0.1)
        #expect(throws: StateDictError.self) { try other.loadStateDict(saved) }
        let adam = Adam([a, b]); a.grad = Tensor.ones([2]); b.grad = Tensor.ones([3]); adam.step()
        var bad = adam.stateDict(); bad["state.1.exp_avg"] = Tensor.zeros([4])
        #expect(throws: StateDictError.self) { try Adam([a, b]).loadStateDict(bad) }
    }

    static func stderrText(_ r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func unknownGroupOptionIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = SGD(groups: [ParamGroup(params: [Tensor.zeros([2]).requiresGrad_()], options: ["betas": 0.9])], lr: 0.1)
        }
        let text = Self.stderrText(r)
        #expect(text.contains("SGD") && text.contains("betas"), "stderr: \(text)")
    }

    @Test func nesterovWithoutMomentumIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = SGD([Tensor.zeros([2]).requiresGrad_()], lr: 0.1, nesterov: true)
        }
        #expect(Self.stderrText(r).contains("Nesterov"))
    }
}
