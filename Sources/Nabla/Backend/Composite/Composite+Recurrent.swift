// The composite recurrent ops of every backend: a step loop of matrix products and element-wise ops for the
// whole-sequence forward, the Tensor-op BPTT for its backward, and the LSTM cell update, all under noGrad.

extension Backend {
    /// Default `recurrentSequence`: the composite.
    public func recurrentSequence(_ inputs: RecurrentSequenceInputs) -> RecurrentSequenceResult {
        compositeRecurrentSequence(inputs)
    }

    /// Default `recurrentSequenceBackward`: the composite.
    public func recurrentSequenceBackward(_ context: RecurrentContext, gradOutput: Tensor, gradH: Tensor, gradC: Tensor?,
                                          needInput: Bool, needH0: Bool) -> RecurrentSequenceGradients {
        compositeRecurrentSequenceBackward(context, gradOutput: gradOutput, gradH: gradH, gradC: gradC)
    }

    /// Default `lstmCell`: the composite.
    public func lstmCell(gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tanhC: Tensor) {
        compositeLSTMCell(gates: gates, cx: cx, h: h, c: c, act: act, tanhC: tanhC)
    }

    /// Default `lstmCellBackward`: the composite.
    public func lstmCellBackward(gradH: Tensor, gradC: Tensor, act: Tensor, tanhC: Tensor, cx: Tensor, dgates: Tensor, dcx: Tensor) {
        compositeLSTMCellBackward(gradH: gradH, gradC: gradC, act: act, tanhC: tanhC, cx: cx, dgates: dgates, dcx: dcx)
    }

    /// The input projection of the whole sequence, then one step at a time: `gates = proj_t + h W_hhᵀ`, then the
    /// cell's element-wise update.
    public func compositeRecurrentSequence(_ i: RecurrentSequenceInputs) -> RecurrentSequenceResult {
        noGrad {
            let steps = i.x.shape[0], batch = i.x.shape[1], features = i.x.shape[2], width = i.wih.shape[0]
            var proj = Nabla.matmul(i.x.reshape([steps * batch, features]), i.wih.t())
            if let b = i.bih { proj = proj + b }
            if i.mode != .gru, let b = i.bhh { proj = proj + b }
            let xs = proj.reshape([steps, batch, width])
            let whhT = i.whh.t()
            var h = i.h0, c = i.c0
            var outs = [Tensor?](repeating: nil, count: steps)
            for s in 0..<steps {
                let t = i.reverse ? steps - 1 - s : s
                let xt = xs.select(0, t)
                switch i.mode {
                case .lstm:
                    let r = lstmPointwiseComposed(xt + Nabla.matmul(h, whhT), c!)
                    h = r.h; c = r.c
                case .gru:
                    var gh = Nabla.matmul(h, whhT)
                    if let b = i.bhh { gh = gh + b }
                    let xc = xt.chunk(3, dim: -1), hc = gh.chunk(3, dim: -1)
                    let r = (xc[0] + hc[0]).sigmoid(), z = (xc[1] + hc[1]).sigmoid(), n = (xc[2] + r * hc[2]).tanh()
                    h = n + z * (h - n)
                case .rnnTanh:
                    h = (xt + Nabla.matmul(h, whhT)).tanh()
                case .rnnRelu:
                    h = (xt + Nabla.matmul(h, whhT)).relu()
                }
                outs[t] = h
            }
            let output = steps == 0 ? Tensor.zeros([0, batch, i.whh.shape[1]], dtype: i.x.dtype, device: i.x.device)
                                    : stack(outs.map { $0! }, dim: 0)
            return RecurrentSequenceResult(output: output, h: h.contiguous(), c: c?.contiguous(), context: RecurrentContext(i))
        }
    }

    /// The Tensor-op BPTT over the inputs the context holds.
    public func compositeRecurrentSequenceBackward(_ context: RecurrentContext, gradOutput: Tensor, gradH: Tensor,
                                                   gradC: Tensor?) -> RecurrentSequenceGradients {
        noGrad { recurrentSequenceBackwardComposite(context.inputs, gradOutput: gradOutput, gradH: gradH, gradC: gradC) }
    }

    /// The LSTM cell update with Tensor ops, into `h`, `c`, `act` (σ(i), σ(f), tanh(g), σ(o)) and `tanhC`.
    public func compositeLSTMCell(gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tanhC: Tensor) {
        noGrad {
            let ch = gates.chunk(4, dim: -1)
            let a = cat([ch[0].sigmoid(), ch[1].sigmoid(), ch[2].tanh(), ch[3].sigmoid()], dim: -1)
            let g = a.chunk(4, dim: -1)
            let cn = g[1] * cx + g[0] * g[2], tc = cn.tanh()
            copy(a, into: act); copy(cn, into: c); copy(tc, into: tanhC); copy(g[3] * tc, into: h)
        }
    }

    /// The LSTM cell's gradients from the saved activations, into `dgates` and `dcx`.
    public func compositeLSTMCellBackward(gradH: Tensor, gradC: Tensor, act: Tensor, tanhC t: Tensor, cx: Tensor,
                                          dgates: Tensor, dcx: Tensor) {
        noGrad {
            let a = act.chunk(4, dim: -1)
            let i = a[0], f = a[1], gg = a[2], o = a[3]
            let dc = gradC + gradH * o * (1 - t * t)
            copy(cat([dc * gg * i * (1 - i), dc * cx * f * (1 - f), dc * i * (1 - gg * gg), gradH * t * o * (1 - o)], dim: -1),
                 into: dgates)
            copy(dc * f, into: dcx)
        }
    }
}
