/// Runs schedulers one after another, switching at the milestone epochs (`lr_scheduler.SequentialLR`),
/// e.g. a linear warm-up followed by a cosine decay.
///
/// ```swift
/// let warmup = LinearLR(opt, startFactor: 0.1, totalIters: 5)
/// let decay = CosineAnnealingLR(opt, tMax: 95)
/// let sched = SequentialLR(opt, schedulers: [warmup, decay], milestones: [5])
/// ```
public final class SequentialLR: LRScheduler {
    /// The schedulers, in order.
    public let schedulers: [LRScheduler]
    /// Epochs at which the next scheduler takes over (one fewer than the schedulers).
    public let milestones: [Int]

    /// Creates the sequence; the schedulers must drive `optimizer` and were created just before.
    public init(_ optimizer: Optimizer, schedulers: [LRScheduler], milestones: [Int], lastEpoch: Int = -1) {
        check(!schedulers.isEmpty, "SequentialLR: expects at least one scheduler, got none")
        for (i, s) in schedulers.enumerated() {
            check(!(s is ReduceLROnPlateau), "SequentialLR: does not support ReduceLROnPlateau (scheduler \(i)), whose step needs a metric")
            check(s.optimizer === optimizer, "SequentialLR: scheduler \(i) (\(type(of: s))) drives a different optimizer")
        }
        check(milestones.count == schedulers.count - 1,
              "SequentialLR: expects one milestone fewer than schedulers, got \(schedulers.count) schedulers and \(milestones.count) milestones")
        self.schedulers = schedulers; self.milestones = milestones
        super.init(optimizer, lastEpoch: lastEpoch + 1, takingInitialStep: false)
        for g in optimizer.paramGroups { g.lr = g.option("initial_lr") }
        SequentialLR.undo(self)
        let idx = SequentialLR.bisectRight(milestones, 0)
        schedulers[idx].initialStep()
        lastLr = schedulers[idx].getLastLr()
    }

    static func undo(_ s: LRScheduler) {
        if let seq = s as? SequentialLR { for c in seq.schedulers { undo(c) } } else { s.lastEpoch -= 1 }
    }

    static func bisectRight(_ a: [Int], _ x: Int) -> Int { a.filter { $0 <= x }.count }

    /// Advances one epoch: the active scheduler steps, or restarts from its epoch 0 at a milestone.
    public override func step() {
        lastEpoch += 1
        let idx = SequentialLR.bisectRight(milestones, lastEpoch)
        let s = schedulers[idx]
        if idx > 0 && milestones[idx - 1] == lastEpoch { s.updateLr(epoch: 0) } else { s.step() }
        lastLr = s.getLastLr()
    }

    /// Saves each scheduler's state under `_schedulers.<i>.`.
    public override func saveExtraState(into state: inout StateDict) {
        for (i, s) in schedulers.enumerated() { state.merge(s.stateDict(), prefix: "_schedulers.\(i).") }
    }

    /// Restores each scheduler's state.
    public override func loadExtraState(_ state: StateDict) throws {
        for (i, s) in schedulers.enumerated() { try s.loadStateDict(state.scoped("_schedulers.\(i)."), strict: false) }
    }
}
