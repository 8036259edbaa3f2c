/// Multiplies the learning rate by `gamma` every `stepSize` epochs (`lr_scheduler.StepLR`).
///
/// ```swift
/// let sched = StepLR(opt, stepSize: 30, gamma: 0.1)
/// ```
public final class StepLR: LRScheduler {
    /// Period of the decay, in epochs.
    public let stepSize: Int
    /// Multiplicative factor.
    public let gamma: Double

    /// Creates the scheduler.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1, lastEpoch: Int = -1) {
        check(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
        self.stepSize = stepSize; self.gamma = gamma
        super.init(optimizer, lastEpoch: lastEpoch)
    }

    /// PyTorch's recursive form.
    public override func getLr() -> [Double] {
        if lastEpoch == 0 || lastEpoch % stepSize != 0 { return groupLrs }
        return groupLrs.map { $0 * gamma }
    }

    /// `base · gamma^(epoch / stepSize)`.
    public override func closedFormLr() -> [Double]? {
        baseLrs.map { $0 * optimPow(gamma, Double(lastEpoch / stepSize)) }
    }
}
