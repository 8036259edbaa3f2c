/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (`torch.optim.SGD`).
public final class SGD: Optimizer {
    /// Momentum factor.
    public var momentum: Double
    /// Dampening for momentum.
    public var dampening: Double
    /// Whether to use Nesterov momentum.
    public var nesterov: Bool
    private var buffers: [ObjectIdentifier: Tensor] = [:]

    /// SGD over `params`.
    public init(_ params: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        check(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening")
        self.momentum = momentum; self.dampening = dampening; self.nesterov = nesterov
        super.init(groups: [ParamGroup(params: params)], lr: lr, weightDecay: weightDecay)
    }

    /// SGD over parameter groups.
    public init(groups: [ParamGroup], lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        self.momentum = momentum; self.dampening = dampening; self.nesterov = nesterov
        super.init(groups: groups, lr: lr, weightDecay: weightDecay)
    }

    /// One SGD step (PyTorch's formula).
    public override func step() {
        noGrad {
            for g in paramGroups {
                for p in g.params {
                    guard var d = p.grad else { continue }
                    if g.weightDecay != 0 { d = d + p * g.weightDecay }
                    if momentum != 0 {
                        let key = ObjectIdentifier(p)
                        if let buf = buffers[key] { buf.mul_(momentum).add_(d, alpha: 1 - dampening) }
                        else { buffers[key] = d.clone() }
                        let buf = buffers[key]!
                        d = nesterov ? d + buf * momentum : buf
                    }
                    p.sub_(d, alpha: g.lr)
                }
            }
        }
    }
}
