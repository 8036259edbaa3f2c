import CNablaKernels

/// Adam and AdamW (`torch.optim.Adam`, `AdamW`), PyTorch's update rule and defaults.
public final class Adam: Optimizer {
    /// Coefficients of the running averages.
    public var betas: (Double, Double)
    /// Added to the denominator for stability.
    public var eps: Double
    /// Decoupled weight decay (AdamW) instead of an L2 term.
    public let decoupled: Bool
    private var state: [ObjectIdentifier: (step: Int, m: Tensor, v: Tensor)] = [:]

    /// Adam over `params`.
    public init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 0, decoupled: Bool = false) {
        self.betas = betas; self.eps = eps; self.decoupled = decoupled
        super.init(groups: [ParamGroup(params: params)], lr: lr, weightDecay: weightDecay)
    }

    /// Adam over parameter groups with their own `lr` / `weightDecay`.
    public init(groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 0, decoupled: Bool = false) {
        self.betas = betas; self.eps = eps; self.decoupled = decoupled
        super.init(groups: groups, lr: lr, weightDecay: weightDecay)
    }

    /// One Adam step for every parameter with a gradient.
    public override func step() {
        noGrad {
            for g in paramGroups {
                for p in g.params {
                    guard let grad = p.grad else { continue }
                    let key = ObjectIdentifier(p)
                    var s = state[key] ?? (0, Tensor.zerosLike(p), Tensor.zerosLike(p))
                    s.step += 1
                    let bc1 = 1 - Foundation_pow(betas.0, Double(s.step)), bc2 = 1 - Foundation_pow(betas.1, Double(s.step))
                    if p.dtype == .float32 && p.isContiguous && grad.isContiguous && grad.dtype == .float32 {
                        let gp = grad.contiguous()
                        nabla_f32_adam(p.unsafeMutablePointer(Float.self), gp.unsafeMutablePointer(Float.self), s.m.unsafeMutablePointer(Float.self), s.v.unsafeMutablePointer(Float.self), Int64(p.count),
                                       Float(g.lr), Float(betas.0), Float(betas.1), Float(eps), Float(g.weightDecay),
                                       Float(bc1), Float(bc2.squareRoot()), decoupled ? 1 : 0)
                        p.markModifiedInPlace()
                    } else {
                        var gr = grad
                        if decoupled { p.mul_(1 - g.lr * g.weightDecay) } else if g.weightDecay != 0 { gr = gr + p * g.weightDecay }
                        s.m.mul_(betas.0).add_(gr, alpha: 1 - betas.0)
                        s.v.mul_(betas.1).add_(gr * gr, alpha: 1 - betas.1)
                        let denom = s.v.sqrt() / bc2.squareRoot() + eps
                        p.sub_(s.m / denom * (g.lr / bc1))
                    }
                    state[key] = s
                }
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay (`torch.optim.AdamW`, default weight decay 0.01).
public func AdamW(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                  weightDecay: Double = 0.01) -> Adam {
    Adam(params, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: true)
}

#if canImport(Glibc)
import Glibc
func Foundation_pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#elseif canImport(Darwin)
import Darwin
func Foundation_pow(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif
