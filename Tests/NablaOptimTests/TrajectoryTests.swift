import Testing
import NablaOptim
import NablaTestSupport

/// Whole training runs from PyTorch's random streams (`Tests/Fixtures/trajectory.json`, written by
/// `Scripts/fixtures/trajectory.py`): data, initial weights, batch order and Dropout masks come from
/// `.mt19937` generators seeded as the script seeds PyTorch's, so every step's loss must follow PyTorch's.
@Suite struct TrajectoryTests {
    static let fixture = loadFixture("trajectory")

    /// Trains as the script does: data then model from `torch.manual_seed(0)`, batches of 32 in the order of a
    /// generator seeded 1, Adam 1e-3. Returns every step's loss and the trained model.
    func train(steps: Int, data: () -> (Tensor, Tensor), model: () -> Module) -> (losses: Tensor, model: Module) {
        Generator.withDefault(Generator(seed: 0, engine: .mt19937)) {
            let (x, y) = data()
            let m = model()
            let opt = Adam(m.parameters(), lr: 1e-3)
            let order = Generator(seed: 1, engine: .mt19937)
            let n = x.shape[0], batch = 32
            var losses: [Float] = []
            while losses.count < steps {
                let perm = Tensor.randperm(n, generator: order)
                for i in stride(from: 0, to: n, by: batch) where losses.count < steps {
                    let idx = perm.narrow(0, start: i, length: min(batch, n - i))
                    let loss = crossEntropy(m(x.indexSelect(dim: 0, index: idx)), y.indexSelect(dim: 0, index: idx))
                    opt.zeroGrad()
                    loss.backward()
                    opt.step()
                    losses.append(Float(loss.item()))
                }
            }
            return (Tensor(shape: [steps], data: losses), m)
        }
    }

    func expectFollowsPyTorch(_ name: String, _ run: (losses: Tensor, model: Module), rtol: Double,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = Self.fixture[name].outputs
        let r = allClose(run.losses, expected[0].tensor, rtol: rtol, atol: 0)
        #expect(r.ok, "\(name) losses: \(r.failure)", sourceLocation: sourceLocation)
        let params = run.model.parameters()
        #expect(params.count == expected.count - 1, sourceLocation: sourceLocation)
        for (i, (p, e)) in zip(params, expected.dropFirst()).enumerated() {
            let q = allClose(p, e.tensor, rtol: 10 * rtol, atol: 10 * rtol)
            #expect(q.ok, "\(name) parameter \(i): \(q.failure)", sourceLocation: sourceLocation)
        }
    }

    @Test func mlpWithDropoutFollowsPyTorch() {
        let run = train(steps: 40, data: { (Tensor.rand([200, 64]), Tensor.randint(0, 10, [200])) },
                        model: { Sequential(Linear(64, 32), ReLU(), Dropout(p: 0.2), Linear(32, 10)) })
        expectFollowsPyTorch("mlp_dropout_adam", run, rtol: 1e-5)
    }

    @Test func cnnFollowsPyTorch() {
        let run = train(steps: 24, data: { (Tensor.rand([96, 1, 8, 8]), Tensor.randint(0, 10, [96])) },
                        model: { Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                                            Flatten(), Linear(64, 10)) })
        expectFollowsPyTorch("cnn_adam", run, rtol: 1e-5)
    }
}
