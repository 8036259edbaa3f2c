// Whole-sequence recurrent ops (one direction of one LSTM, GRU or RNN layer as a single autograd op) and the
// fused LSTM cell update. The forward and the first-order backward are backend kernels
// (`Backend.recurrentSequence`, `Backend.lstmCell`); under `createGraph` the backward is the same BPTT in Tensor ops
// (RecurrentComposite.swift), so higher-order gradients work.

/// Whether an op on `inputs` must record for reverse or forward mode.
@inline(__always) package func recurrentNeedsRecord(_ inputs: [Tensor]) -> Bool {
    let grad = isGradEnabled
    for t in inputs where (grad && t.requiresGrad) || t.forwardGrad != nil { return true }
    return false
}

/// Whether `recurrentSequence` applies to `inputs`: one floating dtype and one device, no forward-mode tangents
/// (a step loop of ordinary ops handles those).
package func recurrentSequenceApplies(_ inputs: [Tensor]) -> Bool {
    let dt = inputs[0].dtype, dev = inputs[0].device
    guard dt.isFloatingPoint else { return false }
    for t in inputs where t.device != dev || t.dtype != dt || t.forwardGrad != nil { return false }
    return true
}

/// One direction of one recurrent layer over the whole sequence `inputs.x [T, B, F]` as one op: the outputs
/// `[T, B, H]`, the final `h` and (LSTM) `c`. Requires `recurrentSequenceApplies`.
package func recurrentSequence(_ inputs: RecurrentSequenceInputs) -> (output: Tensor, h: Tensor, c: Tensor?) {
    var run = inputs
    run.zeroState = inputs.zeroState && !inputs.h0.requiresGrad && !(inputs.c0?.requiresGrad ?? false)
    let r = inputs.x.backend.recurrentSequence(run)
    var all = [inputs.x, inputs.wih, inputs.whh]
    if let b = inputs.bih { all.append(b) }
    if let b = inputs.bhh { all.append(b) }
    all.append(inputs.h0)
    if let c0 = inputs.c0 { all.append(c0) }
    guard recurrentNeedsRecord(all) else { return (r.output, r.h, r.c) }
    let needs = all.map(\.requiresGrad), context = r.context
    let hasBih = inputs.bih != nil, hasBhh = inputs.bhh != nil, lstm = inputs.mode == .lstm
    let needH0 = needs[lstm ? needs.count - 2 : needs.count - 1]
    let op: String
    switch inputs.mode {
    case .lstm: op = "LstmSequenceBackward"
    case .gru: op = "GruSequenceBackward"
    case .rnnTanh, .rnnRelu: op = "RnnSequenceBackward"
    }
    let outs = [r.output, r.h] + (r.c.map { [$0] } ?? [])
    recordOutputs(outs, op: op, inputs: all, saving: [inputs.x, inputs.wih, inputs.whh]) { g, _ in
        let grads = isGradEnabled
            ? recurrentSequenceBackwardComposite(inputs, gradOutput: g[0], gradH: g[1], gradC: lstm ? g[2] : nil)
            : context.inputs.x.backend.recurrentSequenceBackward(context, gradOutput: g[0], gradH: g[1],
                                                                  gradC: lstm ? g[2] : nil, needInput: needs[0],
                                                                  needH0: needH0)
        var out: [Tensor?] = [needs[0] ? grads.x : nil, grads.wih, grads.whh]
        if hasBih { out.append(grads.bih) }
        if hasBhh { out.append(hasBih && grads.bih === grads.bhh ? grads.bhh.clone() : grads.bhh) }
        out.append(grads.h0)
        if lstm { out.append(grads.c0) }
        return out
    }
    return (r.output, r.h, r.c)
}

/// The BPTT of `recurrentSequence` in Tensor ops (recorded when grad mode is on).
func recurrentSequenceBackwardComposite(_ i: RecurrentSequenceInputs, gradOutput: Tensor, gradH: Tensor,
                                        gradC: Tensor?) -> RecurrentSequenceGradients {
    switch i.mode {
    case .lstm:
        let g = lstmSequenceBackwardComposite(i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0, c0: i.c0!,
                                              reverse: i.reverse, gOut: gradOutput, gH: gradH, gC: gradC!)
        return RecurrentSequenceGradients(x: g.dx, wih: g.dwih, whh: g.dwhh, bih: g.db, bhh: g.db, h0: g.dh0, c0: g.dc0)
    case .gru:
        let g = gruSequenceBackwardComposite(i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0,
                                             reverse: i.reverse, gOut: gradOutput, gH: gradH)
        return RecurrentSequenceGradients(x: g.dx, wih: g.dwih, whh: g.dwhh, bih: g.dbih, bhh: g.dbhh, h0: g.dh0, c0: nil)
    case .rnnTanh, .rnnRelu:
        let g = rnnSequenceBackwardComposite(i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0,
                                             relu: i.mode == .rnnRelu, reverse: i.reverse, gOut: gradOutput, gH: gradH)
        return RecurrentSequenceGradients(x: g.dx, wih: g.dwih, whh: g.dwhh, bih: g.db, bhh: g.db, h0: g.dh0, c0: nil)
    }
}

/// The slices of `x` along dim 0, as one recorded op whose backward stacks the gradients
/// (so a sequence of T steps costs one gradient buffer, not T zero-filled ones as `unbind` would).
package func timeSteps(_ x: Tensor) -> [Tensor] {
    let steps = noGrad { (0..<x.shape[0]).map { x.select(0, $0) } }
    guard recurrentNeedsRecord([x]) else { return steps }
    recordOutputs(steps, op: "UnbindBackward", inputs: [x]) { g, _ in [stack(g, dim: 0)] }
    return steps
}

/// The LSTM cell update from pre-activation `gates` [B, 4H] (i, f, g, o) and `cx` [B, H] as one op:
/// `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`. Other shapes or mixed dtypes take the composed form. Its
/// backward is itself differentiable (`createGraph: true` uses the composed formulas).
package func lstmCell(_ gates: Tensor, _ cx: Tensor) -> (h: Tensor, c: Tensor) {
    let dt = gates.dtype
    guard dt.isFloatingPoint, dt == cx.dtype, gates.device == cx.device, gates.rank == 2, cx.rank == 2,
          gates.shape[0] == cx.shape[0], gates.shape[1] == 4 * cx.shape[1] else {
        return lstmPointwiseComposed(gates, cx)
    }
    let dev = gates.device, backend = gates.backend
    let gc = gates.contiguousNoGrad(), cc = cx.contiguousNoGrad()
    let h = Tensor(empty: cx.shape, dtype: dt, device: dev), c = Tensor(empty: cx.shape, dtype: dt, device: dev)
    let act = Tensor(empty: gates.shape, dtype: dt, device: dev), tc = Tensor(empty: cx.shape, dtype: dt, device: dev)
    backend.lstmCell(gates: gc, cx: cc, h: h, c: c, act: act, tanhC: tc)
    guard recurrentNeedsRecord([gates, cx]) else { return (h, c) }
    recordOutputs([h, c], op: "LstmCellBackward", inputs: [gates, cx], saving: [gates, cx]) { g, _ in
        if !isGradEnabled {
            let gh = OpSupport.cast(g[0], dt).contiguousNoGrad(), gcn = OpSupport.cast(g[1], dt).contiguousNoGrad()
            let dgates = Tensor(empty: act.shape, dtype: dt, device: dev), dcx = Tensor(empty: cc.shape, dtype: dt, device: dev)
            backend.lstmCellBackward(gradH: gh, gradC: gcn, act: act, tanhC: tc, cx: cc, dgates: dgates, dcx: dcx)
            return [dgates, dcx]
        }
        // Differentiable form (higher-order gradients): the same formulas in Tensor ops.
        let ch = gates.chunk(4, dim: -1)
        let i = ch[0].sigmoid(), f = ch[1].sigmoid(), gg = ch[2].tanh(), o = ch[3].sigmoid()
        let cn = f * cx + i * gg
        let t = cn.tanh()
        let dc = g[1] + g[0] * o * (1 - t * t)
        let dgates = cat([dc * gg * i * (1 - i), dc * cx * f * (1 - f), dc * i * (1 - gg * gg), g[0] * t * o * (1 - o)], dim: -1)
        return [dgates, dc * f]
    }
    return (h, c)
}
