/// The base class of learning-rate schedulers (`torch.optim.lr_scheduler.LRScheduler`).
///
/// A scheduler records each group's starting learning rate as `initial_lr` in the group (the `baseLrs`),
/// sets the epoch-0 rate on creation, and on every `step()` advances `lastEpoch` and writes the new rates
/// into the optimizer's groups. Call `optimizer.step()` before `scheduler.step()`, as in PyTorch.
///
/// ```swift
/// let opt = SGD(model.parameters(), lr: 0.1)
/// let sched = StepLR(opt, stepSize: 30, gamma: 0.1)
/// for epoch in 0..<90 { train(); sched.step() }
/// ```
open class LRScheduler: Stateful {
    /// The optimizer whose groups' `lr` this scheduler sets.
    public let optimizer: Optimizer
    /// The index of the last epoch (or step) taken; 0 right after creation.
    public internal(set) var lastEpoch: Int
    /// Each group's starting learning rate (`initial_lr`).
    public internal(set) var baseLrs: [Double]
    /// Number of `step()` calls, the initial one included (PyTorch's `_step_count`).
    public internal(set) var stepCount = 0
    var lastLr: [Double]
    /// True while the initial step made by the initializer runs (PyTorch's `_is_initial`).
    public internal(set) var isInitial = false

    /// Creates the scheduler and takes its initial step (epoch 0).
    ///
    /// - Parameter lastEpoch: -1 for a fresh run; a resumed run passes its last epoch, and then every group must
    ///   already hold `initial_lr` (loaded with the optimizer's state dict).
    public init(_ optimizer: Optimizer, lastEpoch: Int = -1) {
        self.optimizer = optimizer
        self.lastEpoch = lastEpoch
        self.baseLrs = LRScheduler.setInitialLrs(optimizer, lastEpoch: lastEpoch, name: "LRScheduler")
        self.lastLr = optimizer.paramGroups.map(\.lr)
        initialStep()
    }

    /// Creates the scheduler without taking the initial step (for schedulers that do their own set-up).
    init(_ optimizer: Optimizer, lastEpoch: Int, takingInitialStep: Bool) {
        self.optimizer = optimizer
        self.lastEpoch = lastEpoch
        self.baseLrs = optimizer.paramGroups.map { $0["initial_lr"] ?? $0.lr }
        self.lastLr = optimizer.paramGroups.map(\.lr)
        if takingInitialStep { initialStep() }
    }

    static func setInitialLrs(_ optimizer: Optimizer, lastEpoch: Int, name: String) -> [Double] {
        for (i, g) in optimizer.paramGroups.enumerated() {
            if lastEpoch == -1 {
                if g["initial_lr"] == nil { g["initial_lr"] = g.lr }
            } else {
                check(g["initial_lr"] != nil, "\(name): param 'initial_lr' is not specified in paramGroups[\(i)] when resuming a scheduler with lastEpoch \(lastEpoch) ≥ 0; load the optimizer's state dict first")
            }
        }
        return optimizer.paramGroups.map { $0.option("initial_lr") }
    }

    /// Takes the step that sets the epoch-0 rates (PyTorch's `_initial_step`).
    func initialStep() {
        stepCount = 0
        isInitial = true
        step()
        isInitial = false
    }

    /// The learning rates set by the last step, one per group (`get_last_lr()`).
    public func getLastLr() -> [Double] { lastLr }

    /// The rates for the current `lastEpoch`, computed (recursively, as PyTorch) from the groups' current rates.
    open func getLr() -> [Double] { nablaFail("\(type(of: self)).getLr: subclasses must override getLr()") }

    /// The closed-form rates for `lastEpoch`, when the schedule has one (used when a `SequentialLR` restarts it).
    open func closedFormLr() -> [Double]? { nil }

    /// Advances one epoch (or step) and sets the new learning rates.
    open func step() {
        stepCount += 1
        updateLr(epoch: nil)
    }

    /// Sets `lastEpoch` (advancing by one when nil) and writes the rates into the groups (PyTorch's `_update_lr`).
    func updateLr(epoch: Int?) {
        let values: [Double]
        if let epoch {
            lastEpoch = epoch
            values = closedFormLr() ?? getLr()
        } else {
            lastEpoch += 1
            values = getLr()
        }
        check(values.count == optimizer.paramGroups.count, "\(type(of: self)): computed \(values.count) rates for \(optimizer.paramGroups.count) groups")
        for (g, lr) in zip(optimizer.paramGroups, values) { g.lr = lr }
        lastLr = optimizer.paramGroups.map(\.lr)
    }

    /// The current rate of every group.
    var groupLrs: [Double] { optimizer.paramGroups.map(\.lr) }

    // MARK: Stateful

    /// Extra state of a subclass, added to `stateDict()` (override and call super).
    open func saveExtraState(into state: inout StateDict) {}

    /// Restores what `saveExtraState` wrote (override and call super).
    open func loadExtraState(_ state: StateDict) throws {}

    /// `last_epoch`, `_step_count`, `base_lrs.<g>`, `last_lr.<g>` and the subclass's own counters.
    public func stateDict() -> StateDict {
        var s = StateDict()
        s.set("last_epoch", lastEpoch)
        s.set("_step_count", stepCount)
        for (i, v) in baseLrs.enumerated() { s.set("base_lrs.\(i)", v) }
        for (i, v) in lastLr.enumerated() { s.set("last_lr.\(i)", v) }
        saveExtraState(into: &s)
        return s
    }

    /// Restores a state written by `stateDict()`.
    ///
    /// - Throws: `StateDictError` when a required key is missing or the number of groups differs.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        let name = String(describing: type(of: self))
        guard let epoch = state.int("last_epoch") else { throw StateDictError("\(name).loadStateDict: missing key last_epoch") }
        let n = optimizer.paramGroups.count
        var base: [Double] = [], last: [Double] = []
        for i in 0..<n {
            guard let b = state.double("base_lrs.\(i)"), let l = state.double("last_lr.\(i)") else {
                throw StateDictError("\(name).loadStateDict: missing base_lrs.\(i) or last_lr.\(i); the optimizer has \(n) groups")
            }
            base.append(b); last.append(l)
        }
        if strict && state.double("base_lrs.\(n)") != nil {
            throw StateDictError("\(name).loadStateDict: the state has more than the optimizer's \(n) groups")
        }
        try loadExtraState(state)
        lastEpoch = epoch
        stepCount = state.int("_step_count") ?? stepCount
        baseLrs = base; lastLr = last
    }
}
