// The composite optimizer updates of every backend: PyTorch's single-tensor update rules written with Tensor ops
// (under noGrad) in PyTorch's order of operations, writing the parameter and the state buffers in place.

extension Backend {
    /// Default `optimizerStep`: the composite.
    public func optimizerStep(_ rule: OptimizerRule, param: Tensor, grad: Tensor, state: [Tensor]) {
        compositeOptimizerStep(rule, param: param, grad: grad, state: state)
    }

    /// One update of `param` and `state` by `rule`, with Tensor ops.
    public func compositeOptimizerStep(_ rule: OptimizerRule, param p: Tensor, grad: Tensor, state: [Tensor]) {
        noGrad {
            switch rule {
            case let .sgd(lr, momentum, dampening, wd, nesterov, maximize, first):
                var d = maximize ? -grad : grad
                if wd != 0 { d = d + wd * p }
                if momentum != 0 {
                    let buf = state[0]
                    let b = first ? d : buf * momentum + (1 - dampening) * d
                    buf.copy_(b)
                    d = nesterov ? d + momentum * b : b
                }
                p.copy_(p + (-lr) * d)
            case let .adam(lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize, step):
                let m = state[0], v = state[1]
                var gi = maximize ? -grad : grad
                var pi = p
                if wd != 0 { if decoupled { pi = p * (1 - lr * wd) } else { gi = gi + wd * p } }
                m.copy_(lerpPyTorch(m, gi, 1 - beta1))
                v.copy_(v * beta2 + (1 - beta2) * gi * gi)
                var s = v
                if amsgrad {
                    let vmax = state[2]
                    vmax.copy_(Nabla.maximum(vmax, v))
                    s = vmax
                }
                let (stepSize, bc2Sqrt) = OptimizerRule.adamBiasCorrection(lr: lr, beta1: beta1, beta2: beta2, step: step)
                let denom = s.sqrt() / bc2Sqrt + eps
                p.copy_(pi + (-stepSize) * m / denom)
            case let .rmsprop(lr, alpha, eps, wd, momentum, centered, maximize):
                var gi = maximize ? -grad : grad
                if wd != 0 { gi = gi + wd * p }
                let sq = state[0]
                sq.copy_(sq * alpha + (1 - alpha) * gi * gi)
                var avg: Tensor
                if centered {
                    let ga = state[1]
                    ga.copy_(lerpPyTorch(ga, gi, 1 - alpha))
                    avg = (sq + (-1) * ga * ga).sqrt()
                } else {
                    avg = sq.sqrt()
                }
                avg = avg + eps
                if momentum > 0 {
                    let buf = state[centered ? 2 : 1]
                    buf.copy_(buf * momentum + gi / avg)
                    p.copy_(p + (-lr) * buf)
                } else {
                    p.copy_(p + (-lr) * gi / avg)
                }
            case let .adagrad(clr, eps, wd, maximize):
                var gi = maximize ? -grad : grad
                if wd != 0 { gi = gi + wd * p }
                let sum = state[0]
                sum.copy_(sum + gi * gi)
                p.copy_(p + (-clr) * gi / (sum.sqrt() + eps))
            case let .adadelta(lr, rho, eps, wd, maximize):
                var gi = maximize ? -grad : grad
                if wd != 0 { gi = gi + wd * p }
                let sq = state[0], acc = state[1]
                sq.copy_(sq * rho + (1 - rho) * gi * gi)
                let std = (sq + eps).sqrt()
                let delta = (acc + eps).sqrt() / std * gi
                acc.copy_(acc * rho + (1 - rho) * delta * delta)
                p.copy_(p + (-lr) * delta)
            }
        }
    }
}

/// `torch.lerp(x, y, w)` for a scalar weight, in PyTorch's two-branch form.
private func lerpPyTorch(_ x: Tensor, _ y: Tensor, _ w: Double) -> Tensor {
    Swift.abs(w) < 0.5 ? x + w * (y - x) : y - (y - x) * (1 - w)
}
