@_exported import NablaNN

/// The per-parameter state of an optimizer (`optimizer.state[p]`): a step count and named buffers.
public final class ParamState {
    /// Number of steps taken for this parameter (absent from the state dict for SGD, which has none).
    public var step: Int = 0
    /// Buffer names in order (`exp_avg`, `exp_avg_sq`, ...).
    public private(set) var names: [String] = []
    /// Buffers, parallel to `names`.
    public private(set) var tensors: [Tensor] = []

    /// An empty state.
    public init() {}

    /// The buffer `name`, or nil; assigning appends a new name or replaces an existing buffer.
    public subscript(name: String) -> Tensor? {
        get {
            for i in names.indices where names[i] == name { return tensors[i] }
            return nil
        }
        set {
            if let i = names.firstIndex(of: name) {
                if let v = newValue { tensors[i] = v } else { names.remove(at: i); tensors.remove(at: i) }
            } else if let v = newValue {
                names.append(name); tensors.append(v)
            }
        }
    }
}

/// The base class of optimizers (`torch.optim.Optimizer`): parameter groups with their own
/// hyper-parameters, per-parameter state, `zeroGrad`, `step`, and a state dict for checkpoints.
///
/// Subclasses declare their hyper-parameters (`defaults`) and implement `step()`.
open class Optimizer: Stateful, RuleSource {
    /// The parameter groups; change `lr` (or any option) here, as schedulers do.
    public var paramGroups: [ParamGroup]
    /// The optimizer's default hyper-parameters, in order (PyTorch's `optimizer.defaults`).
    public let defaults: [(String, Double)]
    /// The name used in messages (`"Adam"`).
    public let name: String
    /// Whether the per-parameter state records a step count (every optimizer except SGD).
    public let tracksStep: Bool
    var stateByParam: [ObjectIdentifier: ParamState] = [:]

    /// Creates an optimizer over `groups`, filling options a group lacks from `defaults`.
    public init(groups: [ParamGroup], defaults: [(String, Double)], name: String, tracksStep: Bool = true) {
        self.defaults = defaults; self.name = name; self.tracksStep = tracksStep
        self.paramGroups = []
        for g in groups { addParamGroup(g) }
        check(!paramGroups.isEmpty, "\(name): got no parameter groups")
    }

    /// Adds a group (`add_param_group`): options it lacks take the defaults; a parameter may be in one group only.
    public func addParamGroup(_ group: ParamGroup) {
        group.fillDefaults(defaults, optimizer: name, index: paramGroups.count)
        var seen = Set(paramGroups.flatMap { $0.params.map(ObjectIdentifier.init) })
        for (i, p) in group.params.enumerated() {
            check(p.dtype.isFloatingPoint, "\(name): can only optimize floating-point tensors, parameter \(i) of group \(paramGroups.count) has dtype \(p.dtype)")
            check(p.isLeaf, "\(name): can't optimize a non-leaf tensor (parameter \(i) of group \(paramGroups.count), shape \(p.shape))")
            check(seen.insert(ObjectIdentifier(p)).inserted, "\(name): some parameters appear in more than one parameter group (parameter \(i) of group \(paramGroups.count), shape \(p.shape))")
        }
        paramGroups.append(group)
    }

    /// All parameters of all groups, in order (the indices used by the state dict).
    public var allParams: [Tensor] { paramGroups.flatMap(\.params) }

    /// The state of `param` (nil before its first step).
    public func state(for param: Tensor) -> ParamState? { stateByParam[ObjectIdentifier(param)] }

    /// The state of `param`, created empty when absent.
    public func stateOrCreate(_ param: Tensor) -> ParamState {
        let key = ObjectIdentifier(param)
        if let s = stateByParam[key] { return s }
        let s = ParamState(); stateByParam[key] = s
        return s
    }

    /// Clears every parameter's gradient (`zero_grad(set_to_none=True)`), or fills it with zeros.
    public func zeroGrad(setToNone: Bool = true) {
        for g in paramGroups { for p in g.params { p.zeroGrad(setToNone: setToNone) } }
    }

    /// Updates the parameters from their `.grad`; subclasses implement the rule.
    open func step() { nablaFail("\(name).step: subclasses must override step()") }

    /// Updates the parameters after evaluating `closure` with gradients enabled (PyTorch's `step(closure)`).
    ///
    /// - Returns: the closure's loss.
    @discardableResult
    public func step(_ closure: () -> Tensor) -> Tensor {
        let loss = enableGrad { closure() }
        step()
        return loss
    }

    // MARK: TensorFlow's two-step form

    /// Gradients of `loss` with respect to `varList` (default: every parameter), without touching `.grad`
    /// (TensorFlow's `optimizer.compute_gradients`). A parameter the loss does not use gets nil.
    public func computeGradients(_ loss: Tensor, varList: [Tensor]? = nil) -> [(gradient: Tensor?, parameter: Tensor)] {
        let vars = (varList ?? allParams).filter { $0.requiresGrad }
        check(loss.requiresGrad, "\(name).computeGradients: the loss (shape \(loss.shape)) does not require grad")
        let gs = gradients(of: [loss], wrt: vars, allowUnused: true)
        return zip(gs, vars).map { (gradient: $0, parameter: $1) }
    }

    /// Sets each parameter's `.grad` from `pairs` and takes one step over those parameters only
    /// (TensorFlow's `optimizer.apply_gradients`); other parameters keep their `.grad` and are not updated.
    public func applyGradients(_ pairs: [(gradient: Tensor?, parameter: Tensor)]) {
        let mine = Set(allParams.map(ObjectIdentifier.init))
        var listed = Set<ObjectIdentifier>()
        for (i, pair) in pairs.enumerated() {
            check(mine.contains(ObjectIdentifier(pair.parameter)), "\(name).applyGradients: pair \(i) names a parameter of shape \(pair.parameter.shape) that this optimizer does not hold")
            if let g = pair.gradient {
                check(g.shape == pair.parameter.shape, "\(name).applyGradients: gradient \(i) has shape \(g.shape), its parameter has shape \(pair.parameter.shape)")
            }
            listed.insert(ObjectIdentifier(pair.parameter))
        }
        var stashed: [(Tensor, Tensor?)] = []
        for p in allParams where !listed.contains(ObjectIdentifier(p)) {
            stashed.append((p, p.grad)); p.grad = nil
        }
        for pair in pairs { pair.parameter.grad = pair.gradient?.detached() }
        step()
        for (p, g) in stashed { p.grad = g }
    }

    // MARK: Kernel plumbing shared by subclasses

    /// Updates `p` (and its `state` buffers) by `rule` on the parameter's own backend, with the gradient converted to
    /// the parameter's dtype and device first.
    func update(_ p: Tensor, grad: Tensor, rule: OptimizerRule, state: [Tensor]) {
        check(grad.shape == p.shape, "\(name).step: gradient shape \(grad.shape) does not match parameter shape \(p.shape)")
        if collectedRules != nil { collectedRules!.append(rule); return }
        let g = grad.to(p.dtype).to(p.device).contiguous()
        withRuleSource(self) { p.backend.optimizerStep(rule, param: p, grad: g, state: state) }
    }

    /// Rules gathered by `nextRules()` instead of running kernels.
    private var collectedRules: [OptimizerRule]?

    /// Advances the step counts as `step()` does and returns the rules it would apply, running no kernel: how a
    /// compiled training step (`compile`) reads the learning rate and step count at each run.
    public func nextRules() -> [OptimizerRule] {
        collectedRules = []
        defer { collectedRules = nil }
        step()
        return collectedRules!
    }

    /// A state buffer shaped like `p`: zeros (or `fill`), contiguous, on the parameter's device and dtype.
    func newBuffer(like p: Tensor, fill: Double = 0) -> Tensor {
        Tensor.full(p.shape, fill, dtype: p.dtype, device: p.device)
    }

    // MARK: Stateful

    /// The optimizer state: per-parameter `state.<i>.step` and buffers (`state.0.exp_avg`), indexed over all
    /// parameters of all groups in order, and every group's options under `param_groups.<g>.<name>`, plus
    /// `param_groups.<g>.params` (the parameter indices). Tensors are copies.
    public func stateDict() -> StateDict {
        var out = StateDict()
        for (i, p) in allParams.enumerated() {
            guard let s = state(for: p) else { continue }
            if tracksStep { out.set("state.\(i).step", s.step) }
            for (n, t) in zip(s.names, s.tensors) { out["state.\(i).\(n)"] = t.detached().clone() }
        }
        var index = 0
        for (g, group) in paramGroups.enumerated() {
            for k in group.optionNames { out.set("param_groups.\(g).\(k)", group[k]!) }
            let ids = (0..<group.params.count).map { index + $0 }
            out["param_groups.\(g).params"] = Tensor(shape: [ids.count], data: ids.map(Double.init), dtype: .int64)
            index += ids.count
        }
        return out
    }

    /// Restores state written by `stateDict()`: group options and per-parameter state (buffers copied and
    /// converted to each parameter's dtype), so a resumed run continues bit-identically.
    ///
    /// - Throws: `StateDictError` when the groups do not match in number or size, a buffer's shape differs from its
    ///   parameter's, or (with `strict`) a key is not understood or a group option is missing.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        let params = allParams
        var problems: [String] = []
        var groupOptions = [[(String, Double)]](repeating: [], count: paramGroups.count)
        var newState: [Int: ParamState] = [:]
        for (key, t) in state {
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, let idx = Int(parts[1]) else { problems.append("unexpected key \(key)"); continue }
            if parts[0] == "param_groups" {
                guard idx >= 0 && idx < paramGroups.count else { problems.append("\(key): the optimizer has \(paramGroups.count) groups"); continue }
                if parts[2] == "params" {
                    if t.count != paramGroups[idx].params.count {
                        problems.append("group \(idx) has \(t.count) parameters in the state dict but \(paramGroups[idx].params.count) in the optimizer")
                    }
                } else {
                    // Values come from a file: one finite number each (a NaN or negative lr would silently ruin the run).
                    do throws(StateDictError) {
                        guard let v = try state.scalarDouble(key, owner: "") else { continue }
                        if !v.isFinite { problems.append("\(key) must be a finite number, got \(v)") }
                        else if parts[2] == "lr" && v < 0 { problems.append("\(key) must be non-negative, got \(v)") }
                        else { groupOptions[idx].append((parts[2], v)) }
                    } catch { problems.append(error.message) }
                }
            } else if parts[0] == "state" {
                guard idx >= 0 && idx < params.count else { problems.append("\(key): the optimizer has \(params.count) parameters"); continue }
                let s = newState[idx] ?? ParamState()
                newState[idx] = s
                if parts[2] == "step" {
                    do throws(StateDictError) {
                        guard let v = try state.scalarInt(key, owner: "") else { continue }
                        if v < 0 { problems.append("\(key) must be a non-negative step count, got \(v)") } else { s.step = v }
                    } catch { problems.append(error.message) }
                } else {
                    let p = params[idx]
                    if t.shape != p.shape {
                        problems.append("\(key) has shape \(t.shape), parameter \(idx) has shape \(p.shape)")
                    } else {
                        s[parts[2]] = t.to(p.dtype).to(p.device).contiguous().clone()
                    }
                }
            } else if strict {
                problems.append("unexpected key \(key)")
            }
        }
        if strict {
            for g in paramGroups.indices {
                let have = Set(groupOptions[g].map(\.0))
                let missing = defaults.map(\.0).filter { !have.contains($0) }
                if !missing.isEmpty { problems.append("group \(g) is missing \(missing)") }
            }
        }
        if !problems.isEmpty {
            throw StateDictError("\(name).loadStateDict: " + problems.joined(separator: "; "))
        }
        for (g, opts) in groupOptions.enumerated() { for (k, v) in opts { paramGroups[g][k] = v } }
        stateByParam = [:]
        for (i, s) in newState { stateByParam[ObjectIdentifier(params[i])] = s }
    }
}

#if canImport(Glibc)
import Glibc
/// The C library's `pow`, which Python's `**` on floats calls too.
func optimPow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#elseif canImport(Darwin)
import Darwin
/// The C library's `pow`, which Python's `**` on floats calls too.
func optimPow(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif
