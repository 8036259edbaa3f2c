import Testing
import Foundation
import NablaEstimator
import NablaData
import NablaTestSupport

/// The seed article's Estimator example (003: `tf.estimator.Estimator(model_fn, model_dir, params, warm_start_from)`
/// with a dense layer over the features, sparse softmax cross-entropy, Adagrad at 0.1, an accuracy metric and
/// `CLASS` predictions), ported to Nabla on a small Iris-like three-class problem.
@Suite(.serialized) struct EstimatorTests {
    static func temporaryDir(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nabla-estimator-\(tag)-\(UUID().uuidString)").path
    }

    /// Three Gaussian blobs in 4-D, `perClass` samples each.
    static func blobs(_ perClass: Int, seed: UInt64) -> (x: Tensor, y: Tensor) {
        let g = Generator(seed: seed)
        let centers = Tensor([[2.0, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]]).to(.float32)
        let labels = Tensor(shape: [3 * perClass], data: (0..<3 * perClass).map { Double($0 / perClass) }, dtype: .int64)
        let x = centers.indexSelect(dim: 0, index: labels) + Tensor.randn([3 * perClass, 4], generator: g) * 0.6
        return (x, labels)
    }

    /// `my_model(features, labels, mode, params)` of the article.
    static func myModel(_ features: Tensor, _ labels: Tensor?, _ mode: ModeKeys, _ context: EstimatorContext) -> EstimatorSpec {
        let nClasses = Int(context.params["n_classes"] ?? 3)
        let dense = context.module("dense") { Linear(4, nClasses) }
        let logits = dense(features)
        let predictedClasses = logits.argmax(dim: 1)
        if mode == .predict {
            return EstimatorSpec(mode: mode, predictions: ["CLASS": predictedClasses, "logits": logits])
        }
        let loss = crossEntropy(logits, labels!)
        if mode == .train {
            let optimizer = context.optimizer { Adagrad($0, lr: context.params["learning_rate"] ?? 0.1) }
            return EstimatorSpec(mode: mode, loss: loss, trainOp: optimizer.minimize(loss))
        }
        let accuracy = EvalMetric.accuracy(labels: labels!, predictions: predictedClasses)
        return EstimatorSpec(mode: mode, loss: loss, evalMetricOps: ["accuracy": accuracy])
    }

    /// `(step, tag, value)` of every scalar summary in the events files of `dir`: the TFRecord framing from
    /// NablaBoard, and the few protobuf fields of `Event` (step = 2, summary = 5), `Summary` (value = 1) and
    /// `Summary.Value` (tag = 1, simple_value = 2) read by hand.
    static func scalars(_ dir: String) throws -> [(step: Int, tag: String, value: Float)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("events.out.tfevents") }
        var out: [(Int, String, Float)] = []
        for name in names {
            for record in try TFRecord.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))) {
                let event = fields(record)
                let step = event.first { $0.0 == 2 }.map { Int($0.1) } ?? 0
                for (f, _, summary) in event where f == 5 {
                    for (g, _, value) in fields(summary ?? []) where g == 1 {
                        let v = fields(value ?? [])
                        guard let tag = v.first(where: { $0.0 == 1 })?.2, let bits = v.first(where: { $0.0 == 2 })?.1 else { continue }
                        out.append((step, String(decoding: tag, as: UTF8.self), Float(bitPattern: UInt32(bits))))
                    }
                }
            }
        }
        return out.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// The top-level fields of a protobuf message: (field number, varint or fixed value, bytes of a length-delimited field).
    static func fields(_ b: [UInt8]) -> [(Int, UInt64, [UInt8]?)] {
        var i = 0, out: [(Int, UInt64, [UInt8]?)] = []
        func varint() -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < b.count { let byte = b[i]; i += 1; v |= UInt64(byte & 0x7f) << shift; shift += 7; if byte < 0x80 { break } }
            return v
        }
        func fixed(_ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n where i + k < b.count { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            i += n
            return v
        }
        while i < b.count {
            let key = varint(), field = Int(key >> 3)
            switch key & 7 {
            case 0: out.append((field, varint(), nil))
            case 1: out.append((field, fixed(8), nil))
            case 5: out.append((field, fixed(4), nil))
            case 2:
                let n = Int(varint()), end = Swift.min(i + n, b.count)
                out.append((field, 0, Array(b[i..<end]))); i = end
            default: return out
            }
        }
        return out
    }

    @Test(.seeded(3)) func trainEvaluatePredictWithCheckpointsSummariesAndWarmStart() throws {
        let dir = Self.temporaryDir("iris"), warmDir = Self.temporaryDir("warm")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: warmDir) }
        let train = Self.blobs(40, seed: 1), test = Self.blobs(20, seed: 2)
        let params: [String: Double] = ["n_classes": 3, "learning_rate": 0.1]
        let estimator = Estimator(modelFn: Self.myModel, modelDir: dir, config: RunConfig(saveCheckpointsSteps: 50, saveSummarySteps: 20),
                                  params: params)
        #expect(throws: EstimatorError.self) { try estimator.evaluate(inputFn: { [[test.x, test.y]] }) }

        // train: the input repeats (as dataset.repeat()), 120 steps of batches of 20.
        let loader = DataLoader(TensorDataset(train.x, train.y), batchSize: 20, shuffle: true, generator: Generator(seed: 7))
        try estimator.train(inputFn: { (0..<100).lazy.flatMap { _ in loader } }, steps: 120)
        #expect(estimator.globalStep == 120)
        #expect(estimator.checkpoints().map(\.globalStep) == [50, 100, 120])

        // evaluate: accuracy on held-out data, written under eval/.
        let testInput = { DataLoader(TensorDataset(test.x, test.y), batchSize: 16) }
        let metrics = try estimator.evaluate(inputFn: testInput)
        #expect(metrics["accuracy"]! >= 0.9, "metrics: \(metrics)")
        #expect(metrics["global_step"] == 120 && metrics["loss"]! < 0.5)

        // predict: one dictionary per example; its classes give the same accuracy.
        let predictions = try estimator.predict(inputFn: { DataLoader(TensorDataset(test.x), batchSize: 16) })
        #expect(predictions.count == 60)
        let classes = Tensor(shape: [60], data: predictions.map { $0["CLASS"]!.item() }, dtype: .int64)
        let accuracy = classes.eq(test.y).to(.float64).mean().item()
        #expect(Swift.abs(accuracy - metrics["accuracy"]!) < 1e-12)

        // TensorBoard summaries: the training loss at step 1 and every 20 steps, the metrics under eval/.
        let trainScalars = try Self.scalars(dir)
        #expect(trainScalars.map(\.step) == [1, 20, 40, 60, 80, 100, 120] && trainScalars.allSatisfy { $0.tag == "loss" })
        #expect(trainScalars.last!.value < trainScalars.first!.value)
        let evalScalars = try Self.scalars(dir + "/eval")
        #expect(evalScalars.map(\.tag) == ["accuracy", "loss"] && evalScalars.allSatisfy { $0.step == 120 })
        #expect(evalScalars.first { $0.tag == "accuracy" }?.value == Float(metrics["accuracy"]!))

        // A new Estimator on the same directory resumes at the newest checkpoint.
        let resumed = Estimator(modelFn: Self.myModel, modelDir: dir, params: params)
        let again = try resumed.predict(inputFn: { [test.x] })
        #expect(zip(again, predictions).allSatisfy { $0["logits"]!.toDoubleArray() == $1["logits"]!.toDoubleArray() })
        try resumed.train(inputFn: { (0..<100).lazy.flatMap { _ in loader } }, steps: 10)
        #expect(resumed.globalStep == 130)

        // Warm start: a new model directory starts from the trained weights, at global step 0.
        let warm = Estimator(modelFn: Self.myModel, modelDir: warmDir, params: params, warmStartFrom: dir)
        try warm.train(inputFn: { loader }, steps: 1)
        #expect(warm.globalStep == 1)
        let source = try Checkpoint.load(from: resumed.latestCheckpoint!), started = try Checkpoint.load(from: warm.latestCheckpoint!)
        let w0 = source[part: "dense"]!["weight"]!, w1 = started[part: "dense"]!["weight"]!
        // One Adagrad step moves each weight by at most lr.
        #expect((w1 - w0).abs().max().item() <= 0.1 + 1e-6)
        #expect(try warm.evaluate(inputFn: testInput)["accuracy"]! >= 0.9)
    }

    @Test func specErrorsAndMetrics() {
        let m = EvalMetric.accuracy(labels: Tensor([0, 1, 2, 2]), predictions: Tensor([0, 1, 1, 2]))
        #expect(m.sum == 3 && m.count == 4)
        let mse = EvalMetric.meanSquaredError(labels: Tensor([1.0, 2]), predictions: Tensor([2.0, 4]))
        #expect(mse.sum == 5 && mse.count == 2)
        #expect(EstimatorError.noTrainedModel(modelDir: "d").description.contains("d"))
    }
}
