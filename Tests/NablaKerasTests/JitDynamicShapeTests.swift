import Testing
import NablaKeras
import NablaTestSupport

/// `jitCompile` models whose `Input` leaves the batch free: `fit`'s last partial batch and `predict` on any batch
/// size reuse the graph traced for the first size (a template), with eager's numbers.
@Suite struct JitDynamicShapeTests {
    func makeModel() -> Model {
        let inputs = Input(shape: [6])
        let h = Dense(16, activation: .relu)(inputs)
        return Model(inputs: inputs, outputs: Dense(3, activation: .softmax)(h))
    }

    @Test func fitWithAPartialLastBatchTracesTwiceAndPredictSpecialisesEverySize() throws {
        let g = Generator(seed: 5)
        let x = Tensor.randn([100, 6], generator: g)
        let y = Tensor.randint(3, [100], generator: g)
        let first = makeModel()
        let initial = first.getWeights()
        func run(_ model: Model, jit: Bool) -> (History, Tensor, Tensor) {
            model.setWeights(initial)
            model.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"], jitCompile: jit)
            // 100 samples in batches of 32: three full batches and a last one of 4, every epoch.
            let h = model.fit(x: x, y: y, epochs: 3, batchSize: 32, shuffle: false, verbose: 0)
            return (h, model.predict(x, batchSize: 30), model.predict(x, batchSize: 7))
        }
        let (eager, eagerP30, eagerP7) = run(first, jit: false)
        let model = makeModel()
        let (jit, p30, p7) = run(model, jit: true)
        let step = try #require(model.compiledStep)
        #expect(step.traceCount <= 2 && step.graphBreaks.isEmpty, "\(step.explain())")
        #expect(step.explain().contains("specialised for sizes [32, 4]"), "\(step.explain())")
        for k in ["loss", "accuracy"] {
            for (a, b) in zip(eager[k], jit[k]) { #expect(Swift.abs(a - b) < 1e-5, "\(k): \(eager[k]) vs \(jit[k])") }
        }
        // predict in batches of 30 (and a last 10), then of 7 (and a last 2): traced twice, every other size specialised.
        let predict = try #require(model.compiledPredict)
        #expect(predict.traceCount == 2 && predict.specialiseSeconds.count >= 2, "\(predict.explain())")
        for (a, b) in [(p30, eagerP30), (p7, eagerP7)] {
            let r = allClose(a, b, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
    }
}
