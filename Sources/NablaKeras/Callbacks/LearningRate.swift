import NablaNN
import NablaOptim

/// Sets the learning rate at the start of each epoch from `schedule(epoch, lr)` (`keras.callbacks.LearningRateScheduler`).
/// ```swift
/// LearningRateScheduler { epoch, lr in epoch < 10 ? lr : lr * 0.9 }
/// ```
public final class LearningRateScheduler: Callback {
    let schedule: (Int, Double) -> Double
    /// Creates the callback.
    public init(_ schedule: @escaping (_ epoch: Int, _ lr: Double) -> Double) { self.schedule = schedule }
    /// Applies the schedule to every parameter group.
    public override func onEpochBegin(_ epoch: Int, logs: Logs) {
        guard let opt = model?.optimizer, let first = opt.paramGroups.first else { return }
        let lr = schedule(epoch, first.lr)
        for g in opt.paramGroups { g.lr = lr }
    }
}

/// Multiplies the learning rate by `factor` when a monitored quantity stops improving for `patience`
/// epochs (`keras.callbacks.ReduceLROnPlateau`).
public final class ReduceLROnPlateau: Callback {
    /// The log name watched.
    public let monitor: String
    /// Multiplier applied to the learning rate.
    public let factor: Double
    /// Epochs without improvement before reducing.
    public let patience: Int
    /// Smallest change that counts as an improvement.
    public let minDelta: Double
    /// Epochs to wait after a reduction before counting again.
    public let cooldown: Int
    /// Lower bound on the learning rate.
    public let minLR: Double
    let maximize: Bool
    private var best: Double, wait = 0, cooldownLeft = 0

    /// Creates the callback.
    public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
                minDelta: Double = 1e-4, cooldown: Int = 0, minLR: Double = 0) {
        check(factor < 1, "ReduceLROnPlateau: factor must be < 1, got \(factor)")
        self.monitor = monitor; self.factor = factor; self.patience = patience; self.minDelta = minDelta
        self.cooldown = cooldown; self.minLR = minLR
        maximize = mode.isMax(monitor)
        best = maximize ? -.infinity : .infinity
    }

    /// Resets the state.
    public override func onTrainBegin(logs: Logs) { best = maximize ? -.infinity : .infinity; wait = 0; cooldownLeft = 0 }

    /// Reduces the learning rate after `patience` epochs without improvement.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let v = logs[monitor] else {
            nablaFail("ReduceLROnPlateau: monitored quantity \"\(monitor)\" is not in the logs; available: \(logs.keys.sorted().joined(separator: ", "))")
        }
        if cooldownLeft > 0 { cooldownLeft -= 1; wait = 0 }
        if maximize ? v > best + minDelta : v < best - minDelta { best = v; wait = 0; return }
        guard cooldownLeft == 0 else { return }
        wait += 1
        if wait >= patience, let opt = model?.optimizer {
            for g in opt.paramGroups { g.lr = Swift.max(g.lr * factor, minLR) }
            cooldownLeft = cooldown
            wait = 0
        }
    }
}
