/// Multiplies the learning rate by `gamma` every epoch (`lr_scheduler.ExponentialLR`).
///
/// ```swift
/// let sched = ExponentialLR(opt, gamma: 0.95)
/// ```
public final class ExponentialLR: LRScheduler {
    /// Multiplicative factor.
    public let gamma: Double

    /// Creates the scheduler.
    public init(_ optimizer: Optimizer, gamma: Double, lastEpoch: Int = -1) {
        self.gamma = gamma
        super.init(optimizer, lastEpoch: lastEpoch)
    }

    /// PyTorch's recursive form.
    public override func getLr() -> [Double] {
        if isInitial { return groupLrs }
        return groupLrs.map { $0 * gamma }
    }

    /// `base · gamma^epoch`.
    public override func closedFormLr() -> [Double]? { baseLrs.map { $0 * optimPow(gamma, Double(lastEpoch)) } }
}
