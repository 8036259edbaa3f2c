/// Multiplies the learning rate by `gamma` at each milestone epoch (`lr_scheduler.MultiStepLR`).
///
/// ```swift
/// let sched = MultiStepLR(opt, milestones: [30, 80], gamma: 0.1)
/// ```
public final class MultiStepLR: LRScheduler {
    /// Epochs at which the rate decays (a repeated milestone decays several times).
    public let milestones: [Int]
    /// Multiplicative factor.
    public let gamma: Double

    /// Creates the scheduler.
    public init(_ optimizer: Optimizer, milestones: [Int], gamma: Double = 0.1, lastEpoch: Int = -1) {
        self.milestones = milestones.sorted(); self.gamma = gamma
        super.init(optimizer, lastEpoch: lastEpoch)
    }

    /// PyTorch's recursive form.
    public override func getLr() -> [Double] {
        let count = milestones.filter { $0 == lastEpoch }.count
        if count == 0 { return groupLrs }
        return groupLrs.map { $0 * optimPow(gamma, Double(count)) }
    }

    /// `base · gamma^(number of milestones ≤ epoch)`.
    public override func closedFormLr() -> [Double]? {
        let passed = milestones.filter { $0 <= lastEpoch }.count
        return baseLrs.map { $0 * optimPow(gamma, Double(passed)) }
    }
}
