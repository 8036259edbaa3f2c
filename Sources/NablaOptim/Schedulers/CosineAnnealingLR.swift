#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Anneals the learning rate from its initial value to `etaMin` along a cosine over `tMax` epochs
/// (`lr_scheduler.CosineAnnealingLR`), in PyTorch's recursive form (so it composes with other changes to `lr`).
///
/// ```swift
/// let sched = CosineAnnealingLR(opt, tMax: 50, etaMin: 1e-5)
/// ```
public final class CosineAnnealingLR: LRScheduler {
    /// Half-period, in epochs.
    public let tMax: Int
    /// Minimum learning rate.
    public let etaMin: Double

    /// Creates the scheduler.
    public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0, lastEpoch: Int = -1) {
        check(tMax > 0, "CosineAnnealingLR: tMax must be positive, got \(tMax)")
        self.tMax = tMax; self.etaMin = etaMin
        super.init(optimizer, lastEpoch: lastEpoch)
    }

    /// PyTorch's recursive form.
    public override func getLr() -> [Double] {
        let t = Double(tMax), e = Double(lastEpoch)
        if isInitial { return groupLrs }
        if stepCount == 1 && lastEpoch > 0 {
            return baseLrs.map { etaMin + ($0 - etaMin) * (1 + cos(e * Double.pi / t)) / 2 }
        }
        if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
            return zip(baseLrs, groupLrs).map { base, lr in lr + (base - etaMin) * (1 - cos(Double.pi / t)) / 2 }
        }
        return groupLrs.map { lr in
            (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (lr - etaMin) + etaMin
        }
    }

    /// `etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2`.
    public override func closedFormLr() -> [Double]? {
        baseLrs.map { etaMin + ($0 - etaMin) * (1 + cos(Double.pi * Double(lastEpoch) / Double(tMax))) / 2 }
    }
}
