/// A group of parameters sharing hyper-parameters (one entry of PyTorch's `optimizer.param_groups`).
///
/// Hyper-parameters live in an ordered options bag under PyTorch's snake_case names (`lr`, `weight_decay`,
/// `momentum`, `beta1`, `beta2`, `eps`, ...); flags are stored as 0 or 1. Typed accessors cover the common ones.
/// Options a group does not set take the optimizer's defaults when the optimizer is created.
///
/// ```swift
/// let opt = SGD(groups: [ParamGroup(params: body.parameters()),
///                        ParamGroup(params: head.parameters(), lr: 0.1)], lr: 0.01, momentum: 0.9)
/// opt.paramGroups[1].lr *= 0.5
/// ```
public final class ParamGroup {
    /// The parameters, updated in this order.
    public var params: [Tensor]
    /// Option names in order (the optimizer's defaults' order, then any added later such as `initial_lr`).
    public private(set) var optionNames: [String] = []
    private var values: [String: Double] = [:]

    /// Creates a group; options left nil (or absent from `options`) take the optimizer's defaults.
    ///
    /// - Parameter options: other hyper-parameters under PyTorch's names, e.g. `["momentum": 0.5]` or `["beta1": 0.8]`.
    public init(params: [Tensor], lr: Double? = nil, weightDecay: Double? = nil, options: [String: Double] = [:]) {
        self.params = params
        if let lr { self["lr"] = lr }
        if let weightDecay { self["weight_decay"] = weightDecay }
        for k in options.keys.sorted() { self[k] = options[k]! }
    }

    /// The option stored under `name` (PyTorch's `group[name]`); assigning a new name appends it.
    public subscript(name: String) -> Double? {
        get { values[name] }
        set {
            if let v = newValue {
                if values.updateValue(v, forKey: name) == nil { optionNames.append(name) }
            } else if values.removeValue(forKey: name) != nil {
                optionNames.removeAll { $0 == name }
            }
        }
    }

    /// The option `name`, trapping with a clear message when the group lacks it.
    public func option(_ name: String) -> Double {
        guard let v = values[name] else {
            nablaFail("ParamGroup: no hyper-parameter '\(name)'; this group has \(optionNames)")
        }
        return v
    }

    /// Sets every option of `defaults` the group does not have yet, then orders the options as `defaults`.
    func fillDefaults(_ defaults: [(String, Double)], optimizer: String, index: Int) {
        let known = Set(defaults.map(\.0))
        for name in optionNames where !known.contains(name) && name != "initial_lr" {
            nablaFail("\(optimizer): parameter group \(index) sets '\(name)', which \(optimizer) does not have; its hyper-parameters are \(defaults.map(\.0))")
        }
        let old = values
        optionNames = []; values = [:]
        for (k, v) in defaults { self[k] = old[k] ?? v }
        for (k, v) in old where !known.contains(k) { self[k] = v }
    }

    /// Learning rate (`group['lr']`); schedulers change it.
    public var lr: Double {
        get { option("lr") }
        set { self["lr"] = newValue }
    }
    /// Weight decay (`group['weight_decay']`): an L2 term, or decoupled decay for AdamW.
    public var weightDecay: Double {
        get { option("weight_decay") }
        set { self["weight_decay"] = newValue }
    }
    /// Momentum factor (`group['momentum']`, SGD and RMSprop).
    public var momentum: Double {
        get { option("momentum") }
        set { self["momentum"] = newValue }
    }
    /// Adam's running-average coefficients (`group['betas']`).
    public var betas: (Double, Double) {
        get { (option("beta1"), option("beta2")) }
        set { self["beta1"] = newValue.0; self["beta2"] = newValue.1 }
    }
    /// Term added to denominators for numerical stability (`group['eps']`).
    public var eps: Double {
        get { option("eps") }
        set { self["eps"] = newValue }
    }

    func flag(_ name: String) -> Bool { option(name) != 0 }
}
