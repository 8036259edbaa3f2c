// One direction of one Elman RNN layer (tanh or ReLU) over a whole sequence as a single autograd op, run like the
// LSTM's (RecurrentFused.swift): one block of batch rows per core runs every step, with g = x_t W_ihᵀ + h_prev W_hhᵀ
// against weights packed once and one fused activation kernel; the outputs are all backward needs. Backward is a
// hand-written BPTT over the same blocks, and with `createGraph` the same BPTT in Tensor ops.

/// What one forward keeps for backward (contiguous, time-major; `hs` laid out as `RecurrentStates`).
struct RNNSaved {
    let x: Tensor, wih: Tensor, whh: Tensor, hs: Tensor
    let steps: Int, batch: Int, features: Int, hidden: Int, relu: Bool, reverse: Bool, zeroState: Bool
}

/// The fused RNN forward over one direction: outputs, final state and the buffers the fused BPTT reads.
func rnnSequenceForward<T: RecurrentKernelScalar>(_: T.Type, _ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?,
                                                  bhh: Tensor?, h0: Tensor, relu: Bool, reverse: Bool,
                                                  zeroState: Bool) -> (out: Tensor, h: Tensor, saved: RNNSaved) {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1], dt = x.dtype
    let (xc, wihc, whhc, h0c, bias) = noGrad { () -> (Tensor, Tensor, Tensor, Tensor, Tensor) in
        var b = Tensor.zeros([hid], dtype: dt, device: .cpu)
        if let bih { b = bih.contiguous() }
        if let bhh { b = b + bhh }
        return (x.contiguous(), wih.contiguous(), whh.contiguous(), h0.contiguous(), b.contiguous())
    }
    let hs = Tensor(empty: [steps + 1, batch, hid], dtype: dt, device: .cpu), hN = Tensor(empty: [batch, hid], dtype: dt, device: .cpu)
    let bh = batch * hid
    let states = RecurrentStates<T>(hs, reverse: reverse)
    let xp = xc.unsafeMutablePointer(T.self), bp = bias.unsafeMutablePointer(T.self)
    states.initial.update(from: h0c.unsafeMutablePointer(T.self), count: bh)
    let wihT = recurrentPack(wihc.unsafeMutablePointer(T.self), rows: hid, cols: features, transpose: true)
    let whhT = recurrentPack(whhc.unsafeMutablePointer(T.self), rows: hid, cols: hid, transpose: true)
    defer { wihT.deallocate(); whhT.deallocate() }
    recurrentSplit(batch, recurrentParts(batch: batch, macs: steps * batch * hid * (hid + features))) { _, r0, rows in
        let g = UnsafeMutablePointer<T>.allocate(capacity: rows * hid)
        defer { g.deallocate() }
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let hPrev = states.before(t, row: r0), hOut = states.after(t, row: r0)
            T.gemmPacked(m: rows, n: hid, k: features, a: xp + (t * batch + r0) * features, lda: features, transA: false,
                         packedB: wihT, accumulate: false, c: g, ldc: hid)
            if s > 0 || !zeroState {
                T.gemmPacked(m: rows, n: hid, k: hid, a: hPrev, lda: hid, transA: false, packedB: whhT, accumulate: true,
                             c: g, ldc: hid)
            }
            T.rnnForward(g: g, bias: bp, h: hOut, rows: rows, hidden: hid, relu: relu)
        }
    }
    hN.unsafeMutablePointer(T.self).update(from: states.final, count: bh)
    let out = recurrentOutputs(hs, reverse: reverse)
    let saved = RNNSaved(x: xc, wih: wihc, whh: whhc, hs: hs, steps: steps, batch: batch, features: features,
                         hidden: hid, relu: relu, reverse: reverse, zeroState: zeroState)
    return (out, hN, saved)
}


/// The fused BPTT. Each part runs all steps (latest first) over its batch rows: the activation's backward, the
/// step's weight-gradient products, then `dh = dg·W_hh` for the step before.
func rnnSequenceBackwardFused<T: RecurrentKernelScalar>(_: T.Type, _ s: RNNSaved, gOut: Tensor, gH: Tensor,
                                                                 needX: Bool, needH0: Bool) -> RNNGrads {
    let steps = s.steps, batch = s.batch, hid = s.hidden, f = s.features, dt = s.x.dtype, bh = batch * hid
    let go = gOut.contiguous().to(dt), dh = gH.to(dt).contiguous().clone()
    let parts = recurrentParts(batch: batch, macs: steps * batch * hid * (hid + f))
    let dbParts = Tensor.zeros([parts, hid], dtype: dt, device: .cpu)
    let dwhhParts = Tensor.zeros([parts, hid, hid], dtype: dt, device: .cpu), dwihParts = Tensor.zeros([parts, hid, f], dtype: dt, device: .cpu)
    let dx = needX ? Tensor(empty: [steps, batch, f], dtype: dt, device: .cpu) : nil
    let states = RecurrentStates<T>(s.hs, reverse: s.reverse), xp = s.x.unsafeMutablePointer(T.self)
    let gop = go.unsafeMutablePointer(T.self), dhp = dh.unsafeMutablePointer(T.self), dxp = dx?.unsafeMutablePointer(T.self)
    let dbp = dbParts.unsafeMutablePointer(T.self)
    let dwhhp = dwhhParts.unsafeMutablePointer(T.self), dwihp = dwihParts.unsafeMutablePointer(T.self)
    let whh = recurrentPack(s.whh.unsafeMutablePointer(T.self), rows: hid, cols: hid, transpose: false)
    let wih = recurrentPack(s.wih.unsafeMutablePointer(T.self), rows: hid, cols: f, transpose: false)
    defer { whh.deallocate(); wih.deallocate() }
    recurrentSplit(batch, parts) { p, r0, rows in
        let dhRows = dhp + r0 * hid
        let dg = UnsafeMutablePointer<T>.allocate(capacity: rows * hid)
        let rowsPacked = UnsafeMutablePointer<T>.allocate(capacity: T.packedSize(k: rows, n: max(hid, f)))
        defer { dg.deallocate(); rowsPacked.deallocate() }
        for k in (0..<steps).reversed() {
            let t = s.reverse ? steps - 1 - k : k
            T.rnnBackward(h: states.after(t, row: r0), dhRec: dhRows, gOut: gop + t * bh + r0 * hid,
                          dg: dg, dBias: dbp + p * hid, rows: rows, hidden: hid, relu: s.relu)
            recurrentStepGradients(dgx: dg, dgh: dg, width: hid, rows: rows, hidden: hid, features: f,
                                   hPrev: k > 0 || !s.zeroState ? states.before(t, row: r0) : nil,
                                   x: xp + (t * batch + r0) * f, packedWih: wih, scratch: rowsPacked,
                                   dwhh: dwhhp + p * hid * hid, dwih: dwihp + p * hid * f,
                                   dx: dxp.map { $0 + (t * batch + r0) * f })
            if k > 0 || needH0 {
                T.gemmPacked(m: rows, n: hid, k: hid, a: dg, lda: hid, transA: false, packedB: whh, accumulate: false,
                             c: dhRows, ldc: hid)
            }
        }
    }
    return (dx, sumOfParts(dwihParts, [hid, f]), sumOfParts(dwhhParts, [hid, hid]), sumOfParts(dbParts, [hid]), dh)
}

