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
/// epochs (`keras.callbacks.ReduceLROnPlateau`), with Keras' arguments, over NablaOptim's
/// `ReduceLROnPlateau` scheduler (`torch.optim.lr_scheduler.ReduceLROnPlateau`) made when training begins.
///
/// Keras' `min_delta` is the scheduler's absolute threshold; Keras reduces after `patience` epochs
/// without improvement, which is the scheduler's `patience - 1` (so `patience: 0` acts as 1).
/// ```swift
/// model.fit(x: x, y: y, epochs: 50, validationSplit: 0.1, callbacks: [ReduceLROnPlateau(factor: 0.5, patience: 3)])
/// ```
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
    /// The wrapped scheduler, made by `onTrainBegin` over the model's optimizer.
    public private(set) var scheduler: NablaOptim.ReduceLROnPlateau?

    /// Creates the callback.
    public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
                minDelta: Double = 1e-4, cooldown: Int = 0, minLR: Double = 0) {
        check(factor < 1, "ReduceLROnPlateau: factor must be < 1, got \(factor)")
        check(patience >= 0 && cooldown >= 0, "ReduceLROnPlateau: patience (\(patience)) and cooldown (\(cooldown)) must be >= 0")
        self.monitor = monitor; self.factor = factor; self.patience = patience; self.minDelta = minDelta
        self.cooldown = cooldown; self.minLR = minLR
        maximize = mode.isMax(monitor)
    }

    /// Makes a fresh scheduler over the model's optimizer.
    public override func onTrainBegin(logs: Logs) {
        guard let opt = model?.optimizer else { return }
        scheduler = NablaOptim.ReduceLROnPlateau(opt, mode: maximize ? .max : .min, factor: factor, patience: Swift.max(patience - 1, 0),
                                                 threshold: minDelta, thresholdMode: .abs, cooldown: cooldown, minLr: minLR, eps: 0)
    }

    /// Steps the scheduler with the epoch's monitored value.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let v = logs[monitor] else {
            nablaFail("ReduceLROnPlateau: monitored quantity \"\(monitor)\" is not in the logs; available: \(logs.keys.sorted().joined(separator: ", "))")
        }
        scheduler?.step(v)
    }
}
