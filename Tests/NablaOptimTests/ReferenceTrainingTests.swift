import Testing
import Nabla
import NablaNN
import NablaOptim
import NablaTestSupport

/// Training runs through the `Backend` protocol alone: the W3, W4, W5 and W7 models (small batches) train a few Adam
/// steps on `.reference` and on the CPU from the same weights and data, and agree; every optimizer rule's step runs on
/// the parameters' device with its state there too.
@Suite(.serialized) struct ReferenceTrainingTests {
    /// A model, one batch of inputs and integer targets for it, and how to get logits from the model.
    struct Workload {
        let make: () -> Module
        let input: Tensor
        let target: Tensor
        let logits: (Module, Tensor) -> Tensor
    }

    static func workload(_ name: String) -> Workload {
        let g = Generator(seed: 11)
        let target = Tensor.randint(0, 10, [4], generator: g)
        switch name {
        case "W3":
            return Workload(make: { Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10)) },
                            input: Tensor.randn([4, 784], generator: g), target: target) { m, x in (m as! Sequential)(x) }
        case "W4":
            return Workload(make: {
                Sequential(Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                           Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                           Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
            }, input: Tensor.randn([2, 1, 28, 28], generator: g), target: target.narrow(0, start: 0, length: 2)) { m, x in
                (m as! Sequential)(x)
            }
        case "W5":
            return Workload(make: { Sequential(["lstm": LSTM(28, 32, batchFirst: true), "fc": Linear(32, 10)]) },
                            input: Tensor.randn([4, 28, 28], generator: g), target: target) { m, x in
                let s = m as! Sequential
                let (out, _) = (s[0] as! LSTM)(x, nil)
                return (s[1] as! Linear)(out.select(1, 27))
            }
        default:   // W7's encoder layer, scaled down, with a linear head over the mean token
            return Workload(make: {
                Sequential(["enc": TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64, dropout: 0, batchFirst: true),
                            "head": Linear(32, 10)])
            }, input: Tensor.randn([4, 6, 32], generator: g), target: target) { m, x in
                let s = m as! Sequential
                return (s[1] as! Linear)((s[0] as! TransformerEncoderLayer)(x).mean(dims: [1]))
            }
        }
    }

    /// Trains `steps` Adam steps of `w` on `device` in `dtype` from the weights `state`; returns the losses and the final weights.
    static func train(_ w: Workload, state: StateDict, on device: Device, dtype: DType, steps: Int) throws -> ([Double], StateDict) {
        let model = w.make()
        try model.loadStateDict(state, strict: true)
        model.to(dtype).to(device)
        let opt = Adam(model.parameters(), lr: 1e-3)
        let x = w.input.to(dtype).to(device), y = w.target.to(device)
        var losses: [Double] = []
        for _ in 0..<steps {
            opt.zeroGrad()
            let loss = crossEntropy(w.logits(model, x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        }
        for p in model.parameters() { #expect(p.device == device && p.dtype == dtype) }
        for (k, t) in opt.stateDict() where k.hasPrefix("state.") && t.rank > 0 {
            #expect(t.device == device, "optimizer state \(k) lives on \(t.device), its parameter on \(device)")
        }
        return (losses, model.stateDict())
    }

    @Test(.seeded(5), arguments: ["W3", "W4", "W5", "W7"], [DType.float64, .float32])
    func trainingOnReferenceMatchesTheCPU(_ name: String, _ dtype: DType) throws {
        let w = Self.workload(name)
        let state = w.make().stateDict()
        let (cpuLosses, cpuState) = try Self.train(w, state: state, on: .cpu, dtype: dtype, steps: 3)
        let (refLosses, refState) = try Self.train(w, state: state, on: .reference, dtype: dtype, steps: 3)
        let tol = dtype == .float64 ? 1e-9 : 1e-5
        for (a, b) in zip(cpuLosses, refLosses) {
            #expect(Swift.abs(a - b) <= tol * Swift.max(1, Swift.abs(a)), "\(name) \(dtype) losses \(cpuLosses) vs \(refLosses)")
        }
        // float32 weights: Adam turns a rounding-level difference in a near-zero gradient into a step of up to lr
        // either way (m / √v ≈ ±1), so they agree to lr × steps; float64 pins the arithmetic down to 1e-9.
        for (k, t) in cpuState {
            let r = allClose(refState[k]!.to(.cpu), t, rtol: tol, atol: dtype == .float64 ? 1e-11 : 3e-3)
            #expect(r.ok, "\(name) \(dtype) \(k): \(r.failure)")
        }
    }

    /// Each rule, with the options that change its arithmetic, three steps on both devices in float64.
    static let optimizers: [(String, @Sendable ([Tensor]) -> Optimizer)] = [
        ("sgd", { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
        ("sgd-plain", { SGD($0, lr: 0.1) }),
        ("adam", { Adam($0, lr: 0.01, weightDecay: 0.1, amsgrad: true) }),
        ("adamw", { AdamW($0, lr: 0.01, weightDecay: 0.1) }),
        ("rmsprop", { RMSprop($0, lr: 0.01, weightDecay: 0.1, momentum: 0.5, centered: true) }),
        ("adagrad", { Adagrad($0, lr: 0.1, lrDecay: 0.01, weightDecay: 0.1) }),
        ("adadelta", { Adadelta($0, lr: 1, weightDecay: 0.1) }),
    ]

    @Test func everyOptimizerRuleRunsOnTheParametersDeviceAndMatchesTheCPU() {
        let refBefore = ReferenceBackend.shared.counter.snapshot, cpuBefore = cpuFusedOpCounts()
        for (name, make) in Self.optimizers {
            let start = Tensor.randn([5, 3], dtype: .float64, generator: Generator(seed: 3))
            var finals: [Tensor] = []
            for device in [Device.cpu, .reference] {
                let p = start.to(device).clone().requiresGrad_()
                let opt = make([p])
                for step in 0..<3 {
                    opt.zeroGrad()
                    ((p * p).sum() + (p * Double(step + 1)).sum()).backward()
                    if device == .reference {
                        let refMid = ReferenceBackend.shared.counter.snapshot
                        opt.step()
                        let reached = FusedOp.allCases.contains { ReferenceBackend.shared.counter.snapshot[$0]! > refMid[$0]! }
                        #expect(reached, "\(name): the step did not reach the reference backend")
                    } else {
                        opt.step()
                    }
                }
                #expect(p.device == device)
                finals.append(p.detached().to(.cpu))
            }
            let r = allClose(finals[1], finals[0], rtol: 1e-12, atol: 1e-14)
            #expect(r.ok, "\(name): \(r.failure)")
        }
        let refAfter = ReferenceBackend.shared.counter.snapshot, cpuAfter = cpuFusedOpCounts()
        for op in [FusedOp.sgdStep, .adamStep, .rmspropStep, .adagradStep, .adadeltaStep] {
            #expect(refAfter[op]! > refBefore[op]!, "\(op) never reached the reference backend")
            #expect(cpuAfter[op]! > cpuBefore[op]!, "\(op) never reached the CPU backend")
        }
    }

    @Test func moduleToMovesParametersInPlace() throws {
        let m = Sequential(Linear(3, 4), BatchNorm1d(4), Linear(4, 2))
        let params = m.parameters(), values = params.map { $0.toDoubleArray() }
        m.double()
        #expect(m.parameters().allSatisfy { $0.dtype == .float64 })
        #expect(m.buffers().filter { $0.dtype.isFloatingPoint }.allSatisfy { $0.dtype == .float64 })
        m.to(.reference)
        #expect(zip(params, m.parameters()).allSatisfy { $0 === $1 }, "the parameter objects must stay the same")
        #expect(m.parameters().allSatisfy { $0.device == .reference && $0.requiresGrad })
        #expect(m.buffers().allSatisfy { $0.device == .reference })
        for (p, v) in zip(params, values) {
            let r = allClose(p.to(.cpu), Tensor(shape: p.shape, data: v, dtype: .float64), rtol: 1e-7, atol: 1e-7)
            #expect(r.ok, "\(r.failure)")
        }
        let y = m(Tensor.randn([5, 3], dtype: .float64).to(.reference))
        #expect(y.device == .reference && y.shape == [5, 2])
        m.to(.cpu).float()
        #expect(m.parameters().allSatisfy { $0.device == .cpu && $0.dtype == .float32 })
    }

    /// The README's device example, as written there.
    @Test func readmeDeviceExample() {
        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2)).double().to(.reference)
        let opt = Adam(model.parameters(), lr: 1e-3)           // state is created on .reference, float64
        let x = Tensor.randn([16, 4], dtype: .float64).to(.reference)
        let out = model(x)
        let loss = (out * out).mean()
        loss.backward(); opt.step()
        let y = withDefaultDevice(.reference) { softmax(Tensor.randn([2, 3]), dim: -1) }   // created and computed on .reference
        #expect(y.device == .reference && loss.device == .reference)
        #expect(Swift.abs(y.sum(dim: 1).to(.cpu).toDoubleArray()[0] - 1) < 1e-6)
        #expect(opt.stateDict()["state.0.exp_avg"]!.device == .reference)
    }
}
