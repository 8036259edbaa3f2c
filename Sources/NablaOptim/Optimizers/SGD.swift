/// Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize (`torch.optim.SGD`).
///
/// Follows PyTorch's update: `d = g + wd·p`; `buf = d` on the first step, then `buf = momentum·buf + (1 − dampening)·d`;
/// `d = nesterov ? d + momentum·buf : buf`; `p -= lr·d`. float32 and float64 run one fused kernel per parameter.
///
/// ```swift
/// let opt = SGD(model.parameters(), lr: 0.1, momentum: 0.9, nesterov: true)
/// opt.zeroGrad(); loss.backward(); opt.step()
/// ```
public final class SGD: Optimizer {
    /// SGD over `params`.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) {
        self.init(groups: [ParamGroup(params: params)], lr: lr, momentum: momentum, dampening: dampening,
                  weightDecay: weightDecay, nesterov: nesterov, maximize: maximize)
    }

    /// SGD over parameter groups; each group may override any option (`lr`, `momentum`, `dampening`,
    /// `weight_decay`, `nesterov`, `maximize`).
    public init(groups: [ParamGroup], lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) {
        check(lr >= 0, "SGD: invalid learning rate \(lr)")
        check(momentum >= 0, "SGD: invalid momentum \(momentum)")
        check(weightDecay >= 0, "SGD: invalid weightDecay \(weightDecay)")
        super.init(groups: groups, defaults: [("lr", lr), ("momentum", momentum), ("dampening", dampening),
                                              ("weight_decay", weightDecay), ("nesterov", nesterov ? 1 : 0),
                                              ("maximize", maximize ? 1 : 0)], name: "SGD", tracksStep: false)
        for (i, g) in paramGroups.enumerated() {
            check(!g.flag("nesterov") || (g.momentum > 0 && g.option("dampening") == 0),
                  "SGD: Nesterov momentum requires a momentum and zero dampening (group \(i): momentum \(g.momentum), dampening \(g.option("dampening")))")
        }
    }

    /// One SGD step for every parameter with a gradient.
    public override func step() {
        noGrad {
            for g in paramGroups {
                let lr = g.lr, momentum = g.momentum, dampening = g.option("dampening"), wd = g.weightDecay
                let nesterov = g.flag("nesterov"), maximize = g.flag("maximize")
                for p in g.params {
                    guard let grad = p.grad else { continue }
                    var buf: Tensor? = nil
                    var first = false
                    if momentum != 0 {
                        let s = stateOrCreate(p)
                        if let b = s["momentum_buffer"] { buf = b } else {
                            let b = newBuffer(like: p); s["momentum_buffer"] = b; buf = b; first = true
                        }
                    }
                    update(p, grad: grad, rule: .sgd(lr: lr, momentum: momentum, dampening: dampening, weightDecay: wd,
                                                     nesterov: nesterov, maximize: maximize, first: first),
                           state: buf.map { [$0] } ?? [])
                }
            }
        }
    }
}
