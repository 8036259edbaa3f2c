import Testing
import Nabla
import NablaNN
import NablaOptim
import NablaTestSupport

/// Dynamic shapes in compiled training and inference: a whole MLP training step (forward, backward, Adam) traced at
/// two batch sizes serves every other size from its template, with eager's losses and weights; a CNN's compiled
/// forward does the same across batch sizes.
@Suite(.serialized) struct CompiledDynamicShapeTests {
    static func mlp() -> Sequential { Sequential(Linear(20, 32), ReLU(), Linear(32, 5)) }
    static func cnn() -> Sequential {
        Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2), Flatten(), Linear(4 * 5 * 5, 5))
    }

    /// Trains a model (the MLP unless `make` says otherwise) with Adam on batches of `sizes` of samples shaped
    /// `sample`, eagerly or through `compile`, from `state`.
    static func train(sizes: [Int], state: StateDict, dtype: DType, compiled: Bool, make: () -> Sequential = mlp,
                      sample: [Int] = [20]) throws -> ([Double], StateDict, CompiledFunction?) {
        let model = make()
        try model.loadStateDict(state, strict: true)
        model.to(dtype)
        let opt = Adam(model.parameters(), lr: 1e-2)
        let body = { (x: Tensor, y: Tensor) -> Tensor in
            opt.zeroGrad()
            let loss = crossEntropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        }
        let step = compiled ? compile(name: "mlp-step", body) : nil
        let g = Generator(seed: 21)
        var losses: [Double] = []
        for n in sizes {
            let x = Tensor.randn([n] + sample, generator: g).to(dtype)
            let y = Tensor.randint(5, [n], generator: g)
            losses.append((step.map { $0(x, y) } ?? body(x, y)).item())
        }
        return (losses, model.stateDict(), step)
    }

    /// Batches of 128, 96, 7 and 128 again: exactly two traces (128 after its warm-up call, and 96), 7 specialised,
    /// and the losses and updated parameters equal eager's at every size.
    @Test(.seeded(7), arguments: [DType.float32, .float64])
    func aTrainingStepTracesTwiceForFourBatchSizes(_ dtype: DType) throws {
        let sizes = [128, 128, 96, 7, 128, 7, 96]
        let state = Self.mlp().stateDict()
        let (eagerLosses, eagerState, _) = try Self.train(sizes: sizes, state: state, dtype: dtype, compiled: false)
        let (losses, compiledState, step) = try Self.train(sizes: sizes, state: state, dtype: dtype, compiled: true)
        let c = try #require(step)
        let text = c.explain()
        #expect(c.traceCount == 2, "\(text)")
        #expect(c.specialiseSeconds.count == 1 && c.graphBreaks.isEmpty, "\(text)")
        #expect(text.contains("dynamic: s = dim 0 of argument 0 = dim 0 of argument 1, specialised for sizes [128, 96, 7]"), "\(text)")
        for (a, b) in zip(eagerLosses, losses) {
            #expect(Swift.abs(a - b) <= 1e-5 * Swift.max(1, Swift.abs(a)), "\(dtype) losses \(eagerLosses) vs \(losses)")
        }
        for (k, t) in eagerState {
            let r = allClose(compiledState[k]!, t, rtol: 1e-5, atol: dtype == .float64 ? 1e-10 : 1e-6)
            #expect(r.ok, "\(dtype) \(k): \(r.failure)")
        }
    }

    /// A CNN training step (convolution and its backward, max pool, flatten, Adam) traced at 8 and 6 and specialised
    /// for 3 and 5 gives eager's losses and weights.
    @Test(.seeded(9)) func aCNNTrainingStepSpecialisesItsConvolutionGeometry() throws {
        let sizes = [8, 8, 6, 3, 5, 8]
        let state = Self.cnn().stateDict()
        let (eagerLosses, eagerState, _) = try Self.train(sizes: sizes, state: state, dtype: .float32, compiled: false, make: Self.cnn, sample: [1, 10, 10])
        let (losses, compiledState, step) = try Self.train(sizes: sizes, state: state, dtype: .float32, compiled: true, make: Self.cnn, sample: [1, 10, 10])
        let c = try #require(step)
        #expect(c.traceCount == 2 && c.specialiseSeconds.count == 2, "\(c.explain())")
        for (a, b) in zip(eagerLosses, losses) {
            #expect(Swift.abs(a - b) <= 1e-5 * Swift.max(1, Swift.abs(a)), "losses \(eagerLosses) vs \(losses)")
        }
        for (k, t) in eagerState {
            let r = allClose(compiledState[k]!, t, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(k): \(r.failure)")
        }
    }

    /// A compiled CNN forward (convolution, ReLU, max pool, a flatten whose target shape holds the batch, linear) at
    /// batch sizes 4, 6, 3 and 5: two traces, the rest specialised, every output equal to eager's.
    @Test(.seeded(8)) func aCompiledCNNForwardSpecialisesNewBatchSizes() throws {
        let model = Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), MaxPool2d(kernelSize: 2),
                               Flatten(), Linear(4 * 6 * 6, 10))
        model.eval()
        let sizes = [4, 4, 6, 3, 5, 3]
        let xs = sizes.map { Tensor.randn([$0, 1, 12, 12]) }
        let expected = xs.map { x in noGrad { model(x) } }
        let c = model.compile()
        for (x, e) in zip(xs, expected) {
            let r = allClose(noGrad { model(x) }, e, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "batch \(x.shape[0]): \(r.failure)\n\(c.explain())")
        }
        #expect(c.traceCount == 2 && c.specialiseSeconds.count == 2, "\(c.explain())")
        #expect(c.explain().contains("specialised for sizes [4, 6, 3, 5]"), "\(c.explain())")
    }
}
