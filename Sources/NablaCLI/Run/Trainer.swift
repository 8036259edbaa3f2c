import Foundation
import NablaBoard
import NablaData
import NablaOptim

/// The metrics of one training epoch.
public struct EpochMetrics: Sendable {
    /// The epoch (1-based).
    public let epoch: Int
    /// Mean training loss over the epoch's batches.
    public let trainLoss: Double
    /// Training accuracy over the epoch (in [0, 1]).
    public let trainAccuracy: Double
    /// Validation loss and accuracy, nil without `validation_split`.
    public let validation: (loss: Double, accuracy: Double)?
    /// Test loss and accuracy.
    public let test: (loss: Double, accuracy: Double)
    /// The learning rate the epoch trained with.
    public let lr: Double
    /// Seconds the epoch's training took.
    public let seconds: Double
}

/// What a `Trainer` run produced and where it wrote it.
public struct TrainResult {
    /// The metrics of the epochs trained in this run.
    public let history: [EpochMetrics]
    /// The epoch the run started after (0 for a fresh run, the checkpoint's epoch on resume).
    public let startEpoch: Int
    /// The TensorBoard log folder (`<output>/logs`).
    public let logDir: String
    /// The last checkpoint written (or resumed from), nil when none exists.
    public let checkpoint: String?
    /// The final weights (`<output>/model.safetensors`).
    public let modelPath: String
}

/// Trains the model of a `TrainConfig` as Caffe's solver does: seeded, with a held-out validation split,
/// the configured optimizer and lr policy, a progress display, TensorBoard logs under `<output>/logs`, a
/// checkpoint per epoch under `<output>/checkpoints/` (written atomically), and `<output>/model.safetensors`.
///
/// ```swift
/// let config = try TrainConfig(contentsOf: "Examples/configs/fashion_cnn.yaml")
/// let result = try Trainer(config: config).run()
/// print(result.history.last!.test.accuracy)
/// ```
public final class Trainer {
    /// The config.
    public let config: TrainConfig
    /// Number of epochs to train to (the config's, or the override).
    public let epochs: Int
    /// The output folder.
    public let outputDir: String
    /// The model and its layer shapes.
    public let model: BuiltModel
    /// The loaded data.
    public let data: DataSource
    private let isTTY: Bool?
    private let log: (String) -> Void
    /// Whether training steps run as a compiled graph (the config's `compile`, or the override).
    public let compileSteps: Bool

    /// Seeds everything with the config's seed, builds the model and loads the data.
    /// - Parameters:
    ///   - epochs: Overrides `solver.epochs`.
    ///   - output: Overrides `output`.
    ///   - isTTY: Forces the bar (true) or one line per epoch (false); default: whether stdout is a terminal.
    ///   - log: Where progress and messages go (default: standard output).
    ///   - compile: Overrides the config's `compile`.
    /// - Throws: `ConfigError` when the data does not fit the model.
    public init(config: TrainConfig, epochs: Int? = nil, output: String? = nil, isTTY: Bool? = nil, compile: Bool? = nil,
                log: @escaping (String) -> Void = ProgressBar.standardOutput) throws {
        self.config = config
        compileSteps = compile ?? config.compile
        self.epochs = epochs ?? config.solver.epochs
        outputDir = output ?? config.output
        self.isTTY = isTTY
        let distribution = try TrainerDistribution.current()
        self.log = distribution?.isRoot == false ? { _ in } : log   // under mpirun only rank 0 prints
        manualSeed(config.seed)
        model = try BuiltModel(config.model)
        data = try DataSource(config: config)
        try Trainer.checkOutput(model, data: data, config: config)
    }

    /// Checks that the model's output has one value per class of the dataset.
    static func checkOutput(_ model: BuiltModel, data: DataSource, config: TrainConfig) throws {
        guard model.outputShape == [data.numClasses] else {
            throw config.model.layers.last!.node.error(
                "the model's output shape \(model.outputShape) (batch excluded) must be [\(data.numClasses)], one value per class "
                + "of \(config.data.dataset), for the \(config.solver.loss) loss")
        }
    }

    /// The folder of the per-epoch checkpoints.
    public var checkpointDir: String { outputDir + "/checkpoints" }

    /// The latest checkpoint of the output folder, or nil (read from `checkpoints/latest`; nil too when that
    /// file names something other than a file of the folder).
    public var latestCheckpoint: String? { try? latestCheckpointChecked() }

    /// The latest checkpoint of the output folder, or nil when there is none.
    /// - Throws: `TrainError` when `checkpoints/latest` names anything but a plain file name in the folder
    ///   (`../x`, `/etc/x`, a hidden or temporary file): the name comes from disk, so it may not leave the folder.
    public func latestCheckpointChecked() throws -> String? {
        let latest = checkpointDir + "/latest"
        guard let data = FileManager.default.contents(atPath: latest) else { return nil }
        guard let name = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw TrainError("\(latest): not UTF-8 text; expected the file name of a checkpoint in \(checkpointDir)")
        }
        if name.isEmpty { return nil }
        guard name.count <= 255, !name.contains("/"), !name.contains("\0"), !name.hasPrefix("."), !name.contains(".tmp-") else {
            throw TrainError("\(latest): '\(name)' is not a checkpoint file name in \(checkpointDir) (no '/', no leading '.', no temporary file)")
        }
        guard FileManager.default.fileExists(atPath: checkpointDir + "/" + name) else { return nil }
        return checkpointDir + "/" + name
    }

    /// One training step of `net` with `opt` as a function of `[images, labels]`: forward, loss, backward, update;
    /// returns `[loss, correct predictions]`.
    func makeStepBody(_ net: Module, _ opt: Optimizer) -> ([Tensor]) -> [Tensor] {
        { xs in
            let out = net(xs[0])
            let loss = self.lossValue(out, xs[1])
            TrainingLoop.optimize(loss, with: opt)
            return [loss, noGrad { out.argmax(dim: 1).eq(xs[1]).to(.float64).sum() }]
        }
    }

    /// The compiled graph of one training step on the first `batchSize` training samples (forward, backward and
    /// the optimizer's update), for `nabla graph`. It trains the model in memory by one step; nothing is saved.
    /// - Throws: `TrainError` when the step cannot be captured (a graph break).
    public func trainingStepGraph(batchSize: Int? = nil) throws -> CompiledGraph {
        let n = Swift.min(batchSize ?? config.solver.batchSize, data.trainImages.shape[0])
        let x = data.prepare(data.trainImages.narrow(0, start: 0, length: n))
        let y = data.trainLabels.narrow(0, start: 0, length: n)
        model.module.train()
        let step = CompiledFunction(name: "train step", warmup: 1, makeStepBody(model.module, makeOptimizer(config.solver, model.module.parameters())))
        _ = step.call([x, y]); _ = step.call([x, y])
        guard let g = step.graph else {
            throw TrainError("the training step of \(config.path) could not be captured: " + step.graphBreaks.map(\.description).joined(separator: "; "))
        }
        return g
    }

    /// Trains from scratch, or with `resume` from the latest checkpoint of the output folder (restoring
    /// model, optimizer, lr schedule, data order and random state), up to `epochs` epochs.
    public func run(resume: Bool = false) throws -> TrainResult {
        let fm = FileManager.default
        try fm.createDirectory(atPath: checkpointDir, withIntermediateDirectories: true)
        let module = model.module
        let opt = makeOptimizer(config.solver, module.parameters())
        let scheduler = makeScheduler(config.solver, opt)
        let trainSet = TensorDataset(data.trainImages, data.trainLabels)
        let dist = try TrainerDistribution.current()  // nil without mpirun (Trainer+Distributed.swift)
        let loader = DataLoader(trainSet, batchSize: config.solver.batchSize * (dist?.worldSize ?? 1), shuffle: true,
                                dropLast: dist?.dropLast(count: trainSet.count, batchSize: config.solver.batchSize) ?? false,
                                numWorkers: config.data.numWorkers, generator: Generator(seed: config.seed))
        let net = try dist?.wrap(module) ?? module
        var parts: [(String, any Stateful)] = [("model", module), ("optimizer", opt), ("loader", loader), ("generator", Generator.default)]
        if let scheduler { parts.append(("scheduler", scheduler)) }

        var startEpoch = 0, step = 0
        var lastCheckpoint: String? = nil
        if resume {
            if let path = try latestCheckpointChecked() {
                let ckpt = try Checkpoint.load(from: path)
                try ckpt.restore(parts: parts)
                startEpoch = ckpt.epoch; step = ckpt.step; lastCheckpoint = path
                log("Resuming from \(path) (epoch \(startEpoch), step \(step))\n")
            } else {
                log("No checkpoint in \(checkpointDir); starting from scratch\n")
            }
        }
        let logDir = dist?.isRoot == false ? NSTemporaryDirectory() + "nabla-rank-logs-\(UUID().uuidString)" : outputDir + "/logs"
        defer { if dist?.isRoot == false { try? fm.removeItem(atPath: logDir) } }
        let writer: SummaryWriter
        do { writer = try SummaryWriter(logDir: logDir) } catch { throw TrainError("cannot create the TensorBoard log in \(logDir): \(error)") }
        if startEpoch == 0 {
            writer.addText("config", (try? String(contentsOfFile: config.path, encoding: .utf8)) ?? config.path)
            writer.addText("model", model.summary(name: config.name))
        }
        let modelPath = outputDir + "/model.safetensors"
        if startEpoch >= epochs { log("Already trained \(startEpoch) of \(epochs) epochs; nothing to do\n") }

        // One training step: forward, loss, backward, update; with `compile`, it runs as one compiled graph.
        let stepBody = makeStepBody(net, opt)
        let trainStep = CompiledFunction(name: "train step", stepBody)
        var loop = TrainingLoop(progress: ProgressBar(epochs: epochs, isTTY: isTTY, emit: log), globalStep: step)
        var history: [EpochMetrics] = []
        for epoch in (startEpoch + 1)...max(startEpoch + 1, epochs) where epoch <= epochs {
            let lr = opt.paramGroups[0]["lr"] ?? config.solver.lr
            module.train()
            var correct = 0.0
            let summary = loop.runEpoch(
                epoch, batches: loader, steps: loader.count,
                afterBatch: { _, l in
                    step += 1
                    if step % 10 == 0 { writer.addScalar("batch/loss", l, step: step) }
                },
                runningValues: { seen in [("accuracy", correct / Double(seen))] }
            ) { globalBatch in
                let batch = dist?.share(globalBatch) ?? globalBatch   // this rank's rows under mpirun
                let x = data.prepare(batch.0), y = batch.1
                let r = compileSteps ? trainStep.call([x, y]) : stepBody([x, y])   // [loss, correct predictions]
                correct += r[1].item()
                return (r[0].item(), y.shape[0])
            }
            scheduler?.step()
            if compileSteps && epoch == startEpoch + 1 {
                if let g = trainStep.graph {
                    log("Compiled training step: \(g.tracedNodeCount) backend calls → \(g.nodes.count) graph nodes, \(g.plan.peakBytes) bytes of planned intermediates, compiled in \(String(format: "%.2f", trainStep.compileSeconds.first ?? 0)) s\n")
                }
                for b in trainStep.graphBreaks { log("compile: the training step runs eagerly: \(b)\n") }
            }
            let validation = data.valImages.map { evaluate(images: $0, labels: data.valLabels!) }
            let test = evaluate(images: data.testImages, labels: data.testLabels)
            let m = EpochMetrics(epoch: epoch, trainLoss: summary.meanLoss, trainAccuracy: correct / Double(max(summary.samples, 1)),
                                 validation: validation, test: test, lr: lr, seconds: summary.seconds)
            history.append(m)
            writer.addScalar("loss/train", m.trainLoss, step: epoch)
            writer.addScalar("accuracy/train", m.trainAccuracy, step: epoch)
            if let v = validation {
                writer.addScalar("loss/validation", v.loss, step: epoch)
                writer.addScalar("accuracy/validation", v.accuracy, step: epoch)
            }
            writer.addScalar("loss/test", test.loss, step: epoch)
            writer.addScalar("accuracy/test", test.accuracy, step: epoch)
            writer.addScalar("lr", lr, step: epoch)
            do { try writer.flush() } catch { throw TrainError("cannot write the TensorBoard log in \(logDir): \(error)") }

            let name = String(format: "epoch-%04d.safetensors", epoch)
            if dist?.isRoot != false {
                try Checkpoint(parts: parts, epoch: epoch, step: step).save(to: checkpointDir + "/" + name)
                try AtomicFile.write(Array((name + "\n").utf8), to: checkpointDir + "/latest")
                try saveSafetensors(module.stateDict(), to: modelPath, metadata: ["format": "pt", "nabla.config": config.name])
            }
            lastCheckpoint = checkpointDir + "/" + name

            var values: [(String, Double)] = [("loss", m.trainLoss), ("accuracy", m.trainAccuracy)]
            if let v = validation { values += [("val_loss", v.loss), ("val_accuracy", v.accuracy)] }
            values += [("test_loss", test.loss), ("test_accuracy", test.accuracy)]
            loop.endEpoch(epoch, summary, values)
        }
        do { try writer.close() } catch { throw TrainError("cannot close the TensorBoard log in \(logDir): \(error)") }
        return TrainResult(history: history, startEpoch: startEpoch, logDir: logDir, checkpoint: lastCheckpoint, modelPath: modelPath)
    }

    /// The configured loss of outputs `out` `[B, C]` against class labels `y` `[B]`.
    func lossValue(_ out: Tensor, _ y: Tensor) -> Tensor {
        Trainer.loss(config.solver.loss, out, y, numClasses: data.numClasses)
    }

    /// `cross_entropy` on class indices, or `mse` against one-hot targets.
    static func loss(_ name: String, _ out: Tensor, _ y: Tensor, numClasses: Int) -> Tensor {
        name == "mse" ? mseLoss(out, oneHot(y, numClasses: numClasses).to(out.dtype)) : crossEntropy(out, y)
    }

    /// Mean loss and accuracy of the model on `images`/`labels`, in eval mode without autograd.
    public func evaluate(images: Tensor, labels: Tensor) -> (loss: Double, accuracy: Double) {
        Trainer.evaluate(model.module, data: data, loss: config.solver.loss, images: images, labels: labels)
    }

    /// Mean loss and accuracy of `module` on `images`/`labels` (batches of 1000, eval mode, no autograd);
    /// the module's training mode is restored afterwards.
    public static func evaluate(_ module: Module, data: DataSource, loss: String, images: Tensor, labels: Tensor)
        -> (loss: Double, accuracy: Double) {
        let n = labels.shape[0]
        guard n > 0 else { return (0, 0) }
        let wasTraining = module.training
        _ = module.eval()
        defer { _ = module.train(wasTraining) }
        return noGrad {
            var lossSum = 0.0, correct = 0.0
            for i in stride(from: 0, to: n, by: 1000) {
                let b = min(1000, n - i)
                let y = labels.narrow(0, start: i, length: b)
                let out = module(data.prepare(images.narrow(0, start: i, length: b)))
                lossSum += Trainer.loss(loss, out, y, numClasses: data.numClasses).item() * Double(b)
                correct += out.argmax(dim: 1).eq(y).to(.float64).sum().item()
            }
            return (lossSum / Double(n), correct / Double(n))
        }
    }

    /// The optimizer of the solver section (PyTorch's defaults for what it leaves out), by `OptimizerFactory`.
    static func makeOptimizer(_ s: SolverConfig, _ params: [Tensor]) -> Optimizer {
        let options = OptimizerOptions(lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay)
        guard let opt = OptimizerFactory.make(s.optimizer, params, options) else {
            nablaFail("nabla train: unknown optimizer \(s.optimizer)")   // SolverConfig accepts only OptimizerFactory.names
        }
        return opt
    }

    func makeOptimizer(_ s: SolverConfig, _ params: [Tensor]) -> Optimizer { Trainer.makeOptimizer(s, params) }

    /// The scheduler of the lr policy (stepped once per epoch), nil for `fixed`.
    func makeScheduler(_ s: SolverConfig, _ opt: Optimizer) -> LRScheduler? {
        switch s.lrPolicy {
        case .fixed: return nil
        case let .step(stepSize, gamma): return StepLR(opt, stepSize: stepSize, gamma: gamma)
        case let .multistep(milestones, gamma): return MultiStepLR(opt, milestones: milestones, gamma: gamma)
        case let .exponential(gamma): return ExponentialLR(opt, gamma: gamma)
        case let .cosine(etaMin): return CosineAnnealingLR(opt, tMax: epochs, etaMin: etaMin)
        }
    }
}

/// A failure while training that is not a config problem (an unwritable output folder, ...).
public struct TrainError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}
