@_exported import NablaNN

/// A group of parameters sharing hyper-parameters (PyTorch's `param_groups` entries).
public final class ParamGroup {
    /// The parameters.
    public var params: [Tensor]
    /// Learning rate.
    public var lr: Double
    /// L2 penalty (or decoupled decay for AdamW).
    public var weightDecay: Double
    /// Creates a group; nil values take the optimizer's defaults.
    public init(params: [Tensor], lr: Double? = nil, weightDecay: Double? = nil) {
        self.params = params; self.lr = lr ?? .nan; self.weightDecay = weightDecay ?? .nan
    }
}

/// The base class of optimizers (`torch.optim.Optimizer`): parameter groups, `zeroGrad`, `step`.
open class Optimizer {
    /// The parameter groups; change `lr` here (schedulers do).
    public var paramGroups: [ParamGroup]

    /// Creates an optimizer over groups, filling unset hyper-parameters with the defaults.
    public init(groups: [ParamGroup], lr: Double, weightDecay: Double) {
        for g in groups {
            if g.lr.isNaN { g.lr = lr }
            if g.weightDecay.isNaN { g.weightDecay = weightDecay }
        }
        paramGroups = groups
    }

    /// Clears every parameter's gradient (`zero_grad(set_to_none=True)`).
    public func zeroGrad(setToNone: Bool = true) {
        for g in paramGroups { for p in g.params { p.zeroGrad(setToNone: setToNone) } }
    }

    /// Updates the parameters from their `.grad`; subclasses implement the rule.
    open func step() { nablaFail("Optimizer.step: subclasses must override step()") }
}
