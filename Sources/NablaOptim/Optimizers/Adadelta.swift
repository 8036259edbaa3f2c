/// Adadelta (`torch.optim.Adadelta`): `sq = ρ·sq + (1 − ρ)·g²`, `δ = √(acc + eps) / √(sq + eps) · g`,
/// `acc = ρ·acc + (1 − ρ)·δ²`, `p −= lr·δ`. State: `step`, `square_avg`, `acc_delta`.
///
/// ```swift
/// let opt = Adadelta(model.parameters(), rho: 0.9)
/// ```
public final class Adadelta: Optimizer {
    /// Adadelta over `params`.
    public convenience init(_ params: [Tensor], lr: Double = 1.0, rho: Double = 0.9, eps: Double = 1e-6,
                            weightDecay: Double = 0, maximize: Bool = false) {
        self.init(groups: [ParamGroup(params: params)], lr: lr, rho: rho, eps: eps, weightDecay: weightDecay, maximize: maximize)
    }

    /// Adadelta over parameter groups; each group may override `lr`, `rho`, `eps`, `weight_decay`, `maximize`.
    public init(groups: [ParamGroup], lr: Double = 1.0, rho: Double = 0.9, eps: Double = 1e-6,
                weightDecay: Double = 0, maximize: Bool = false) {
        check(lr >= 0, "Adadelta: invalid learning rate \(lr)")
        check(rho >= 0 && rho <= 1, "Adadelta: invalid rho \(rho), expected a value in [0, 1]")
        check(eps >= 0, "Adadelta: invalid epsilon \(eps)")
        check(weightDecay >= 0, "Adadelta: invalid weightDecay \(weightDecay)")
        super.init(groups: groups, defaults: [("lr", lr), ("rho", rho), ("eps", eps), ("weight_decay", weightDecay),
                                              ("maximize", maximize ? 1 : 0)], name: "Adadelta")
    }

    /// One Adadelta step for every parameter with a gradient.
    public override func step() {
        noGrad {
            for g in paramGroups {
                let lr = g.lr, rho = g.option("rho"), eps = g.eps, wd = g.weightDecay
                let maximize = g.flag("maximize")
                for p in g.params {
                    guard let grad = p.grad else { continue }
                    let s = stateOrCreate(p)
                    if s["square_avg"] == nil { s["square_avg"] = newBuffer(like: p); s["acc_delta"] = newBuffer(like: p) }
                    s.step += 1
                    let sq = s["square_avg"]!, acc = s["acc_delta"]!
                    update(p, grad: grad, rule: .adadelta(lr: lr, rho: rho, eps: eps, weightDecay: wd, maximize: maximize),
                           state: [sq, acc])
                }
            }
        }
    }
}
