#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 1cycle policy (`lr_scheduler.OneCycleLR`): the rate rises from `maxLr / divFactor` to `maxLr`, then anneals
/// to `initial / finalDivFactor` (optionally in three phases), while the momentum (or Adam's β1) cycles inversely
/// between `maxMomentum` and `baseMomentum`. Step it after every batch.
///
/// ```swift
/// let sched = OneCycleLR(opt, maxLr: 0.1, epochs: 10, stepsPerEpoch: loader.count)
/// ```
public final class OneCycleLR: LRScheduler {
    /// How each phase interpolates.
    public enum AnnealStrategy: String, Sendable {
        /// Cosine annealing.
        case cos
        /// Linear annealing.
        case linear
    }
    struct Phase { let endStep: Double; let startLr, endLr, startMomentum, endMomentum: String }

    /// Total number of steps in the cycle.
    public let totalSteps: Int
    /// The interpolation.
    public let annealStrategy: AnnealStrategy
    /// Whether the momentum (or β1) cycles too.
    public let cycleMomentum: Bool
    let useBeta1: Bool
    let phases: [Phase]

    /// Creates the scheduler with one peak rate for every group; give `totalSteps`, or `epochs` and `stepsPerEpoch`.
    public convenience init(_ optimizer: Optimizer, maxLr: Double, totalSteps: Int? = nil, epochs: Int? = nil,
                            stepsPerEpoch: Int? = nil, pctStart: Double = 0.3, annealStrategy: AnnealStrategy = .cos,
                            cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
                            divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false, lastEpoch: Int = -1) {
        self.init(optimizer, maxLrs: Array(repeating: maxLr, count: optimizer.paramGroups.count), totalSteps: totalSteps,
                  epochs: epochs, stepsPerEpoch: stepsPerEpoch, pctStart: pctStart, annealStrategy: annealStrategy,
                  cycleMomentum: cycleMomentum, baseMomentum: baseMomentum, maxMomentum: maxMomentum,
                  divFactor: divFactor, finalDivFactor: finalDivFactor, threePhase: threePhase, lastEpoch: lastEpoch)
    }

    /// Creates the scheduler with one peak rate per group.
    public init(_ optimizer: Optimizer, maxLrs: [Double], totalSteps: Int? = nil, epochs: Int? = nil,
                stepsPerEpoch: Int? = nil, pctStart: Double = 0.3, annealStrategy: AnnealStrategy = .cos,
                cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
                divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false, lastEpoch: Int = -1) {
        let total: Int
        if let totalSteps {
            check(totalSteps > 0, "OneCycleLR: expected a positive totalSteps, got \(totalSteps)")
            total = totalSteps
        } else if let epochs, let stepsPerEpoch {
            check(epochs > 0 && stepsPerEpoch > 0, "OneCycleLR: expected positive epochs and stepsPerEpoch, got \(epochs) and \(stepsPerEpoch)")
            total = epochs * stepsPerEpoch
        } else {
            nablaFail("OneCycleLR: give totalSteps, or epochs and stepsPerEpoch")
        }
        check(pctStart >= 0 && pctStart <= 1, "OneCycleLR: expected pctStart between 0 and 1, got \(pctStart)")
        check(maxLrs.count == optimizer.paramGroups.count,
              "OneCycleLR: expected \(optimizer.paramGroups.count) maxLrs (one per group), got \(maxLrs.count)")
        self.totalSteps = total; self.annealStrategy = annealStrategy; self.cycleMomentum = cycleMomentum
        let t = Double(total)
        if threePhase {
            phases = [Phase(endStep: pctStart * t - 1, startLr: "initial_lr", endLr: "max_lr", startMomentum: "max_momentum", endMomentum: "base_momentum"),
                      Phase(endStep: 2 * pctStart * t - 2, startLr: "max_lr", endLr: "initial_lr", startMomentum: "base_momentum", endMomentum: "max_momentum"),
                      Phase(endStep: t - 1, startLr: "initial_lr", endLr: "min_lr", startMomentum: "max_momentum", endMomentum: "max_momentum")]
        } else {
            phases = [Phase(endStep: pctStart * t - 1, startLr: "initial_lr", endLr: "max_lr", startMomentum: "max_momentum", endMomentum: "base_momentum"),
                      Phase(endStep: t - 1, startLr: "max_lr", endLr: "min_lr", startMomentum: "base_momentum", endMomentum: "max_momentum")]
        }
        let names = Set(optimizer.defaults.map(\.0))
        useBeta1 = names.contains("beta1")
        if cycleMomentum {
            check(names.contains("momentum") || useBeta1, "OneCycleLR: \(optimizer.name) has no momentum or beta1 to cycle; pass cycleMomentum: false")
        }
        if lastEpoch == -1 {
            for (i, g) in optimizer.paramGroups.enumerated() {
                g["initial_lr"] = maxLrs[i] / divFactor
                g["max_lr"] = maxLrs[i]
                g["min_lr"] = g.option("initial_lr") / finalDivFactor
                if cycleMomentum {
                    g[useBeta1 ? "beta1" : "momentum"] = maxMomentum
                    g["max_momentum"] = maxMomentum
                    g["base_momentum"] = baseMomentum
                }
            }
        }
        super.init(optimizer, lastEpoch: lastEpoch, takingInitialStep: true)
    }

    func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        switch annealStrategy {
        case .cos: return end + (start - end) / 2.0 * (cos(Double.pi * pct) + 1)
        case .linear: return (end - start) * pct + start
        }
    }

    /// The rate (and momentum) for the current step.
    public override func getLr() -> [Double] {
        let stepNum = Double(lastEpoch)
        check(lastEpoch <= totalSteps, "OneCycleLR: tried to step \(lastEpoch) times; the specified number of total steps is \(totalSteps)")
        var lrs: [Double] = []
        for g in optimizer.paramGroups {
            var start = 0.0
            for (i, phase) in phases.enumerated() {
                if stepNum <= phase.endStep || i == phases.count - 1 {
                    let pct = (stepNum - start) / (phase.endStep - start)
                    lrs.append(anneal(g.option(phase.startLr), g.option(phase.endLr), pct))
                    if cycleMomentum {
                        g[useBeta1 ? "beta1" : "momentum"] = anneal(g.option(phase.startMomentum), g.option(phase.endMomentum), pct)
                    }
                    break
                }
                start = phase.endStep
            }
        }
        return lrs
    }
}
