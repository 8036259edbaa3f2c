// The CPU's fused LSTM over a whole sequence (one direction of one layer), behind `Backend.recurrentSequence`. Batch rows never meet in the
// recurrence, so the batch is split into one block of rows per core and each block runs every step on its own,
// with no sync between steps: per step one product with W_ih and one with W_hh, both packed once per call
// (`gemmPacked`; BLAS would repack them and wake its threads at every step), then one fused gate kernel that keeps
// what backward needs. Backward is a hand-written BPTT over the same row blocks: the gate kernel, then per step the
// products for dh, dx and each block's own weight gradients, summed at the end. With `createGraph` the backward
// is the same BPTT in Tensor ops.

/// How many parts to split the `batch` rows of a whole sequence into. Batch rows never meet in the recurrence, so
/// each part runs every step of its rows with no sync; both cores are used once a sequence is worth a fork
/// (`macs` multiply-adds in its recurrent products).
func recurrentParts(batch: Int, macs: Int) -> Int {
    batch < 2 || macs < 1 << 20 ? 1 : min(Parallel.threads, batch)
}

/// A weight packed once for `gemmPacked` (freed by the caller with `deallocate()`): `w` is `rows`×`cols`, and the
/// packed matrix is `w` itself (`k = rows`, `n = cols`), or `wᵀ` when `transpose`.
func recurrentPack<T: RecurrentKernelScalar>(_ w: UnsafePointer<T>, rows: Int, cols: Int, transpose: Bool)
    -> UnsafeMutablePointer<T> {
    let k = transpose ? cols : rows, n = transpose ? rows : cols
    let packed = UnsafeMutablePointer<T>.allocate(capacity: T.packedSize(k: k, n: n))
    T.packB(w, ldb: cols, transB: transpose, k: k, n: n, into: packed)
    return packed
}

/// One step's products for the weight and input gradients over a block of `rows` batch rows, from the step's
/// pre-activation gradients on the input side `dgx` and the hidden side `dgh` ([rows, width]; the same buffer for
/// an LSTM): `dW_hh += dghᵀ h_prev` (left out when `hPrev` is nil, a zero initial state), `dW_ih += dgxᵀ x_t`, and
/// `dx_t = dgx · W_ih` when `dx` is given. `scratch` holds `packedSize(k: rows, n: max(hidden, features))`.
func recurrentStepGradients<T: RecurrentKernelScalar>(dgx: UnsafePointer<T>, dgh: UnsafePointer<T>, width: Int, rows: Int,
                                                      hidden: Int, features: Int, hPrev: UnsafePointer<T>?,
                                                      x: UnsafePointer<T>, packedWih: UnsafePointer<T>,
                                                      scratch: UnsafeMutablePointer<T>, dwhh: UnsafeMutablePointer<T>,
                                                      dwih: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?) {
    if let hPrev {
        T.packB(hPrev, ldb: hidden, transB: false, k: rows, n: hidden, into: scratch)
        T.gemmPacked(m: width, n: hidden, k: rows, a: dgh, lda: width, transA: true, packedB: scratch, accumulate: true,
                     c: dwhh, ldc: hidden)
    }
    T.packB(x, ldb: features, transB: false, k: rows, n: features, into: scratch)
    T.gemmPacked(m: width, n: features, k: rows, a: dgx, lda: width, transA: true, packedB: scratch, accumulate: true,
                 c: dwih, ldc: features)
    if let dx {
        T.gemmPacked(m: rows, n: features, k: width, a: dgx, lda: width, transA: false, packedB: packedWih,
                     accumulate: false, c: dx, ldc: features)
    }
}

/// The hidden states `hs [T + 1, B, H]` of one direction: the state before step `t` sits in slot `t` going forward
/// and `t + 1` going backwards, so `h0` fills slot 0 (or `T`) and the step outputs fill the others.
struct RecurrentStates<T: RecurrentKernelScalar> {
    let base: UnsafeMutablePointer<T>, steps: Int, batch: Int, hidden: Int, reverse: Bool

    init(_ hs: Tensor, reverse: Bool) {
        base = hs.unsafeMutablePointer(T.self)
        steps = hs.shape[0] - 1; batch = hs.shape[1]; hidden = hs.shape[2]
        self.reverse = reverse
    }

    /// Row `row` of the state step `t` starts from.
    func before(_ t: Int, row: Int = 0) -> UnsafeMutablePointer<T> { base + ((reverse ? t + 1 : t) * batch + row) * hidden }
    /// Row `row` of the state step `t` produces.
    func after(_ t: Int, row: Int = 0) -> UnsafeMutablePointer<T> { base + ((reverse ? t : t + 1) * batch + row) * hidden }
    /// The initial state's slot.
    var initial: UnsafeMutablePointer<T> { base + (reverse ? steps : 0) * batch * hidden }
    /// The final state's slot.
    var final: UnsafeMutablePointer<T> { base + (reverse ? 0 : steps) * batch * hidden }
}

/// The step outputs `[T, B, H]` of `hs` (laid out as `RecurrentStates`): every slot but the initial state's.
func recurrentOutputs(_ hs: Tensor, reverse: Bool) -> Tensor {
    noGrad { hs.narrow(0, start: reverse ? 0 : 1, length: hs.shape[0] - 1) }
}

/// The sum over its leading dim of a per-part gradient buffer `[parts, ...]`, as `shape` (a reshape for one part).
func sumOfParts(_ t: Tensor, _ shape: [Int]) -> Tensor { t.shape[0] == 1 ? t.reshape(shape) : t.sum(dim: 0) }

/// `body(part, firstRow, rowCount)` over `parts` contiguous row ranges of `rows`, concurrently.
@inline(__always) func recurrentSplit(_ rows: Int, _ parts: Int, _ body: (Int, Int, Int) -> Void) {
    if parts == 1 { body(0, 0, rows); return }
    Parallel.run(parts) { p in
        let lo = rows * p / parts, hi = rows * (p + 1) / parts
        if lo < hi { body(p, lo, hi - lo) }
    }
}

/// The buffers one forward keeps for backward (all contiguous, time-major; `hs` laid out as `RecurrentStates`).
struct LSTMSaved {
    let x: Tensor, wih: Tensor, whh: Tensor, c0: Tensor
    let act: Tensor, cs: Tensor, tcs: Tensor, hs: Tensor
    let steps: Int, batch: Int, features: Int, hidden: Int, reverse: Bool, zeroState: Bool
}

/// The fused LSTM forward over one direction: outputs, final states and the buffers the fused BPTT reads.
func lstmSequenceForward<T: RecurrentKernelScalar>(_: T.Type, _ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor?,
                                                   bhh: Tensor?, h0: Tensor, c0: Tensor, reverse: Bool,
                                                   zeroState: Bool) -> (out: Tensor, h: Tensor, c: Tensor, saved: LSTMSaved) {
    let steps = x.shape[0], batch = x.shape[1], features = x.shape[2], hid = whh.shape[1], g4 = 4 * hid, dt = x.dtype
    let (xc, wihc, whhc, h0c, c0c, bias) = noGrad { () -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) in
        var b = Tensor.zeros([g4], dtype: dt, device: .cpu)
        if let bih { b = bih.contiguous() }
        if let bhh { b = b + bhh }
        return (x.contiguous(), wih.contiguous(), whh.contiguous(), h0.contiguous(), c0.contiguous(), b.contiguous())
    }
    let act = Tensor(empty: [steps, batch, g4], dtype: dt, device: .cpu)
    let cs = Tensor(empty: [steps, batch, hid], dtype: dt, device: .cpu), tcs = Tensor(empty: [steps, batch, hid], dtype: dt, device: .cpu)
    let hs = Tensor(empty: [steps + 1, batch, hid], dtype: dt, device: .cpu)
    let hN = Tensor(empty: [batch, hid], dtype: dt, device: .cpu), cN = Tensor(empty: [batch, hid], dtype: dt, device: .cpu)
    let bh = batch * hid, bg = batch * g4
    let ap = act.unsafeMutablePointer(T.self), cp = cs.unsafeMutablePointer(T.self), tp = tcs.unsafeMutablePointer(T.self)
    let states = RecurrentStates<T>(hs, reverse: reverse), c0p = c0c.unsafeMutablePointer(T.self)
    let bp = bias.unsafeMutablePointer(T.self), xp = xc.unsafeMutablePointer(T.self)
    states.initial.update(from: h0c.unsafeMutablePointer(T.self), count: bh)
    // Each part runs all steps over its batch rows: gates = x_t W_ihᵀ + h_prev W_hhᵀ against both weights packed
    // once, then the fused gate kernel (which adds the biases).
    let wihT = recurrentPack(wihc.unsafeMutablePointer(T.self), rows: g4, cols: features, transpose: true)
    let whhT = recurrentPack(whhc.unsafeMutablePointer(T.self), rows: g4, cols: hid, transpose: true)
    defer { wihT.deallocate(); whhT.deallocate() }
    recurrentSplit(batch, recurrentParts(batch: batch, macs: steps * batch * g4 * (hid + features))) { _, r0, rows in
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let hPrev = states.before(t, row: r0), hOut = states.after(t, row: r0)
            let cPrev = (s == 0 ? c0p : cp + (reverse ? t + 1 : t - 1) * bh) + r0 * hid
            let g = ap + t * bg + r0 * g4
            T.gemmPacked(m: rows, n: g4, k: features, a: xp + (t * batch + r0) * features, lda: features, transA: false,
                         packedB: wihT, accumulate: false, c: g, ldc: g4)
            if s > 0 || !zeroState {
                T.gemmPacked(m: rows, n: g4, k: hid, a: hPrev, lda: hid, transA: false, packedB: whhT, accumulate: true,
                             c: g, ldc: g4)
            }
            T.lstmForward(gates: g, bias: bp, cPrev: cPrev, c: cp + t * bh + r0 * hid, tanhC: tp + t * bh + r0 * hid,
                          h: hOut, rows: rows, hidden: hid)
        }
    }
    let last = reverse ? 0 : steps - 1
    hN.unsafeMutablePointer(T.self).update(from: states.final, count: bh)
    cN.unsafeMutablePointer(T.self).update(from: cp + last * bh, count: bh)
    let out = recurrentOutputs(hs, reverse: reverse)
    let saved = LSTMSaved(x: xc, wih: wihc, whh: whhc, c0: c0c, act: act, cs: cs, tcs: tcs, hs: hs,
                          steps: steps, batch: batch, features: features, hidden: hid, reverse: reverse,
                          zeroState: zeroState)
    return (out, hN, cN, saved)
}

/// The fused BPTT. Each part runs all steps (latest first) over its batch rows: the gate kernel, then the step's
/// products — `dh = dG·W_hh` for the step before, `dG·W_ih` for `dx`, and `dG_tᵀ h_prev`, `dG_tᵀ x_t` added to the
/// part's own weight gradients, which are summed over the parts at the end.
func lstmSequenceBackwardFused<T: RecurrentKernelScalar>(_: T.Type, _ s: LSTMSaved, gOut: Tensor, gH: Tensor,
                                                                  gC: Tensor, needX: Bool, needH0: Bool)
    -> (dx: Tensor?, dwih: Tensor, dwhh: Tensor, db: Tensor, dh0: Tensor, dc0: Tensor) {
    let steps = s.steps, batch = s.batch, hid = s.hidden, g4 = 4 * hid, f = s.features, dt = s.x.dtype
    let bh = batch * hid, bg = batch * g4
    let go = gOut.contiguous().to(dt)
    let dh = gH.to(dt).contiguous().clone(), dc = gC.to(dt).contiguous().clone()
    let parts = recurrentParts(batch: batch, macs: steps * batch * g4 * (hid + f))
    let dbParts = Tensor.zeros([parts, g4], dtype: dt, device: .cpu)
    let dwhhParts = Tensor.zeros([parts, g4, hid], dtype: dt, device: .cpu), dwihParts = Tensor.zeros([parts, g4, f], dtype: dt, device: .cpu)
    let dx = needX ? Tensor(empty: [steps, batch, f], dtype: dt, device: .cpu) : nil
    let ap = s.act.unsafeMutablePointer(T.self), cp = s.cs.unsafeMutablePointer(T.self), tp = s.tcs.unsafeMutablePointer(T.self)
    let gop = go.unsafeMutablePointer(T.self), dhp = dh.unsafeMutablePointer(T.self), dcp = dc.unsafeMutablePointer(T.self)
    let dbp = dbParts.unsafeMutablePointer(T.self), c0p = s.c0.unsafeMutablePointer(T.self)
    let dwhhp = dwhhParts.unsafeMutablePointer(T.self), dwihp = dwihParts.unsafeMutablePointer(T.self)
    let states = RecurrentStates<T>(s.hs, reverse: s.reverse), xp = s.x.unsafeMutablePointer(T.self)
    let dxp = dx?.unsafeMutablePointer(T.self)
    let whh = recurrentPack(s.whh.unsafeMutablePointer(T.self), rows: g4, cols: hid, transpose: false)
    let wih = recurrentPack(s.wih.unsafeMutablePointer(T.self), rows: g4, cols: f, transpose: false)
    defer { whh.deallocate(); wih.deallocate() }
    recurrentSplit(batch, parts) { p, r0, rows in
        let dhRows = dhp + r0 * hid, dcRows = dcp + r0 * hid
        let dwhhPart = dwhhp + p * g4 * hid, dwihPart = dwihp + p * g4 * f
        // The step's gate gradients, and the step's h_prev or x rows packed as the B of a weight-gradient product.
        let dg = UnsafeMutablePointer<T>.allocate(capacity: rows * g4)
        let rowsPacked = UnsafeMutablePointer<T>.allocate(capacity: T.packedSize(k: rows, n: max(hid, f)))
        defer { dg.deallocate(); rowsPacked.deallocate() }
        for k in (0..<steps).reversed() {
            let t = s.reverse ? steps - 1 - k : k
            let cPrev = (k == 0 ? c0p : cp + (s.reverse ? t + 1 : t - 1) * bh) + r0 * hid
            T.lstmBackward(act: ap + t * bg + r0 * g4, tanhC: tp + t * bh + r0 * hid, cPrev: cPrev, dhRec: dhRows,
                           gOut: gop + t * bh + r0 * hid, dc: dcRows, dGates: dg, dBias: dbp + p * g4, rows: rows,
                           hidden: hid)
            recurrentStepGradients(dgx: dg, dgh: dg, width: g4, rows: rows, hidden: hid, features: f,
                                   hPrev: k > 0 || !s.zeroState ? states.before(t, row: r0) : nil,
                                   x: xp + (t * batch + r0) * f, packedWih: wih, scratch: rowsPacked, dwhh: dwhhPart,
                                   dwih: dwihPart, dx: dxp.map { $0 + (t * batch + r0) * f })
            // dh of the previous state = dG_t · W_hh (for k == 0 that is dh0).
            if k > 0 || needH0 {
                T.gemmPacked(m: rows, n: hid, k: g4, a: dg, lda: g4, transA: false, packedB: whh, accumulate: false,
                             c: dhRows, ldc: hid)
            }
        }
    }
    return (dx, sumOfParts(dwihParts, [g4, f]), sumOfParts(dwhhParts, [g4, hid]), sumOfParts(dbParts, [g4]), dh, dc)
}

