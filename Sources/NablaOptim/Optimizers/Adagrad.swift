/// Adagrad (`torch.optim.Adagrad`): `sum += g²`, `p −= clr·g / (√sum + eps)` with `clr = lr / (1 + (t − 1)·lrDecay)`.
///
/// State: `step`, `sum` (created at construction, filled with `initialAccumulatorValue`, as PyTorch does).
///
/// ```swift
/// let opt = Adagrad(model.parameters(), lr: 0.01, lrDecay: 1e-4)
/// ```
public final class Adagrad: Optimizer {
    /// Adagrad over `params`.
    public convenience init(_ params: [Tensor], lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0,
                            initialAccumulatorValue: Double = 0, eps: Double = 1e-10, maximize: Bool = false) {
        self.init(groups: [ParamGroup(params: params)], lr: lr, lrDecay: lrDecay, weightDecay: weightDecay,
                  initialAccumulatorValue: initialAccumulatorValue, eps: eps, maximize: maximize)
    }

    /// Adagrad over parameter groups; each group may override `lr`, `lr_decay`, `weight_decay`,
    /// `initial_accumulator_value`, `eps`, `maximize`.
    public init(groups: [ParamGroup], lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulatorValue: Double = 0, eps: Double = 1e-10, maximize: Bool = false) {
        check(lr >= 0, "Adagrad: invalid learning rate \(lr)")
        check(lrDecay >= 0, "Adagrad: invalid lrDecay \(lrDecay)")
        check(weightDecay >= 0, "Adagrad: invalid weightDecay \(weightDecay)")
        check(initialAccumulatorValue >= 0, "Adagrad: invalid initialAccumulatorValue \(initialAccumulatorValue)")
        check(eps >= 0, "Adagrad: invalid epsilon \(eps)")
        super.init(groups: groups, defaults: [("lr", lr), ("lr_decay", lrDecay), ("weight_decay", weightDecay),
                                              ("initial_accumulator_value", initialAccumulatorValue), ("eps", eps),
                                              ("maximize", maximize ? 1 : 0)], name: "Adagrad")
        for g in paramGroups {
            for p in g.params {
                let s = stateOrCreate(p)
                s["sum"] = newBuffer(like: p, fill: g.option("initial_accumulator_value"))
            }
        }
    }

    /// One Adagrad step for every parameter with a gradient.
    public override func step() {
        noGrad {
            for g in paramGroups {
                let lr = g.lr, lrDecay = g.option("lr_decay"), wd = g.weightDecay, eps = g.eps
                let maximize = g.flag("maximize")
                for p in g.params {
                    guard let grad = p.grad else { continue }
                    let s = stateOrCreate(p)
                    if s["sum"] == nil { s["sum"] = newBuffer(like: p, fill: g.option("initial_accumulator_value")) }
                    s.step += 1
                    let sum = s["sum"]!
                    let clr = lr / (1 + Double(s.step - 1) * lrDecay)
                    update(p, grad: grad, rule: .adagrad(clr: clr, eps: eps, weightDecay: wd, maximize: maximize), state: [sum])
                }
            }
        }
    }
}
