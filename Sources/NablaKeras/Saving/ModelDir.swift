import Foundation
import NablaNN
import NablaOptim

/// An Estimator-style model directory (`tf.estimator`'s `model_dir`): `fit(..., modelDir:)` writes a
/// checkpoint after every epoch to `<path>/checkpoints/ckpt-<epoch>.safetensors` (weights, optimizer
/// state and the number of epochs done, one atomic `Checkpoint` file; the newest `keepMax` are kept)
/// and TensorBoard logs to `<path>/logs`; a later `fit` with the same directory warm-starts from the
/// latest checkpoint and continues at the next epoch (`epochs` is the final epoch, as Keras' `initial_epoch`).
/// ```swift
/// model.fit(x: x, y: y, epochs: 10, modelDir: "runs/mlp")   // interrupted after epoch 4 ...
/// model2.fit(x: x, y: y, epochs: 10, modelDir: "runs/mlp")  // ... resumes at epoch 5, with a fresh model object
/// ```
/// Weights are stored by position (`000.kernel`, `001.bias`, in `namedWeights()` order), so a model rebuilt
/// by the same code with other automatic layer names resumes too.
public struct ModelDir: Sendable {
    /// The directory.
    public let path: String
    /// How many checkpoints are kept (older ones are deleted).
    public let keepMax: Int
    /// `<path>/checkpoints`.
    public var checkpointsDir: String { (path as NSString).appendingPathComponent("checkpoints") }
    /// `<path>/logs`, TensorBoard's `--logdir`.
    public var logsDir: String { (path as NSString).appendingPathComponent("logs") }

    /// A model directory at `path` (created when the first checkpoint is written).
    public init(_ path: String, keepMax: Int = 5) {
        check(keepMax >= 1, "ModelDir: keepMax must be >= 1, got \(keepMax)")
        self.path = path; self.keepMax = keepMax
    }

    /// The checkpoint for `epochs` completed epochs.
    public func checkpointPath(epoch: Int) -> String { (checkpointsDir as NSString).appendingPathComponent("ckpt-\(epoch).safetensors") }

    /// The checkpoints present, as (epochs completed, path), oldest first.
    public func checkpoints() -> [(epoch: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsDir)) ?? []
        return names.compactMap { n -> (Int, String)? in
            guard n.hasPrefix("ckpt-"), n.hasSuffix(".safetensors"), let e = Int(n.dropFirst(5).dropLast(12)) else { return nil }
            return (e, (checkpointsDir as NSString).appendingPathComponent(n))
        }.sorted { $0.0 < $1.0 }.map { (epoch: $0.0, path: $0.1) }
    }

    /// The newest checkpoint, if any.
    public var latestCheckpoint: (epoch: Int, path: String)? { checkpoints().last }

    /// Restores `model` (weights and optimizer state) from the latest checkpoint; returns the epochs it had completed, or nil.
    public func restoreLatest(into model: Model) throws -> Int? {
        guard let (_, p) = latestCheckpoint else { return nil }
        let ckpt = try Checkpoint.load(from: p)
        try ckpt.restore(parts: [("model", PositionalWeights(model)), ("optimizer", model.ensureOptimizer())])
        return ckpt.epoch
    }

    /// Writes the checkpoint for `epoch` completed epochs and deletes those beyond `keepMax`.
    public func save(_ model: Model, epoch: Int) throws {
        try FileManager.default.createDirectory(atPath: checkpointsDir, withIntermediateDirectories: true)
        try Checkpoint(parts: [("model", PositionalWeights(model)), ("optimizer", model.ensureOptimizer())], epoch: epoch)
            .save(to: checkpointPath(epoch: epoch))
        for old in checkpoints().dropLast(keepMax) { try? FileManager.default.removeItem(atPath: old.path) }
        // Temporary files of saves killed mid-write count as checkpoints to prune.
        AtomicFile.removeStaleTemporaryFiles(in: checkpointsDir)
    }
}

/// A model's weights keyed by position and local name (`000.kernel`), for checkpoints that survive renamed layers.
final class PositionalWeights: Stateful {
    let model: Model
    init(_ model: Model) { self.model = model }
    func keyed() -> [(String, String, Tensor)] {
        model.namedWeights().enumerated().map { i, e in
            let local = e.0.split(separator: ".").last.map(String.init) ?? e.0
            return ((i < 10 ? "00" : i < 100 ? "0" : "") + "\(i).\(local)", e.0, e.1)
        }
    }
    func stateDict() -> StateDict { StateDict(keyed().map { ($0.0, $0.2) }) }
    func loadStateDict(_ state: StateDict, strict: Bool) throws {
        let mine = keyed()
        if strict, state.keys.count != mine.count {
            throw StateDictError("model \(model.name): the checkpoint holds \(state.keys.count) weights, the model has \(mine.count)")
        }
        for (k, name, w) in mine {
            guard let v = state[k] else {
                if strict { throw StateDictError("model \(model.name): the checkpoint lacks \(k) (weight \(name))") }
                continue
            }
            guard v.shape == w.shape else {
                throw StateDictError("model \(model.name): checkpoint weight \(k) has shape \(v.shape), weight \(name) has \(w.shape)")
            }
        }
        noGrad { for (k, _, w) in mine { if let v = state[k] { _ = w.copy_(v) } } }
    }
}

/// Saves a `ModelDir` checkpoint after each epoch (added by `fit(..., modelDir:)`).
final class ModelDirCheckpoint: Callback {
    /// Runs on rank 0 only under `mpirun` (it writes files).
    override var rankZeroOnly: Bool { true }
    let dir: ModelDir
    init(_ dir: ModelDir) { self.dir = dir }
    override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let m = model else { return }
        do { try dir.save(m, epoch: epoch + 1) } catch { nablaFail("fit: cannot write a checkpoint in \(dir.checkpointsDir): \(error)") }
    }
}

extension Model {
    /// Warm-starts from `modelDir`'s latest checkpoint and returns the epoch to start at and the callbacks to add.
    func prepareModelDir(_ path: String?, initialEpoch: Int) -> (Int, [Callback]) {
        guard let path else { return (initialEpoch, []) }
        let dir = ModelDir(path)
        var start = initialEpoch
        do {
            if let done = try dir.restoreLatest(into: self) { start = Swift.max(start, done) }
        } catch {
            nablaFail("fit: cannot resume from \(dir.latestCheckpoint?.path ?? dir.checkpointsDir): \(error)")
        }
        return (start, [TensorBoard(logDir: dir.logsDir), ModelDirCheckpoint(dir)])
    }
}
