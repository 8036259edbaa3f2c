/// Reduces the learning rate by `factor` when a metric has stopped improving for `patience` epochs
/// (`lr_scheduler.ReduceLROnPlateau`).
///
/// ```swift
/// let sched = ReduceLROnPlateau(opt, mode: .min, factor: 0.5, patience: 3)
/// for epoch in 0..<50 { train(); sched.step(validationLoss) }
/// ```
public final class ReduceLROnPlateau: LRScheduler {
    /// Whether lower (`min`) or higher (`max`) metric values are better.
    public enum Mode: String, Sendable {
        /// Lower is better (a loss).
        case min
        /// Higher is better (an accuracy).
        case max
    }
    /// How `threshold` defines a significant improvement.
    public enum ThresholdMode: String, Sendable {
        /// Better than `best · (1 ∓ threshold)`.
        case rel
        /// Better than `best ∓ threshold`.
        case abs
    }

    /// Whether lower or higher is better.
    public let mode: Mode
    /// Factor applied to the rate on a plateau, < 1.
    public let factor: Double
    /// Epochs without improvement tolerated before reducing.
    public let patience: Int
    /// Minimum significant change.
    public let threshold: Double
    /// Relative or absolute threshold.
    public let thresholdMode: ThresholdMode
    /// Epochs to wait after a reduction before counting bad epochs again.
    public let cooldown: Int
    /// Lower bound of each group's rate.
    public var minLrs: [Double]
    /// Reductions smaller than this are skipped.
    public let eps: Double
    /// Best metric seen so far.
    public private(set) var best: Double
    /// Consecutive epochs without improvement.
    public private(set) var numBadEpochs = 0
    /// Remaining cooldown epochs.
    public private(set) var cooldownCounter = 0

    /// Creates the scheduler with one `minLr` for every group.
    public convenience init(_ optimizer: Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
                            threshold: Double = 1e-4, thresholdMode: ThresholdMode = .rel, cooldown: Int = 0,
                            minLr: Double = 0, eps: Double = 1e-8) {
        self.init(optimizer, mode: mode, factor: factor, patience: patience, threshold: threshold,
                  thresholdMode: thresholdMode, cooldown: cooldown,
                  minLrs: Array(repeating: minLr, count: optimizer.paramGroups.count), eps: eps)
    }

    /// Creates the scheduler with one `minLr` per group.
    public init(_ optimizer: Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, thresholdMode: ThresholdMode = .rel, cooldown: Int = 0,
                minLrs: [Double], eps: Double = 1e-8) {
        check(factor < 1, "ReduceLROnPlateau: factor should be < 1.0, got \(factor)")
        check(minLrs.count == optimizer.paramGroups.count,
              "ReduceLROnPlateau: expected \(optimizer.paramGroups.count) minLrs (one per group), got \(minLrs.count)")
        self.mode = mode; self.factor = factor; self.patience = patience; self.threshold = threshold
        self.thresholdMode = thresholdMode; self.cooldown = cooldown; self.minLrs = minLrs; self.eps = eps
        self.best = mode == .min ? .infinity : -.infinity
        super.init(optimizer, lastEpoch: 0, takingInitialStep: false)
    }

    /// Whether `a` is a significant improvement over `best`.
    func isBetter(_ a: Double, _ best: Double) -> Bool {
        switch (mode, thresholdMode) {
        case (.min, .rel): return a < best * (1.0 - threshold)
        case (.min, .abs): return a < best - threshold
        case (.max, .rel): return a > best * (threshold + 1.0)
        case (.max, .abs): return a > best + threshold
        }
    }

    /// Records one epoch's metric and reduces the rates after `patience` epochs without improvement.
    public func step(_ metric: Double) {
        lastEpoch += 1
        if isBetter(metric, best) { best = metric; numBadEpochs = 0 } else { numBadEpochs += 1 }
        if cooldownCounter > 0 { cooldownCounter -= 1; numBadEpochs = 0 }
        if numBadEpochs > patience {
            for (i, g) in optimizer.paramGroups.enumerated() {
                let old = g.lr, new = Swift.max(old * factor, minLrs[i])
                if old - new > eps { g.lr = new }
            }
            cooldownCounter = cooldown
            numBadEpochs = 0
        }
        lastLr = groupLrs
    }

    /// The metric is required: traps with a message pointing to `step(_:)`.
    public override func step() {
        nablaFail("ReduceLROnPlateau.step(): pass the monitored metric, step(validationLoss)")
    }

    /// Saves `best`, `num_bad_epochs`, `cooldown_counter`.
    public override func saveExtraState(into state: inout StateDict) {
        state.set("best", best); state.set("num_bad_epochs", numBadEpochs); state.set("cooldown_counter", cooldownCounter)
    }

    /// Restores `best`, `num_bad_epochs`, `cooldown_counter`.
    public override func loadExtraState(_ state: StateDict) throws {
        guard let b = state.double("best"), let n = state.int("num_bad_epochs"), let c = state.int("cooldown_counter") else {
            throw StateDictError("ReduceLROnPlateau.loadStateDict: missing best, num_bad_epochs or cooldown_counter")
        }
        best = b; numBadEpochs = n; cooldownCounter = c
    }
}
