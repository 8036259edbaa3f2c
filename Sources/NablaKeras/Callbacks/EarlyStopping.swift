import NablaNN

/// Stops training when a monitored quantity stops improving (`keras.callbacks.EarlyStopping`).
/// ```swift
/// EarlyStopping(monitor: "val_loss", patience: 3, restoreBestWeights: true)
/// ```
public final class EarlyStopping: Callback {
    /// The log name watched (`val_loss`).
    public let monitor: String
    /// Smallest change that counts as an improvement.
    public let minDelta: Double
    /// Epochs without improvement before stopping.
    public let patience: Int
    /// Whether to copy back the best epoch's weights when training ends.
    public let restoreBestWeights: Bool
    /// A value the monitored quantity must beat; nil for none.
    public let baseline: Double?
    let maximize: Bool
    /// Epochs without improvement so far.
    public private(set) var wait = 0
    /// The epoch at which training stopped (nil when it ran to the end).
    public private(set) var stoppedEpoch: Int?
    /// The best value seen.
    public private(set) var best: Double
    /// The epoch of the best value.
    public private(set) var bestEpoch = -1
    private var bestWeights: [Tensor]?

    /// Creates the callback.
    public init(monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0, mode: MonitorMode = .auto,
                baseline: Double? = nil, restoreBestWeights: Bool = false) {
        self.monitor = monitor; self.minDelta = Swift.abs(minDelta); self.patience = patience
        self.baseline = baseline; self.restoreBestWeights = restoreBestWeights
        maximize = mode.isMax(monitor)
        best = maximize ? -.infinity : .infinity
    }

    /// Resets the state.
    public override func onTrainBegin(logs: Logs) {
        wait = 0; stoppedEpoch = nil; bestEpoch = -1; bestWeights = nil
        best = maximize ? -.infinity : .infinity
    }

    private func improved(_ v: Double, over ref: Double) -> Bool { maximize ? v - minDelta > ref : v + minDelta < ref }

    /// Tracks the best value; asks the model to stop after `patience` epochs without improvement.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let v = logs[monitor] else {
            nablaFail("EarlyStopping: monitored quantity \"\(monitor)\" is not in the logs; available: \(logs.keys.sorted().joined(separator: ", "))")
        }
        wait += 1
        if improved(v, over: best) {
            best = v; bestEpoch = epoch
            if restoreBestWeights, let m = model { bestWeights = m.getWeights() }
            if baseline.map({ improved(v, over: $0) }) ?? true { wait = 0 }
        }
        if wait >= patience && epoch > 0 {
            stoppedEpoch = epoch
            model?.stopTraining = true
        }
    }

    /// Restores the best weights when asked to.
    public override func onTrainEnd(logs: Logs) {
        if restoreBestWeights, let w = bestWeights, let m = model { m.setWeights(w) }
    }
}
