import Foundation

/// TensorFlow's Estimator: one model function for training, evaluation and prediction, with checkpoints
/// and TensorBoard summaries kept in a model directory (`tf.estimator.Estimator`).
///
/// The model function receives a batch's features and labels, the mode and an `EstimatorContext` (which
/// holds the hyper-parameters and creates the named modules and optimizers), and returns an `EstimatorSpec`.
/// Each call restores the newest checkpoint of `modelDir` (so a new Estimator on the same directory continues
/// where the last one stopped); when there is none, `warmStartFrom` names another model directory whose newest
/// checkpoint initialises the modules (not the optimizers, and the global step starts at 0).
///
/// In `modelDir`: `model.ckpt-<globalStep>.safetensors` (a `Checkpoint` with one part per module and
/// optimizer; the newest `config.keepCheckpointMax` are kept), the training events file (`loss` every
/// `config.saveSummarySteps` steps), and `eval/` with the evaluation metrics at each evaluated global step.
///
/// ```swift
/// let estimator = Estimator(modelFn: { features, labels, mode, context in
///     let logits = context.module("dense") { Linear(4, 3) }(features)
///     let predicted = logits.argmax(dim: 1)
///     if mode == .predict { return EstimatorSpec(mode: mode, predictions: ["class": predicted]) }
///     let loss = crossEntropy(logits, labels!)
///     if mode == .train {
///         let opt = context.optimizer { Adagrad($0, lr: 0.1) }
///         return EstimatorSpec(mode: mode, loss: loss, trainOp: opt.minimize(loss))
///     }
///     return EstimatorSpec(mode: mode, loss: loss, evalMetricOps: ["accuracy": .accuracy(labels: labels!, predictions: predicted)])
/// }, modelDir: "runs/iris")
/// try estimator.train(inputFn: { DataLoader(TensorDataset(x, y), batchSize: 32, shuffle: true) }, steps: 200)
/// let metrics = try estimator.evaluate(inputFn: { DataLoader(TensorDataset(x, y), batchSize: 32) })
/// let predictions = try estimator.predict(inputFn: { DataLoader(TensorDataset(x), batchSize: 32) })
/// ```
public final class Estimator {
    /// The model function: `(features, labels, mode, context) -> spec` (TensorFlow's `model_fn`).
    public typealias ModelFn = (_ features: Tensor, _ labels: Tensor?, _ mode: ModeKeys, _ context: EstimatorContext) -> EstimatorSpec

    /// The model directory: checkpoints and summaries.
    public let modelDir: String
    /// Checkpoint and summary frequencies.
    public let config: RunConfig
    /// Hyper-parameters handed to the model function (`params`).
    public let params: [String: Double]
    /// The model directory to warm-start from when `modelDir` has no checkpoint (`warm_start_from`).
    public let warmStartFrom: String?
    /// The modules to warm-start (nil: every module the warm-start checkpoint has; `vars_to_warm_start`).
    public let warmStartModules: [String]?
    private let modelFn: ModelFn

    /// Creates an Estimator over `modelFn`; nothing runs until `train`, `evaluate` or `predict`.
    public init(modelFn: @escaping ModelFn, modelDir: String, config: RunConfig = RunConfig(), params: [String: Double] = [:],
                warmStartFrom: String? = nil, warmStartModules: [String]? = nil) {
        self.modelFn = modelFn
        self.modelDir = modelDir
        self.config = config
        self.params = params
        self.warmStartFrom = warmStartFrom
        self.warmStartModules = warmStartModules
    }

    // MARK: Checkpoints

    /// The checkpoints in `directory` (default: `modelDir`), oldest first.
    public func checkpoints(in directory: String? = nil) -> [(globalStep: Int, path: String)] {
        let dir = directory ?? modelDir
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("model.ckpt-"), name.hasSuffix(".safetensors"),
                  let step = Int(name.dropFirst("model.ckpt-".count).dropLast(".safetensors".count)) else { return nil }
            return (step, (dir as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest checkpoint of `modelDir`, or nil (`latest_checkpoint()`).
    public var latestCheckpoint: String? { checkpoints().last?.path }

    /// The global step of the newest checkpoint (0 before any training).
    public var globalStep: Int { checkpoints().last?.globalStep ?? 0 }

    private func loadLatest(in directory: String) throws -> (checkpoint: Checkpoint, path: String)? {
        guard let latest = checkpoints(in: directory).last else { return nil }
        do {
            return (try Checkpoint.load(from: latest.path), latest.path)
        } catch {
            throw EstimatorError.restoreFailed(path: latest.path, reason: "\(error)")
        }
    }

    /// A fresh context for `mode`, restoring `modelDir`'s newest checkpoint or warm-starting.
    private func makeContext(_ mode: ModeKeys) throws -> EstimatorContext {
        let restore = try loadLatest(in: modelDir)
        if mode != .train && restore == nil { throw EstimatorError.noTrainedModel(modelDir: modelDir) }
        var warm: (checkpoint: Checkpoint, path: String)? = nil
        if restore == nil, let from = warmStartFrom {
            guard let w = try loadLatest(in: from) else {
                throw EstimatorError.restoreFailed(path: from, reason: "warmStartFrom names a directory without a checkpoint")
            }
            warm = w
        }
        return EstimatorContext(mode: mode, params: params, globalStep: restore?.checkpoint.step ?? 0,
                                restoreFrom: restore, warmStart: warm, warmStartModules: warmStartModules)
    }

    /// Calls the model function and surfaces a failed restore.
    private func callModel(_ batch: some EstimatorInput, _ mode: ModeKeys, _ context: EstimatorContext) throws -> EstimatorSpec {
        let spec = withGradEnabled(mode == .train) {
            modelFn(batch.estimatorFeatures, batch.estimatorLabels, mode, context)
        }
        if let e = context.restoreError { throw e }
        check(spec.mode == mode, "Estimator: the model function returned a spec for \(spec.mode) when called for \(mode)")
        return spec
    }

    private func save(_ context: EstimatorContext) throws {
        let path = (modelDir as NSString).appendingPathComponent("model.ckpt-\(context.globalStep).safetensors")
        do {
            try FileManager.default.createDirectory(atPath: modelDir, withIntermediateDirectories: true)
            try Checkpoint(parts: context.parts, step: context.globalStep).save(to: path)
        } catch {
            throw EstimatorError.writeFailed(path: path, reason: "\(error)")
        }
        let all = checkpoints()
        for old in all.dropLast(config.keepCheckpointMax) { try? FileManager.default.removeItem(atPath: old.path) }
    }

    private func writer(_ directory: String) throws -> SummaryWriter {
        do { return try SummaryWriter(logDir: directory) } catch {
            throw EstimatorError.writeFailed(path: directory, reason: "\(error)")
        }
    }

    // MARK: train / evaluate / predict

    /// Trains on the batches of `inputFn()` (`Estimator.train`), continuing from the newest checkpoint.
    ///
    /// Stops when the input ends (repeat it inside `inputFn` for several epochs, as with `tf.data`), after
    /// `steps` more steps, or when the global step reaches `maxSteps`. Writes a checkpoint at the end (and every
    /// `config.saveCheckpointsSteps`) and the loss to TensorBoard.
    /// - Throws: `EstimatorError` when a checkpoint cannot be read or written.
    @discardableResult
    public func train<S: Sequence>(inputFn: () -> S, steps: Int? = nil, maxSteps: Int? = nil) throws -> Estimator
    where S.Element: EstimatorInput {
        check(steps.map { $0 >= 0 } ?? true, "Estimator.train: steps must be non-negative, got \(steps ?? 0)")
        let context = try makeContext(.train)
        let start = context.globalStep
        var stop = Int.max
        if let steps { stop = start + steps }
        if let maxSteps { stop = Swift.min(stop, maxSteps) }
        guard start < stop else { return self }
        let events = try writer(modelDir)
        defer { try? events.close() }
        for batch in inputFn() {
            let spec = try callModel(batch, .train, context)
            guard let loss = spec.loss, let trainOp = spec.trainOp else {
                nablaFail("Estimator.train: the model function's spec for .train needs a loss and a trainOp")
            }
            check(loss.count == 1, "Estimator.train: the loss must be a scalar, got shape \(loss.shape)")
            trainOp()
            context.globalStep += 1
            let step = context.globalStep
            if step == start + 1 || step % config.saveSummarySteps == 0 {
                events.addScalar("loss", loss.detached().item(), step: step)
            }
            if let every = config.saveCheckpointsSteps, step % every == 0, step < stop { try save(context) }
            if step >= stop { break }
        }
        if context.globalStep > start { try save(context) }
        return self
    }

    /// Evaluates the newest checkpoint on the batches of `inputFn()` (all of them, or the first `steps`)
    /// (`Estimator.evaluate`).
    ///
    /// - Returns: every metric of the spec's `evalMetricOps` (`Σ sum / Σ count` over the batches), `loss` (the
    ///   mean of the batch losses, as TensorFlow's) and `global_step`; they are also written to TensorBoard
    ///   under `modelDir/eval` (or `eval_<name>`) at the global step.
    /// - Throws: `EstimatorError.noTrainedModel` without a checkpoint.
    public func evaluate<S: Sequence>(inputFn: () -> S, steps: Int? = nil, name: String? = nil) throws -> [String: Double]
    where S.Element: EstimatorInput {
        let context = try makeContext(.eval)
        var lossSum = 0.0, batches = 0
        var metricNames: [String] = []
        var sums: [String: (Double, Double)] = [:]
        for batch in inputFn() {
            if let steps, batches >= steps { break }
            let spec = try callModel(batch, .eval, context)
            guard let loss = spec.loss else { nablaFail("Estimator.evaluate: the model function's spec for .eval needs a loss") }
            lossSum += loss.detached().to(.float64).mean().item()
            batches += 1
            for (metric, value) in spec.evalMetricOps {
                if sums[metric] == nil { metricNames.append(metric); sums[metric] = (0, 0) }
                sums[metric]!.0 += value.sum
                sums[metric]!.1 += value.count
            }
        }
        check(batches > 0, "Estimator.evaluate: the input function yielded no batch")
        var results: [String: Double] = ["loss": lossSum / Double(batches), "global_step": Double(context.globalStep)]
        for metric in metricNames {
            let (s, c) = sums[metric]!
            results[metric] = c > 0 ? s / c : .nan
        }
        let dir = (modelDir as NSString).appendingPathComponent(name.map { "eval_\($0)" } ?? "eval")
        let events = try writer(dir)
        for metric in ["loss"] + metricNames { events.addScalar(metric, results[metric]!, step: context.globalStep) }
        try? events.close()
        return results
    }

    /// Runs the newest checkpoint on the batches of `inputFn()` and splits the spec's predictions into one
    /// dictionary per example (`Estimator.predict`).
    ///
    /// - Throws: `EstimatorError.noTrainedModel` without a checkpoint.
    public func predict<S: Sequence>(inputFn: () -> S) throws -> [[String: Tensor]] where S.Element: EstimatorInput {
        let context = try makeContext(.predict)
        var out: [[String: Tensor]] = []
        for batch in inputFn() {
            let spec = try callModel(batch, .predict, context)
            check(!spec.predictions.isEmpty, "Estimator.predict: the model function's spec for .predict needs predictions")
            let n = spec.predictions[0].1.rank > 0 ? spec.predictions[0].1.shape[0] : 1
            for (key, p) in spec.predictions {
                check(p.rank > 0 && p.shape[0] == n,
                      "Estimator.predict: prediction '\(key)' has shape \(p.shape); every prediction needs the batch size \(n) as its first dim")
            }
            for i in 0..<n {
                var example: [String: Tensor] = [:]
                for (key, p) in spec.predictions { example[key] = p[i].detached() }
                out.append(example)
            }
        }
        return out
    }
}
