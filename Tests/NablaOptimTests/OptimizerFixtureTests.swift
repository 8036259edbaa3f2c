import Testing
import Foundation
import NablaOptim
import NablaTestSupport

/// Optimizer runs against PyTorch (Scripts/fixtures/optim.py): a float64 MLP, 5 steps per configuration.
@Suite struct OptimizerFixtureTests {
    static let fixture = loadFixture("optim")
    static let optimizerCases = ["sgd_plain", "sgd_momentum", "sgd_nesterov", "sgd_weight_decay", "sgd_maximize", "adam",
                                 "adam_amsgrad", "adamw", "rmsprop", "rmsprop_centered_momentum", "adagrad", "adadelta",
                                 "two_group_sgd", "two_group_adam"]

    /// The optimizer of each case, as in the fixture script.
    static func make(_ name: String, _ p: [Tensor]) -> Optimizer {
        let body = Array(p[0..<2]), head = Array(p[2...])
        switch name {
        case "sgd_plain": return SGD(p, lr: 0.1)
        case "sgd_momentum": return SGD(p, lr: 0.1, momentum: 0.9, dampening: 0.1)
        case "sgd_nesterov": return SGD(p, lr: 0.1, momentum: 0.9, nesterov: true)
        case "sgd_weight_decay": return SGD(p, lr: 0.1, momentum: 0.5, weightDecay: 0.01)
        case "sgd_maximize": return SGD(p, lr: 0.01, maximize: true)
        case "adam": return Adam(p, lr: 0.01)
        case "adam_amsgrad": return Adam(p, lr: 0.01, betas: (0.8, 0.9), weightDecay: 0.01, amsgrad: true)
        case "adamw": return AdamW(p, lr: 0.01, weightDecay: 0.1)
        case "rmsprop": return RMSprop(p, lr: 0.01)
        case "rmsprop_centered_momentum": return RMSprop(p, lr: 0.01, weightDecay: 0.01, momentum: 0.9, centered: true)
        case "adagrad": return Adagrad(p, lr: 0.1, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1)
        case "adadelta": return Adadelta(p, lr: 1.0, rho: 0.9, weightDecay: 0.01)
        case "two_group_sgd":
            return SGD(groups: [ParamGroup(params: body), ParamGroup(params: head, lr: 0.1)], lr: 0.01, momentum: 0.9)
        case "two_group_adam":
            return Adam(groups: [ParamGroup(params: body),
                                 ParamGroup(params: head, lr: 0.1, options: ["beta1": 0.8, "beta2": 0.99])], lr: 0.01)
        default: fatalError("unknown optimizer case \(name)")
        }
    }

    /// Fresh leaf parameters (W1, b1, W2, b2) from the case's initial weights.
    static func params(_ c: FixtureCase, dtype: DType = .float64) -> [Tensor] {
        (0..<4).map { c.inputs[$0].tensor.to(dtype).requiresGrad_() }
    }

    static func train(_ opt: Optimizer, _ p: [Tensor], _ x: Tensor, _ y: Tensor, steps: Int) {
        for _ in 0..<steps {
            opt.zeroGrad()
            let out = (x.matmul(p[0].t()) + p[1]).tanh().matmul(p[2].t()) + p[3]
            mseLoss(out, y).backward()
            opt.step()
        }
    }

    @Test(arguments: optimizerCases) func matchesTorch(_ name: String) {
        let c = Self.fixture[name]
        let p = Self.params(c), x = c.inputs[4].tensor, y = c.inputs[5].tensor
        Self.train(Self.make(name, p), p, x, y, steps: 5)
        for i in 0..<4 {
            let r = allClose(p[i], c.outputs[i].tensor, rtol: 1e-10, atol: 1e-13)
            #expect(r.ok, "\(name) parameter \(i): \(r.failure)")
        }
    }

    @Test(arguments: optimizerCases) func float32TracksFloat64(_ name: String) {
        let c = Self.fixture[name]
        let p = Self.params(c, dtype: .float32)
        Self.train(Self.make(name, p), p, c.inputs[4].tensor.to(.float32), c.inputs[5].tensor.to(.float32), steps: 5)
        for i in 0..<4 {
            let r = allClose(p[i].to(.float64), c.outputs[i].tensor, rtol: 1e-4, atol: 1e-5)
            #expect(r.ok, "\(name) float32 parameter \(i): \(r.failure)")
        }
    }

    @Test(arguments: optimizerCases) func stateDictResumeIsBitIdentical(_ name: String) {
        let c = Self.fixture[name]
        let x = c.inputs[4].tensor, y = c.inputs[5].tensor
        let straight = Self.params(c)
        Self.train(Self.make(name, straight), straight, x, y, steps: 5)

        let first = Self.params(c)
        let opt = Self.make(name, first)
        Self.train(opt, first, x, y, steps: 3)
        let saved = opt.stateDict()
        Self.train(opt, first, x, y, steps: 1)   // the saved copy must not follow the live state
        // A fresh optimizer over fresh parameters holding the weights after step 3.
        let mid = Self.params(c)
        Self.train(Self.make(name, mid), mid, x, y, steps: 3)
        let fresh = mid.map { $0.detached().clone().requiresGrad_() }
        let opt2 = Self.make(name, fresh)
        do { try opt2.loadStateDict(saved) } catch { Issue.record("\(name): \(error)"); return }
        Self.train(opt2, fresh, x, y, steps: 2)
        for i in 0..<4 {
            #expect(fresh[i].toDoubleArray() == straight[i].toDoubleArray(), "\(name) parameter \(i) differs after resume")
        }
        if name.hasPrefix("adam") {
            #expect(saved.int("state.0.step") == 3)
            #expect(saved["state.0.exp_avg"]?.shape == [5, 4])
            #expect(saved.double("param_groups.0.lr") == 0.01)
        }
    }
}
