// The CPU's fused LSTM cell update (one pass forward, one pass backward), behind `Backend.lstmCell`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        for k in 0..<n { dst[k] = 1 / (1 + exp(-src[k])) }
    }
    static func tanh(_ src: UnsafeMutablePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int) {
        for k in 0..<n { dst[k] = tanh(src[k]) }
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

