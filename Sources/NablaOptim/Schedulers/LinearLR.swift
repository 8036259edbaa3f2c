/// Scales the learning rate linearly from `startFactor` to `endFactor` over `totalIters` epochs (`lr_scheduler.LinearLR`).
///
/// ```swift
/// let warmup = LinearLR(opt, startFactor: 0.1, totalIters: 5)
/// ```
public final class LinearLR: LRScheduler {
    /// Factor at epoch 0, in (0, 1].
    public let startFactor: Double
    /// Factor from `totalIters` on, in [0, 1].
    public let endFactor: Double
    /// Number of epochs of the ramp.
    public let totalIters: Int

    /// Creates the scheduler.
    public init(_ optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1.0, totalIters: Int = 5,
                lastEpoch: Int = -1) {
        check(startFactor > 0 && startFactor <= 1, "LinearLR: startFactor must be in (0, 1], got \(startFactor)")
        check(endFactor >= 0 && endFactor <= 1, "LinearLR: endFactor must be in [0, 1], got \(endFactor)")
        self.startFactor = startFactor; self.endFactor = endFactor; self.totalIters = totalIters
        super.init(optimizer, lastEpoch: lastEpoch)
    }

    /// PyTorch's recursive form.
    public override func getLr() -> [Double] {
        if lastEpoch == 0 { return groupLrs.map { $0 * startFactor } }
        if isInitial || lastEpoch > totalIters { return groupLrs }
        let d = endFactor - startFactor
        let factor = 1.0 + d / (Double(totalIters) * startFactor + Double(lastEpoch - 1) * d)
        return groupLrs.map { $0 * factor }
    }

    /// `base · (start + (end − start) · min(totalIters, epoch) / totalIters)`.
    public override func closedFormLr() -> [Double]? {
        baseLrs.map { $0 * (startFactor + (endFactor - startFactor) * Double(min(totalIters, lastEpoch)) / Double(totalIters)) }
    }
}
