// The fused pieces behind the recurrent layers: the LSTM cell's element-wise update as one op
// (one pass forward, one pass backward), and a time-step split whose backward is one stack.
import Foundation

/// Whether an op on `inputs` must record for reverse or forward mode (NablaNN's view of `isRecording`).
@inline(__always) func recurrentNeedsRecord(_ inputs: [Tensor]) -> Bool {
    let grad = isGradEnabled
    for t in inputs where (grad && t.requiresGrad) || t.forwardGrad != nil { return true }
    return false
}

/// The slices of `x` along dim 0, as one recorded op whose backward stacks the gradients
/// (so a sequence of T steps costs one gradient buffer, not T zero-filled ones as `unbind` would).
func timeSteps(_ x: Tensor) -> [Tensor] {
    let steps = noGrad { (0..<x.shape[0]).map { x.select(0, $0) } }
    guard recurrentNeedsRecord([x]) else { return steps }
    recordOutputs(steps, op: "UnbindBackward", inputs: [x]) { g, _ in [stack(g, dim: 0)] }
    return steps
}

/// Cephes-style `exp` for Float, branch-free (clamped input, rounding by the 1.5·2²³ trick, wrapping integer ops)
/// so loops over it vectorise; about 2 ulp.
@inline(__always) func recurrentFastExp(_ x: Float) -> Float {
    let xc = Swift.min(Swift.max(x, -87), 88)
    let magic: Float = 12582912  // 1.5 · 2²³: adding it rounds to an integer held in the low mantissa bits
    let tm = xc * 1.44269504088896341 + magic
    let n = Int32(bitPattern: tm.bitPattern) &- 0x4B40_0000
    let nf = tm - magic
    let r = xc - nf * 0.693359375 + nf * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * r * r + r + 1
    return y * Float(bitPattern: UInt32(bitPattern: (n &+ 127) &<< 23))
}

/// Scalars the fused LSTM kernels run on: vectorisable sigmoid/tanh loops for Float, libm for Double.
protocol RecurrentScalar: BinaryFloatingPoint, TensorScalar {
    /// `dst[k] = σ(src[k])` for `k < n`.
    static func sigmoid(_ src: UnsafeMutablePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
    /// `dst[k] = tanh(src[k])` for `k < n`.
    static func tanh(_ src: UnsafeMutablePointer<Self>, _ dst: UnsafeMutablePointer<Self>, _ n: Int)
}

extension Float: RecurrentScalar {
    static func sigmoid(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for k in 0..<n { dst[k] = 1 / (1 + recurrentFastExp(-src[k])) }
    }
    static func tanh(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for k in 0..<n { dst[k] = 1 - 2 / (recurrentFastExp(2 * src[k]) + 1) }
    }
}

extension Double: RecurrentScalar {
    static func sigmoid(_ src: UnsafeMutablePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for k in 0..<n { dst[k] = 1 / (1 + Foundation.exp(-src[k])) }
    }
    static func tanh(_ src: UnsafeMutablePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for k in 0..<n { dst[k] = Foundation.tanh(src[k]) }
    }
}

/// Forward kernel: `gates [B, 4H]` (i, f, g, o pre-activations) and `cx [B, H]` → `h`, `c`, and the saved
/// activations `act [B, 4H]` (σ(i), σ(f), tanh(g), σ(o)) and `tc [B, H]` (tanh(c)). All contiguous.
/// Each pass is a simple loop over one or two arrays, so the compiler vectorises it.
func lstmForwardKernel<T: RecurrentScalar>(_: T.Type, gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tc: Tensor) {
    let batch = cx.shape[0], hid = cx.shape[1]
    let gp = gates.unsafeMutablePointer(T.self), cp = cx.unsafeMutablePointer(T.self)
    let hp = h.unsafeMutablePointer(T.self), op = c.unsafeMutablePointer(T.self)
    let ap = act.unsafeMutablePointer(T.self), tp = tc.unsafeMutablePointer(T.self)
    for b in 0..<batch {
        let g = gp + b * 4 * hid, a = ap + b * 4 * hid
        T.sigmoid(g, a, 2 * hid)
        T.tanh(g + 2 * hid, a + 2 * hid, hid)
        T.sigmoid(g + 3 * hid, a + 3 * hid, hid)
        let i = a, f = a + hid, gg = a + 2 * hid, o = a + 3 * hid
        let cr = cp + b * hid, hr = hp + b * hid, orow = op + b * hid, tr = tp + b * hid
        for j in 0..<hid { orow[j] = f[j] * cr[j] + i[j] * gg[j] }
        T.tanh(orow, tr, hid)
        for j in 0..<hid { hr[j] = o[j] * tr[j] }
    }
}

/// Backward kernel: from `gh`, `gc` and the saved `act`, `tc`, `cx` → `dgates [B, 4H]` and `dcx [B, H]`.
func lstmBackwardKernel<T: RecurrentScalar>(_: T.Type, gh: Tensor, gc: Tensor, act: Tensor, tc: Tensor, cx: Tensor,
                                            dgates: Tensor, dcx: Tensor) {
    let batch = cx.shape[0], hid = cx.shape[1]
    let ghp = gh.unsafeMutablePointer(T.self), gcp = gc.unsafeMutablePointer(T.self)
    let ap = act.unsafeMutablePointer(T.self), tp = tc.unsafeMutablePointer(T.self), cp = cx.unsafeMutablePointer(T.self)
    let dgp = dgates.unsafeMutablePointer(T.self), dcp = dcx.unsafeMutablePointer(T.self)
    for b in 0..<batch {
        let a = ap + b * 4 * hid, d = dgp + b * 4 * hid
        let ghr = ghp + b * hid, gcr = gcp + b * hid, tr = tp + b * hid, cr = cp + b * hid, dcr = dcp + b * hid
        // dc (kept in dcx until the end), then the four gate gradients, then dcx = dc·f.
        for j in 0..<hid { let t = tr[j]; dcr[j] = gcr[j] + ghr[j] * a[3 * hid + j] * (1 - t * t) }
        for j in 0..<hid { let i = a[j], dc = dcr[j]; d[j] = dc * a[2 * hid + j] * i * (1 - i) }
        for j in 0..<hid { let f = a[hid + j]; d[hid + j] = dcr[j] * cr[j] * f * (1 - f) }
        for j in 0..<hid { let gg = a[2 * hid + j]; d[2 * hid + j] = dcr[j] * a[j] * (1 - gg * gg) }
        for j in 0..<hid { let o = a[3 * hid + j]; d[3 * hid + j] = ghr[j] * tr[j] * o * (1 - o) }
        for j in 0..<hid { dcr[j] *= a[hid + j] }
    }
}

/// The LSTM cell update from pre-activation gates: `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`,
/// gates in PyTorch's order (i, f, g, o) along the last dim. Written with Tensor ops (any device, any float dtype).
func lstmPointwiseComposed(_ gates: Tensor, _ cx: Tensor) -> (h: Tensor, c: Tensor) {
    let ch = gates.chunk(4, dim: -1)
    let i = ch[0].sigmoid(), f = ch[1].sigmoid(), g = ch[2].tanh(), o = ch[3].sigmoid()
    let c = f * cx + i * g
    return (o * c.tanh(), c)
}

/// The LSTM cell update as one fused op (one kernel forward, one backward), for contiguous CPU float tensors;
/// falls back to `lstmPointwiseComposed` elsewhere. Its backward is itself differentiable (`createGraph: true`
/// uses the composed form).
func lstmPointwise(_ gates: Tensor, _ cx: Tensor) -> (h: Tensor, c: Tensor) {
    let dt = gates.dtype
    guard gates.device == .cpu, cx.device == .cpu, dt == cx.dtype, dt == .float32 || dt == .float64, gates.rank == 2,
          cx.rank == 2, gates.shape[0] == cx.shape[0], gates.shape[1] == 4 * cx.shape[1] else {
        return lstmPointwiseComposed(gates, cx)
    }
    let gc = gates.contiguous(), cc = cx.contiguous()
    let h = Tensor(empty: cx.shape, dtype: dt), c = Tensor(empty: cx.shape, dtype: dt)
    let act = Tensor(empty: gates.shape, dtype: dt), tc = Tensor(empty: cx.shape, dtype: dt)
    if dt == .float32 { lstmForwardKernel(Float.self, gates: gc, cx: cc, h: h, c: c, act: act, tc: tc) }
    else { lstmForwardKernel(Double.self, gates: gc, cx: cc, h: h, c: c, act: act, tc: tc) }
    guard recurrentNeedsRecord([gates, cx]) else { return (h, c) }
    recordOutputs([h, c], op: "LstmCellBackward", inputs: [gates, cx], saving: [gates, cx]) { g, _ in
        if !isGradEnabled && g[0].device == .cpu {
            let gh = g[0].contiguous().to(dt), gcn = g[1].contiguous().to(dt)
            let dgates = Tensor(empty: act.shape, dtype: dt), dcx = Tensor(empty: cc.shape, dtype: dt)
            if dt == .float32 {
                lstmBackwardKernel(Float.self, gh: gh, gc: gcn, act: act, tc: tc, cx: cc, dgates: dgates, dcx: dcx)
            } else {
                lstmBackwardKernel(Double.self, gh: gh, gc: gcn, act: act, tc: tc, cx: cc, dgates: dgates, dcx: dcx)
            }
            return [dgates, dcx]
        }
        // Differentiable form (higher-order gradients, forward mode): the same formulas in Tensor ops.
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
