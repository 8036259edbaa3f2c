// One direction of one LSTM layer over a whole sequence as a single autograd op, the way cuDNN and PyTorch's
// CPU LSTM run it: the input projection of every step is one GEMM; each step is one GEMM accumulated into that
// step's slice (beta = 1) and one fused gate kernel that keeps what backward needs. Backward is a hand-written
// BPTT: one fused kernel and one GEMM per step, then dW_hh, dW_ih and dx as one GEMM each over all steps, and
// the bias gradient summed by the step kernels. With `createGraph` the backward is the same BPTT in Tensor ops.

/// Whether `lstmSequence` can run the fused kernels: CPU float32/float64 and no forward-mode tangents.
func lstmSequenceFusable(_ inputs: [Tensor]) -> Bool {
    let dt = inputs[0].dtype
    guard dt == .float32 || dt == .float64 else { return false }
    for t in inputs where t.device != .cpu || t.dtype != dt || t.forwardGrad != nil { return false }
    return true
}

/// One LSTM direction over `x [T, B, F]` from `h0`, `c0` (`[B, H]`), processing time backwards when `reverse`:
/// returns the outputs `[T, B, H]` and the final `h`, `c`. `zeroState` says that `h0` and `c0` are zeros that need
/// no gradient (the first step's recurrent GEMMs are skipped). Requires `lstmSequenceFusable`.
func lstmSequence(_ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?, bhh: Tensor?, h0: Tensor, c0: Tensor,
                  reverse: Bool, zeroState: Bool) -> (out: Tensor, h: Tensor, c: Tensor) {
    let zero = zeroState && !h0.requiresGrad && !c0.requiresGrad
    return x.dtype == .float32
        ? lstmSequenceTyped(Float.self, x, wih: wih, whh: whh, bih: bih, bhh: bhh, h0: h0, c0: c0, reverse: reverse, zeroState: zero)
        : lstmSequenceTyped(Double.self, x, wih: wih, whh: whh, bih: bih, bhh: bhh, h0: h0, c0: c0, reverse: reverse, zeroState: zero)
}

/// How many parts to split `rows` rows of `width` elements into (both cores only when the step is large).
private func lstmParts(rows: Int, width: Int) -> Int {
    rows * width < Parallel.grain || rows < 2 ? 1 : min(Parallel.threads, rows)
}

/// `body(part, firstRow, rowCount)` over `parts` contiguous row ranges of `rows`, concurrently.
@inline(__always) private func lstmSplit(_ rows: Int, _ parts: Int, _ body: (Int, Int, Int) -> Void) {
    if parts == 1 { body(0, 0, rows); return }
    Parallel.run(parts) { p in
        let lo = rows * p / parts, hi = rows * (p + 1) / parts
        if lo < hi { body(p, lo, hi - lo) }
    }
}

/// The buffers one forward keeps for backward (all contiguous, time-major; `hs` has one extra slot for `h0`:
/// the state before step `t` sits in slot `t` going forward, `t + 1` going backwards).
private struct LSTMSaved {
    let x: Tensor, wih: Tensor, whh: Tensor, c0: Tensor
    let act: Tensor, cs: Tensor, tcs: Tensor, hs: Tensor
    let steps: Int, batch: Int, features: Int, hidden: Int, reverse: Bool, zeroState: Bool
}

private func lstmSequenceTyped<T: RecurrentKernelScalar>(_: T.Type, _ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?,
                                                          bhh: Tensor?, h0: Tensor, c0: Tensor, reverse: Bool,
                                                          zeroState: Bool) -> (out: Tensor, h: Tensor, c: Tensor) {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1], g4 = 4 * hid, dt = x.dtype
    let (xc, wihc, whhc, h0c, c0c, bias) = noGrad { () -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) in
        var b = Tensor.zeros([g4], dtype: dt)
        if let bih { b = bih.contiguous() }
        if let bhh { b = b + bhh }
        return (x.contiguous(), wih.contiguous(), whh.contiguous(), h0.contiguous(), c0.contiguous(), b.contiguous())
    }
    let act = Tensor(empty: [steps, batch, g4], dtype: dt)
    let cs = Tensor(empty: [steps, batch, hid], dtype: dt), tcs = Tensor(empty: [steps, batch, hid], dtype: dt)
    let hs = Tensor(empty: [steps + 1, batch, hid], dtype: dt)
    let hN = Tensor(empty: [batch, hid], dtype: dt), cN = Tensor(empty: [batch, hid], dtype: dt)
    let bh = batch * hid, bg = batch * g4
    let ap = act.unsafeMutablePointer(T.self), cp = cs.unsafeMutablePointer(T.self), tp = tcs.unsafeMutablePointer(T.self)
    let hp = hs.unsafeMutablePointer(T.self), c0p = c0c.unsafeMutablePointer(T.self)
    let whhp = whhc.unsafeMutablePointer(T.self), bp = bias.unsafeMutablePointer(T.self)
    (hp + (reverse ? steps * bh : 0)).update(from: h0c.unsafeMutablePointer(T.self), count: bh)
    // All input projections at once: act = x Wᵢₕᵀ (the biases are added by the step kernel).
    T.gemm(transA: false, transB: true, m: steps * batch, n: g4, k: features, alpha: 1, a: xc.unsafeMutablePointer(T.self),
           lda: features, b: wihc.unsafeMutablePointer(T.self), ldb: features, beta: 0, c: ap, ldc: g4)
    let parts = lstmParts(rows: batch, width: g4)
    for s in 0..<steps {
        let t = reverse ? steps - 1 - s : s
        let hPrev = hp + (reverse ? t + 1 : t) * bh, hOut = hp + (reverse ? t : t + 1) * bh
        let cPrev = s == 0 ? c0p : cp + (reverse ? t + 1 : t - 1) * bh
        let g = ap + t * bg
        if s > 0 || !zeroState {
            T.gemm(transA: false, transB: true, m: batch, n: g4, k: hid, alpha: 1, a: hPrev, lda: hid, b: whhp, ldb: hid,
                   beta: 1, c: g, ldc: g4)
        }
        lstmSplit(batch, parts) { _, r0, rows in
            T.lstmForward(gates: g + r0 * g4, bias: bp, cPrev: cPrev + r0 * hid, c: cp + t * bh + r0 * hid,
                          tanhC: tp + t * bh + r0 * hid, h: hOut + r0 * hid, rows: rows, hidden: hid)
        }
    }
    let last = reverse ? 0 : steps - 1
    hN.unsafeMutablePointer(T.self).update(from: hp + (reverse ? 0 : steps) * bh, count: bh)
    cN.unsafeMutablePointer(T.self).update(from: cp + last * bh, count: bh)
    let out = noGrad { hs.narrow(0, start: reverse ? 0 : 1, length: steps) }
    var inputs = [x, wih, whh]
    if let bih { inputs.append(bih) }
    if let bhh { inputs.append(bhh) }
    inputs += [h0, c0]
    guard recurrentNeedsRecord(inputs) else { return (out, hN, cN) }
    let saved = LSTMSaved(x: xc, wih: wihc, whh: whhc, c0: c0c, act: act, cs: cs, tcs: tcs, hs: hs,
                          steps: steps, batch: batch, features: features, hidden: hid, reverse: reverse,
                          zeroState: zeroState)
    let needs = inputs.map(\.requiresGrad)
    let hasBih = bih != nil, hasBhh = bhh != nil
    recordOutputs([out, hN, cN], op: "LstmSequenceBackward", inputs: inputs, saving: [x, hs]) { g, _ in
        let grads: (dx: Tensor?, dwih: Tensor, dwhh: Tensor, db: Tensor, dh0: Tensor, dc0: Tensor)
        if isGradEnabled {
            grads = lstmSequenceBackwardComposite(x, wih: wih, whh: whh, bih: bih, bhh: bhh, h0: h0, c0: c0,
                                                  reverse: reverse, gOut: g[0], gH: g[1], gC: g[2])
        } else {
            grads = lstmSequenceBackwardFused(T.self, saved, gOut: g[0], gH: g[1], gC: g[2], needX: needs[0],
                                              needH0: needs[needs.count - 2])
        }
        var r: [Tensor?] = [needs[0] ? grads.dx : nil, grads.dwih, grads.dwhh]
        if hasBih { r.append(grads.db) }
        if hasBhh { r.append(hasBih ? grads.db.clone() : grads.db) }
        r += [grads.dh0, grads.dc0]
        return r
    }
    return (out, hN, cN)
}

/// The fused BPTT: per step (latest first) one gate kernel and one `dG·W_hh` GEMM, then the weight gradients and
/// `dx` as one GEMM each over all steps.
private func lstmSequenceBackwardFused<T: RecurrentKernelScalar>(_: T.Type, _ s: LSTMSaved, gOut: Tensor, gH: Tensor,
                                                                  gC: Tensor, needX: Bool, needH0: Bool)
    -> (dx: Tensor?, dwih: Tensor, dwhh: Tensor, db: Tensor, dh0: Tensor, dc0: Tensor) {
    let steps = s.steps, batch = s.batch, hid = s.hidden, g4 = 4 * hid, f = s.features, dt = s.x.dtype
    let bh = batch * hid, bg = batch * g4
    let go = gOut.contiguous().to(dt)
    let dh = gH.to(dt).contiguous().clone(), dc = gC.to(dt).contiguous().clone()
    let dG = Tensor(empty: [steps, batch, g4], dtype: dt)
    let parts = lstmParts(rows: batch, width: g4)
    let dbParts = Tensor.zeros([parts, g4], dtype: dt)
    let ap = s.act.unsafeMutablePointer(T.self), cp = s.cs.unsafeMutablePointer(T.self), tp = s.tcs.unsafeMutablePointer(T.self)
    let gop = go.unsafeMutablePointer(T.self), dhp = dh.unsafeMutablePointer(T.self), dcp = dc.unsafeMutablePointer(T.self)
    let dgp = dG.unsafeMutablePointer(T.self), dbp = dbParts.unsafeMutablePointer(T.self)
    let c0p = s.c0.unsafeMutablePointer(T.self), whhp = s.whh.unsafeMutablePointer(T.self)
    for k in (0..<steps).reversed() {
        let t = s.reverse ? steps - 1 - k : k
        let cPrev = k == 0 ? c0p : cp + (s.reverse ? t + 1 : t - 1) * bh
        let dg = dgp + t * bg
        lstmSplit(batch, parts) { p, r0, rows in
            T.lstmBackward(act: ap + t * bg + r0 * g4, tanhC: tp + t * bh + r0 * hid, cPrev: cPrev + r0 * hid,
                           dhRec: dhp + r0 * hid, gOut: gop + t * bh + r0 * hid, dc: dcp + r0 * hid,
                           dGates: dg + r0 * g4, dBias: dbp + p * g4, rows: rows, hidden: hid)
        }
        // dh of the previous state = dG_t · W_hh (for k == 0 that is dh0).
        if k > 0 || needH0 {
            T.gemm(transA: false, transB: false, m: batch, n: hid, k: g4, alpha: 1, a: dg, lda: g4, b: whhp, ldb: hid,
                   beta: 0, c: dhp, ldc: hid)
        }
    }
    // dW_hh = Σ_t dG_tᵀ h_prev(t): the state before step t sits in slot t going forward, t + 1 going backwards;
    // a zero initial state contributes nothing, so its step is left out.
    let hp = s.hs.unsafeMutablePointer(T.self)
    let dwhh = Tensor.zeros([g4, hid], dtype: dt), dwih = Tensor(empty: [g4, f], dtype: dt)
    let skip = s.zeroState ? 1 : 0
    if steps > skip {
        let dgStart = s.zeroState && !s.reverse ? dgp + bg : dgp
        let hStart = hp + (s.reverse || s.zeroState ? bh : 0)
        T.gemm(transA: true, transB: false, m: g4, n: hid, k: (steps - skip) * batch, alpha: 1, a: dgStart, lda: g4,
               b: hStart, ldb: hid, beta: 0, c: dwhh.unsafeMutablePointer(T.self), ldc: hid)
    }
    let xp = s.x.unsafeMutablePointer(T.self)
    T.gemm(transA: true, transB: false, m: g4, n: f, k: steps * batch, alpha: 1, a: dgp, lda: g4, b: xp, ldb: f,
           beta: 0, c: dwih.unsafeMutablePointer(T.self), ldc: f)
    var dx: Tensor? = nil
    if needX {
        let d = Tensor(empty: [steps, batch, f], dtype: dt)
        T.gemm(transA: false, transB: false, m: steps * batch, n: f, k: g4, alpha: 1, a: dgp, lda: g4,
               b: s.wih.unsafeMutablePointer(T.self), ldb: f, beta: 0, c: d.unsafeMutablePointer(T.self), ldc: f)
        dx = d
    }
    let db = parts == 1 ? dbParts.reshape([g4]) : dbParts.sum(dim: 0)
    return (dx, dwih, dwhh, db, dh, dc)
}

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
