/// Adam with decoupled weight decay (`torch.optim.AdamW`, default weight decay 0.01): each step first
/// scales the parameters by `1 − lr·weightDecay`, then applies Adam's update without an L2 term.
///
/// ```swift
/// let opt = AdamW(model.parameters(), lr: 1e-3, weightDecay: 0.05)
/// ```
public final class AdamW: Adam {
    /// AdamW over `params`.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false,
                            epsilonHat: Bool = false) {
        self.init(groups: [ParamGroup(params: params)], lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                  amsgrad: amsgrad, maximize: maximize, epsilonHat: epsilonHat)
    }

    /// AdamW over parameter groups (options as `Adam`'s).
    public init(groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false, epsilonHat: Bool = false) {
        super.init(groups: groups, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad,
                   maximize: maximize, decoupled: true, epsilonHat: epsilonHat)
    }
}
