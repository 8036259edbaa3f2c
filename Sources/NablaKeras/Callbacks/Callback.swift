import NablaNN

/// Epoch logs passed to callbacks: `loss`, metric names, and `val_`-prefixed validation values.
public typealias Logs = [String: Double]

/// The record of a `fit` (`keras.callbacks.History`): one value per epoch for each log name.
public struct History: Sendable {
    /// Values per name, one per epoch (`history["loss"]`, `history["val_accuracy"]`).
    public var history: [String: [Double]] = [:]
    /// The epochs run (0-based).
    public var epoch: [Int] = []
    /// Creates an empty history.
    public init() {}
    /// The values of `key`, or an empty array.
    public subscript(key: String) -> [Double] { history[key] ?? [] }
    mutating func append(_ e: Int, _ logs: Logs) {
        epoch.append(e)
        for (k, v) in logs { history[k, default: []].append(v) }
    }
}

/// The base class of training callbacks (`keras.callbacks.Callback`); override the hooks you need.
///
/// `model` is set by `fit`. Batch hooks get only the batch index and its loss, so a callback costs
/// nothing per batch unless it overrides them.
open class Callback {
    /// The model being trained (set by `fit`, `evaluate` and `predict`).
    public internal(set) weak var model: Model?
    /// Creates a callback.
    public init() {}
    /// Whether only rank 0 runs this callback when `fit` trains data-parallel under `mpirun` (callbacks that
    /// write files or print: `ModelCheckpoint`, `CSVLogger`, `TensorBoard`). Others run on every rank, on the
    /// epoch logs averaged over the ranks, so they decide alike (`EarlyStopping`, learning-rate schedules).
    open var rankZeroOnly: Bool { false }
    /// Called once before the first epoch.
    open func onTrainBegin(logs: Logs) {}
    /// Called once after the last epoch (also after an early stop).
    open func onTrainEnd(logs: Logs) {}
    /// Called before each epoch.
    open func onEpochBegin(_ epoch: Int, logs: Logs) {}
    /// Called after each epoch with the epoch's training and validation logs.
    open func onEpochEnd(_ epoch: Int, logs: Logs) {}
    /// Called before each training batch.
    open func onBatchBegin(_ batch: Int) {}
    /// Called after each training batch with its loss.
    open func onBatchEnd(_ batch: Int, loss: Double) {}
}

/// A callback made of closures (`keras.callbacks.LambdaCallback`).
/// ```swift
/// LambdaCallback(onEpochEnd: { epoch, logs in print(epoch, logs["loss"]!) })
/// ```
public final class LambdaCallback: Callback {
    let trainBegin: ((Logs) -> Void)?, trainEnd: ((Logs) -> Void)?
    let epochBegin: ((Int, Logs) -> Void)?, epochEnd: ((Int, Logs) -> Void)?
    let batchBegin: ((Int) -> Void)?, batchEnd: ((Int, Double) -> Void)?
    /// Creates the callback from the hooks given.
    public init(onEpochBegin: ((Int, Logs) -> Void)? = nil, onEpochEnd: ((Int, Logs) -> Void)? = nil,
                onBatchBegin: ((Int) -> Void)? = nil, onBatchEnd: ((Int, Double) -> Void)? = nil,
                onTrainBegin: ((Logs) -> Void)? = nil, onTrainEnd: ((Logs) -> Void)? = nil) {
        trainBegin = onTrainBegin; trainEnd = onTrainEnd; epochBegin = onEpochBegin; epochEnd = onEpochEnd
        batchBegin = onBatchBegin; batchEnd = onBatchEnd
    }
    /// Calls `onTrainBegin`.
    public override func onTrainBegin(logs: Logs) { trainBegin?(logs) }
    /// Calls `onTrainEnd`.
    public override func onTrainEnd(logs: Logs) { trainEnd?(logs) }
    /// Calls `onEpochBegin`.
    public override func onEpochBegin(_ epoch: Int, logs: Logs) { epochBegin?(epoch, logs) }
    /// Calls `onEpochEnd`.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) { epochEnd?(epoch, logs) }
    /// Calls `onBatchBegin`.
    public override func onBatchBegin(_ batch: Int) { batchBegin?(batch) }
    /// Calls `onBatchEnd`.
    public override func onBatchEnd(_ batch: Int, loss: Double) { batchEnd?(batch, loss) }
}

/// Whether a monitored quantity improves when it goes up (`acc`, `auc`, ...) or down (`loss`).
public enum MonitorMode: String, Sendable {
    /// Decide from the name: accuracy-, auc-, precision- and recall-like names are maximised.
    case auto
    /// Lower is better.
    case min
    /// Higher is better.
    case max

    func isMax(_ monitor: String) -> Bool {
        switch self {
        case .min: return false
        case .max: return true
        case .auto:
            return ["acc", "auc", "precision", "recall", "fmeasure"].contains { monitor.contains($0) }
        }
    }
}
