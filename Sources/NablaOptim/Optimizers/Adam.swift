/// Adam (`torch.optim.Adam`): PyTorch's update rule and defaults, with `amsgrad` and `maximize`.
///
/// `m = lerp(m, g, 1 − β1)`, `v = β2·v + (1 − β2)·g²`, `p −= lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)`;
/// weight decay adds `wd·p` to the gradient (L2), or with `decoupled` (AdamW) scales `p` by `1 − lr·wd` first.
/// float32 and float64 run one fused kernel per parameter; state: `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`.
///
/// With `epsilonHat` the step is Keras' and TensorFlow's instead: `p −= lr·√(1 − β2ᵗ) / (1 − β1ᵗ) · m / (√v + eps)`,
/// eps added to the uncorrected `√v` (the ε̂ of Kingma & Ba, section 2). NablaKeras' `"adam"` uses it.
///
/// ```swift
/// let opt = Adam(model.parameters(), lr: 1e-3, betas: (0.9, 0.999), amsgrad: true)
/// ```
public class Adam: Optimizer {
    /// Whether weight decay is decoupled (AdamW).
    public let decoupled: Bool
    /// Whether eps is added before the bias correction of `v` (Keras' and TensorFlow's form) rather than after it.
    public let epsilonHat: Bool

    /// Adam over `params`.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false,
                            maximize: Bool = false, decoupled: Bool = false, epsilonHat: Bool = false) {
        self.init(groups: [ParamGroup(params: params)], lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                  amsgrad: amsgrad, maximize: maximize, decoupled: decoupled, epsilonHat: epsilonHat)
    }

    /// Adam over parameter groups; each group may override `lr`, `beta1`, `beta2`, `eps`, `weight_decay`,
    /// `amsgrad`, `maximize`.
    public init(groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false, decoupled: Bool = false,
                epsilonHat: Bool = false) {
        let name = decoupled ? "AdamW" : "Adam"
        check(lr >= 0, "\(name): invalid learning rate \(lr)")
        check(eps >= 0, "\(name): invalid epsilon \(eps)")
        check(betas.0 >= 0 && betas.0 < 1, "\(name): invalid beta parameter at index 0: \(betas.0)")
        check(betas.1 >= 0 && betas.1 < 1, "\(name): invalid beta parameter at index 1: \(betas.1)")
        check(weightDecay >= 0, "\(name): invalid weightDecay \(weightDecay)")
        self.decoupled = decoupled
        self.epsilonHat = epsilonHat
        super.init(groups: groups, defaults: [("lr", lr), ("beta1", betas.0), ("beta2", betas.1), ("eps", eps),
                                              ("weight_decay", weightDecay), ("amsgrad", amsgrad ? 1 : 0),
                                              ("maximize", maximize ? 1 : 0)], name: name)
    }

    /// One Adam step for every parameter with a gradient.
    public override func step() {
        noGrad {
            for g in paramGroups {
                let lr = g.lr, (beta1, beta2) = g.betas, eps = g.eps, wd = g.weightDecay
                let amsgrad = g.flag("amsgrad"), maximize = g.flag("maximize")
                for p in g.params {
                    guard let grad = p.grad else { continue }
                    let s = stateOrCreate(p)
                    if s["exp_avg"] == nil {
                        s["exp_avg"] = newBuffer(like: p); s["exp_avg_sq"] = newBuffer(like: p)
                        if amsgrad { s["max_exp_avg_sq"] = newBuffer(like: p) }
                    }
                    if amsgrad && s["max_exp_avg_sq"] == nil { s["max_exp_avg_sq"] = newBuffer(like: p) }
                    s.step += 1
                    // Keras' step equals PyTorch's with eps / √(1 − β2ᵗ) in place of eps.
                    let stepEps = epsilonHat ? eps / (1 - optimPow(beta2, Double(s.step))).squareRoot() : eps
                    let m = s["exp_avg"]!, v = s["exp_avg_sq"]!, vmax = amsgrad ? s["max_exp_avg_sq"] : nil
                    update(p, grad: grad, rule: .adam(lr: lr, beta1: beta1, beta2: beta2, eps: stepEps, weightDecay: wd,
                                                      decoupled: decoupled, amsgrad: amsgrad, maximize: maximize, step: s.step),
                           state: [m, v] + (vmax.map { [$0] } ?? []))
                }
            }
        }
    }
}
