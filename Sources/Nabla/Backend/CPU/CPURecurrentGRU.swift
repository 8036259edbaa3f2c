// One direction of one GRU layer over a whole sequence as a single autograd op, run like the LSTM's
// (RecurrentFused.swift): the batch is split into one block of rows per core, and each block runs every step on its
// own, with x_t W_ihᵀ and h_prev W_hhᵀ against weights packed once, then one fused gate kernel that keeps
// (r, z, n, h_n) for backward. Backward is a hand-written BPTT over the same blocks. With `createGraph` the
// backward is the same BPTT in Tensor ops.

/// The buffers one forward keeps for backward (contiguous, time-major; `hs` laid out as `RecurrentStates`).
struct GRUSaved {
    let x: Tensor, wih: Tensor, whh: Tensor, act: Tensor, hs: Tensor
    let steps: Int, batch: Int, features: Int, hidden: Int, reverse: Bool, zeroState: Bool
}

/// The fused GRU forward over one direction: outputs, final state and the buffers the fused BPTT reads.
func gruSequenceForward<T: RecurrentKernelScalar>(_: T.Type, _ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?,
                                                  bhh: Tensor?, h0: Tensor, reverse: Bool,
                                                  zeroState: Bool) -> (out: Tensor, h: Tensor, saved: GRUSaved) {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1], g3 = 3 * hid, dt = x.dtype
    let (xc, wihc, whhc, h0c, bi, bh) = noGrad { () -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) in
        (x.contiguous(), wih.contiguous(), whh.contiguous(), h0.contiguous(),
         bih?.contiguous() ?? Tensor.zeros([g3], dtype: dt, device: .cpu), bhh?.contiguous() ?? Tensor.zeros([g3], dtype: dt, device: .cpu))
    }
    let act = Tensor(empty: [steps, batch, 4 * hid], dtype: dt, device: .cpu), hs = Tensor(empty: [steps + 1, batch, hid], dtype: dt, device: .cpu)
    let hN = Tensor(empty: [batch, hid], dtype: dt, device: .cpu)
    let bh3 = batch * hid, b4 = batch * 4 * hid
    let ap = act.unsafeMutablePointer(T.self), xp = xc.unsafeMutablePointer(T.self)
    let states = RecurrentStates<T>(hs, reverse: reverse)
    let bip = bi.unsafeMutablePointer(T.self), bhp = bh.unsafeMutablePointer(T.self)
    states.initial.update(from: h0c.unsafeMutablePointer(T.self), count: bh3)
    let wihT = recurrentPack(wihc.unsafeMutablePointer(T.self), rows: g3, cols: features, transpose: true)
    let whhT = recurrentPack(whhc.unsafeMutablePointer(T.self), rows: g3, cols: hid, transpose: true)
    defer { wihT.deallocate(); whhT.deallocate() }
    recurrentSplit(batch, recurrentParts(batch: batch, macs: steps * batch * g3 * (hid + features))) { _, r0, rows in
        let gx = UnsafeMutablePointer<T>.allocate(capacity: rows * g3), gh = UnsafeMutablePointer<T>.allocate(capacity: rows * g3)
        defer { gx.deallocate(); gh.deallocate() }
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let hPrev = states.before(t, row: r0), hOut = states.after(t, row: r0)
            T.gemmPacked(m: rows, n: g3, k: features, a: xp + (t * batch + r0) * features, lda: features, transA: false,
                         packedB: wihT, accumulate: false, c: gx, ldc: g3)
            if s > 0 || !zeroState {
                T.gemmPacked(m: rows, n: g3, k: hid, a: hPrev, lda: hid, transA: false, packedB: whhT, accumulate: false,
                             c: gh, ldc: g3)
            } else {
                gh.update(repeating: 0, count: rows * g3)
            }
            T.gruForward(gx: gx, gh: gh, bih: bip, bhh: bhp, hPrev: hPrev, act: ap + t * b4 + r0 * 4 * hid, h: hOut,
                         rows: rows, hidden: hid)
        }
    }
    hN.unsafeMutablePointer(T.self).update(from: states.final, count: bh3)
    let out = recurrentOutputs(hs, reverse: reverse)
    let saved = GRUSaved(x: xc, wih: wihc, whh: whhc, act: act, hs: hs, steps: steps, batch: batch,
                         features: features, hidden: hid, reverse: reverse, zeroState: zeroState)
    return (out, hN, saved)
}


/// The fused BPTT. Each part runs all steps (latest first) over its batch rows: the gate kernel, then the step's
/// products — `dgh·W_hh` added to the direct part of the previous state's gradient, `dgx·W_ih` for `dx`, and
/// `dghᵀ h_prev`, `dgxᵀ x_t` added to the part's own weight gradients, which are summed over the parts at the end.
func gruSequenceBackwardFused<T: RecurrentKernelScalar>(_: T.Type, _ s: GRUSaved, gOut: Tensor, gH: Tensor,
                                                                 needX: Bool, needH0: Bool) -> GRUGrads {
    let steps = s.steps, batch = s.batch, hid = s.hidden, g3 = 3 * hid, f = s.features, dt = s.x.dtype
    let bh3 = batch * hid, b4 = batch * 4 * hid
    let go = gOut.contiguous().to(dt), dh = gH.to(dt).contiguous().clone()
    let parts = recurrentParts(batch: batch, macs: steps * batch * g3 * (hid + f))
    let dbihParts = Tensor.zeros([parts, g3], dtype: dt, device: .cpu), dbhhParts = Tensor.zeros([parts, g3], dtype: dt, device: .cpu)
    let dwhhParts = Tensor.zeros([parts, g3, hid], dtype: dt, device: .cpu), dwihParts = Tensor.zeros([parts, g3, f], dtype: dt, device: .cpu)
    let dx = needX ? Tensor(empty: [steps, batch, f], dtype: dt, device: .cpu) : nil
    let ap = s.act.unsafeMutablePointer(T.self), xp = s.x.unsafeMutablePointer(T.self)
    let states = RecurrentStates<T>(s.hs, reverse: s.reverse)
    let gop = go.unsafeMutablePointer(T.self), dhp = dh.unsafeMutablePointer(T.self), dxp = dx?.unsafeMutablePointer(T.self)
    let dbip = dbihParts.unsafeMutablePointer(T.self), dbhp = dbhhParts.unsafeMutablePointer(T.self)
    let dwhhp = dwhhParts.unsafeMutablePointer(T.self), dwihp = dwihParts.unsafeMutablePointer(T.self)
    let whh = recurrentPack(s.whh.unsafeMutablePointer(T.self), rows: g3, cols: hid, transpose: false)
    let wih = recurrentPack(s.wih.unsafeMutablePointer(T.self), rows: g3, cols: f, transpose: false)
    defer { whh.deallocate(); wih.deallocate() }
    recurrentSplit(batch, parts) { p, r0, rows in
        let dhRows = dhp + r0 * hid, dwhhPart = dwhhp + p * g3 * hid, dwihPart = dwihp + p * g3 * f
        let dgx = UnsafeMutablePointer<T>.allocate(capacity: rows * g3), dgh = UnsafeMutablePointer<T>.allocate(capacity: rows * g3)
        let rowsPacked = UnsafeMutablePointer<T>.allocate(capacity: T.packedSize(k: rows, n: max(hid, f)))
        defer { dgx.deallocate(); dgh.deallocate(); rowsPacked.deallocate() }
        for k in (0..<steps).reversed() {
            let t = s.reverse ? steps - 1 - k : k
            let hPrev = states.before(t, row: r0)
            T.gruBackward(act: ap + t * b4 + r0 * 4 * hid, hPrev: hPrev, dh: dhRows, gOut: gop + t * bh3 + r0 * hid,
                          dgx: dgx, dgh: dgh, dbih: dbip + p * g3, dbhh: dbhp + p * g3, rows: rows, hidden: hid)
            recurrentStepGradients(dgx: dgx, dgh: dgh, width: g3, rows: rows, hidden: hid, features: f,
                                   hPrev: k > 0 || !s.zeroState ? hPrev : nil, x: xp + (t * batch + r0) * f,
                                   packedWih: wih, scratch: rowsPacked, dwhh: dwhhPart, dwih: dwihPart,
                                   dx: dxp.map { $0 + (t * batch + r0) * f })
            // The previous state's gradient: dh·z (left in dhRows by the kernel) + dgh·W_hh.
            if k > 0 || needH0 {
                T.gemmPacked(m: rows, n: hid, k: g3, a: dgh, lda: g3, transA: false, packedB: whh, accumulate: true,
                             c: dhRows, ldc: hid)
            }
        }
    }
    return (dx, sumOfParts(dwihParts, [g3, f]), sumOfParts(dwhhParts, [g3, hid]), sumOfParts(dbihParts, [g3]),
            sumOfParts(dbhhParts, [g3]), dh)
}

