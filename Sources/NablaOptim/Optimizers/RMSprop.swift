/// RMSprop (`torch.optim.RMSprop`), with `centered`, `momentum`, weight decay and maximize.
///
/// `sq = α·sq + (1 − α)·g²`; centered: `ga = lerp(ga, g, 1 − α)`, `avg = √(sq − ga²) + eps`, else `avg = √sq + eps`;
/// with momentum `buf = momentum·buf + g/avg`, `p −= lr·buf`, else `p −= lr·g/avg`.
/// State: `step`, `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered).
///
/// ```swift
/// let opt = RMSprop(model.parameters(), lr: 0.01, momentum: 0.9, centered: true)
/// ```
public final class RMSprop: Optimizer {
    /// RMSprop over `params`.
    public convenience init(_ params: [Tensor], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
                            weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false, maximize: Bool = false) {
        self.init(groups: [ParamGroup(params: params)], lr: lr, alpha: alpha, eps: eps, weightDecay: weightDecay,
                  momentum: momentum, centered: centered, maximize: maximize)
    }

    /// RMSprop over parameter groups; each group may override `lr`, `alpha`, `eps`, `weight_decay`, `momentum`,
    /// `centered`, `maximize`.
    public init(groups: [ParamGroup], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false, maximize: Bool = false) {
        check(lr >= 0, "RMSprop: invalid learning rate \(lr)")
        check(eps >= 0, "RMSprop: invalid epsilon \(eps)")
        check(momentum >= 0, "RMSprop: invalid momentum \(momentum)")
        check(alpha >= 0, "RMSprop: invalid alpha \(alpha)")
        check(weightDecay >= 0, "RMSprop: invalid weightDecay \(weightDecay)")
        super.init(groups: groups, defaults: [("lr", lr), ("alpha", alpha), ("eps", eps), ("weight_decay", weightDecay),
                                              ("momentum", momentum), ("centered", centered ? 1 : 0),
                                              ("maximize", maximize ? 1 : 0)], name: "RMSprop")
    }

    /// One RMSprop step for every parameter with a gradient.
    public override func step() {
        noGrad {
            for g in paramGroups {
                let lr = g.lr, alpha = g.option("alpha"), eps = g.eps, wd = g.weightDecay, momentum = g.momentum
                let centered = g.flag("centered"), maximize = g.flag("maximize")
                for p in g.params {
                    guard let grad = p.grad else { continue }
                    let s = stateOrCreate(p)
                    if s["square_avg"] == nil { s["square_avg"] = newBuffer(like: p) }
                    if momentum > 0 && s["momentum_buffer"] == nil { s["momentum_buffer"] = newBuffer(like: p) }
                    if centered && s["grad_avg"] == nil { s["grad_avg"] = newBuffer(like: p) }
                    s.step += 1
                    let sq = s["square_avg"]!, ga = centered ? s["grad_avg"] : nil, buf = momentum > 0 ? s["momentum_buffer"] : nil
                    update(p, grad: grad, rule: .rmsprop(lr: lr, alpha: alpha, eps: eps, weightDecay: wd, momentum: momentum,
                                                         centered: centered, maximize: maximize),
                           state: [sq] + [ga, buf].compactMap { $0 })
                }
            }
        }
    }
}
