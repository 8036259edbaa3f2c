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

    /// Tags of the scalar summaries in every events file of `dir` (read back with the TFRecord framing).
    static func eventFiles(_ dir: String) throws -> [[[UInt8]]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("events.out.tfevents") }
        return try names.map { try TFRecord.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)))) }
    }

    static func contains(_ records: [[[UInt8]]], _ tag: String) -> Bool {
        let needle = Array(tag.utf8)
        return records.joined().contains { r in
            r.count >= needle.count && (0...(r.count - needle.count)).contains { Array(r[$0..<$0 + needle.count]) == needle }
        }
    }

    @Test func trainEvaluatePredictWithCheckpointsSummariesAndWarmStart() throws {
        let dir = Self.temporaryDir("iris"), warmDir = Self.temporaryDir("warm")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: warmDir) }
        manualSeed(3)
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

        // TensorBoard summaries in the model directory and in eval/.
        let trainEvents = try Self.eventFiles(dir), evalEvents = try Self.eventFiles(dir + "/eval")
        #expect(Self.contains(trainEvents, "loss") && trainEvents.joined().count >= 1 + 7)   // steps 1, 20, 40, ..., 120
        #expect(Self.contains(evalEvents, "accuracy") && Self.contains(evalEvents, "loss"))

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
