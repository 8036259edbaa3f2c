// The recurrent layers' BPTT written with Tensor ops: differentiable (the backward under `createGraph`), and run
// under noGrad it is the composite backward of every backend (`Backend.recurrentSequenceBackward`).

/// The gradients of one GRU direction: input, weights, biases and initial state.
typealias GRUGrads = (dx: Tensor?, dwih: Tensor, dwhh: Tensor, dbih: Tensor, dbhh: Tensor, dh0: Tensor)

/// The gradients of one RNN direction: input, weights, bias (the same for both biases) and initial state.
typealias RNNGrads = (dx: Tensor?, dwih: Tensor, dwhh: Tensor, db: Tensor, dh0: Tensor)

/// The same BPTT in Tensor ops (differentiable, for `createGraph`): recomputes the forward step by step, then
/// runs the gradient back through time.
func lstmSequenceBackwardComposite(_ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?, bhh: Tensor?, h0: Tensor,
                                   c0: Tensor, reverse: Bool, gOut: Tensor, gH: Tensor, gC: Tensor)
    -> (dx: Tensor?, dwih: Tensor, dwhh: Tensor, db: Tensor, dh0: Tensor, dc0: Tensor) {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1]
    let x2 = x.reshape([steps * batch, features])
    var proj = matmul(x2, wih.t())
    if let bih { proj = proj + bih }
    if let bhh { proj = proj + bhh }
    let xs = proj.reshape([steps, batch, 4 * hid]).unbind(dim: 0)
    let whhT = whh.t()
    var h = h0, c = c0
    var hPrev = [Tensor](repeating: h0, count: steps), cPrev = hPrev, tcs = hPrev
    var gates = [[Tensor]](repeating: [], count: steps)
    for k in 0..<steps {
        let t = reverse ? steps - 1 - k : k
        hPrev[t] = h; cPrev[t] = c
        let ch = (xs[t] + matmul(h, whhT)).chunk(4, dim: -1)
        let i = ch[0].sigmoid(), f = ch[1].sigmoid(), g = ch[2].tanh(), o = ch[3].sigmoid()
        c = f * c + i * g
        tcs[t] = c.tanh()
        h = o * tcs[t]
        gates[t] = [i, f, g, o]
    }
    let gOuts = gOut.unbind(dim: 0)
    var dh = gH, dc = gC
    var dGs = [Tensor](repeating: gH, count: steps)
    for k in (0..<steps).reversed() {
        let t = reverse ? steps - 1 - k : k
        let i = gates[t][0], f = gates[t][1], g = gates[t][2], o = gates[t][3], tc = tcs[t]
        dh = dh + gOuts[t]
        let dct = dc + dh * o * (1 - tc * tc)
        dGs[t] = cat([dct * g * i * (1 - i), dct * cPrev[t] * f * (1 - f), dct * i * (1 - g * g), dh * tc * o * (1 - o)], dim: -1)
        dc = dct * f
        dh = matmul(dGs[t], whh)
    }
    let dG = stack(dGs, dim: 0).reshape([steps * batch, 4 * hid])
    let hp = stack(hPrev, dim: 0).reshape([steps * batch, hid])
    let dx = matmul(dG, wih).reshape([steps, batch, features])
    return (dx, matmul(dG.t(), x2), matmul(dG.t(), hp), dG.sum(dim: 0), dh, dc)
}

/// The same BPTT in Tensor ops (differentiable, for `createGraph`): recomputes the forward step by step, then runs
/// the gradient back through time.
func gruSequenceBackwardComposite(_ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?, bhh: Tensor?, h0: Tensor,
                                  reverse: Bool, gOut: Tensor, gH: Tensor) -> GRUGrads {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1]
    let x2 = x.reshape([steps * batch, features])
    var proj = matmul(x2, wih.t())
    if let bih { proj = proj + bih }
    let xs = proj.reshape([steps, batch, 3 * hid]).unbind(dim: 0)
    let whhT = whh.t()
    var h = h0
    var hPrev = [Tensor](repeating: h0, count: steps)
    var saved = [[Tensor]](repeating: [], count: steps)
    for k in 0..<steps {
        let t = reverse ? steps - 1 - k : k
        hPrev[t] = h
        var gh = matmul(h, whhT)
        if let bhh { gh = gh + bhh }
        let xc = xs[t].chunk(3, dim: -1), hc = gh.chunk(3, dim: -1)
        let r = (xc[0] + hc[0]).sigmoid(), z = (xc[1] + hc[1]).sigmoid(), n = (xc[2] + r * hc[2]).tanh()
        h = n + z * (h - n)
        saved[t] = [r, z, n, hc[2]]
    }
    let gOuts = gOut.unbind(dim: 0)
    var dh = gH
    var dGx = [Tensor](repeating: gH, count: steps), dGh = dGx
    for k in (0..<steps).reversed() {
        let t = reverse ? steps - 1 - k : k
        let r = saved[t][0], z = saved[t][1], n = saved[t][2], hn = saved[t][3]
        dh = dh + gOuts[t]
        let dnp = dh * (1 - z) * (1 - n * n), dzp = dh * (hPrev[t] - n) * z * (1 - z), drp = dnp * hn * r * (1 - r)
        dGx[t] = cat([drp, dzp, dnp], dim: -1)
        dGh[t] = cat([drp, dzp, dnp * r], dim: -1)
        dh = dh * z + matmul(dGh[t], whh)
    }
    let gx = stack(dGx, dim: 0).reshape([steps * batch, 3 * hid]), gh = stack(dGh, dim: 0).reshape([steps * batch, 3 * hid])
    let hp = stack(hPrev, dim: 0).reshape([steps * batch, hid])
    let dx = matmul(gx, wih).reshape([steps, batch, features])
    return (dx, matmul(gx.t(), x2), matmul(gh.t(), hp), gx.sum(dim: 0), gh.sum(dim: 0), dh)
}

/// The same BPTT in Tensor ops (differentiable, for `createGraph`): recomputes the forward, then runs the
/// gradient back through time.
func rnnSequenceBackwardComposite(_ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?, bhh: Tensor?, h0: Tensor,
                                  relu: Bool, reverse: Bool, gOut: Tensor, gH: Tensor) -> RNNGrads {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1]
    let x2 = x.reshape([steps * batch, features])
    var proj = matmul(x2, wih.t())
    if let bih { proj = proj + bih }
    if let bhh { proj = proj + bhh }
    let xs = proj.reshape([steps, batch, hid]).unbind(dim: 0)
    let whhT = whh.t()
    var h = h0
    var hPrev = [Tensor](repeating: h0, count: steps), hOut = hPrev
    for k in 0..<steps {
        let t = reverse ? steps - 1 - k : k
        hPrev[t] = h
        let pre = xs[t] + matmul(h, whhT)
        h = relu ? pre.relu() : pre.tanh()
        hOut[t] = h
    }
    let gOuts = gOut.unbind(dim: 0)
    var dh = gH
    var dGs = [Tensor](repeating: gH, count: steps)
    for k in (0..<steps).reversed() {
        let t = reverse ? steps - 1 - k : k
        let d = dh + gOuts[t]
        dGs[t] = relu ? d * hOut[t].gt(0).to(d.dtype) : d * (1 - hOut[t] * hOut[t])
        dh = matmul(dGs[t], whh)
    }
    let dG = stack(dGs, dim: 0).reshape([steps * batch, hid]), hp = stack(hPrev, dim: 0).reshape([steps * batch, hid])
    let dx = matmul(dG, wih).reshape([steps, batch, features])
    return (dx, matmul(dG.t(), x2), matmul(dG.t(), hp), dG.sum(dim: 0), dh)
}

/// The LSTM cell update from pre-activation gates: `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`,
/// gates in PyTorch's order (i, f, g, o) along the last dim. Written with Tensor ops (any device, any float dtype).
func lstmPointwiseComposed(_ gates: Tensor, _ cx: Tensor) -> (h: Tensor, c: Tensor) {
    let ch = gates.chunk(4, dim: -1)
    let i = ch[0].sigmoid(), f = ch[1].sigmoid(), g = ch[2].tanh(), o = ch[3].sigmoid()
    let c = f * cx + i * g
    return (o * c.tanh(), c)
}
