// Fused scaled dot-product attention on host tensors: per (batch, head) pair one scores GEMM with the scale
// folded into alpha, an in-place row softmax (plus an optional additive mask), and one GEMM with the values.
// Every operand is a strided [batch, heads, rows, cols] view with unit column stride, so heads are read
// straight out of a packed projection ([N, L, 3E]) and written straight into merged layout, without copies.
// The pairs are split across the kernel threads, each running single-threaded GEMMs (these are small).
import CNablaKernels

/// The softmax kernels of CNablaKernels for one element type (nabla_attention.h), as function values.
struct AttentionKernels<T> {
    let softmaxRows: (UnsafeMutablePointer<T>?, Int64, Int64, Int64, UnsafePointer<T>?, Int64, Int64) -> Void
    let softmaxBackward: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int64, Int64) -> Void
    let softmaxForward: (UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int64, Int64) -> Void
    let logSoftmaxForward: (UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int64, Int64) -> Void
    let logSoftmaxBackward: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int64, Int64) -> Void
}

/// Element types the fused attention kernels run in (float32 and float64).
protocol AttentionScalar: BLASScalar {
    /// This type's softmax kernels (`nabla_f32_*` or `nabla_f64_*`).
    static var attentionKernels: AttentionKernels<Self> { get }
}

extension Float: AttentionScalar {
    static var attentionKernels: AttentionKernels<Float> {
        AttentionKernels(softmaxRows: nabla_f32_softmax_rows, softmaxBackward: nabla_f32_softmax_bwd, softmaxForward: nabla_f32_softmax_fwd,
                         logSoftmaxForward: nabla_f32_log_softmax_fwd, logSoftmaxBackward: nabla_f32_log_softmax_bwd)
    }
}

extension Double: AttentionScalar {
    static var attentionKernels: AttentionKernels<Double> {
        AttentionKernels(softmaxRows: nabla_f64_softmax_rows, softmaxBackward: nabla_f64_softmax_bwd, softmaxForward: nabla_f64_softmax_fwd,
                         logSoftmaxForward: nabla_f64_log_softmax_fwd, logSoftmaxBackward: nabla_f64_log_softmax_bwd)
    }
}

extension AttentionScalar {
    /// `C = alpha * op(A) @ op(B)`, row-major.
    static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double, _ a: UnsafePointer<Self>, _ lda: Int,
                     _ b: UnsafePointer<Self>, _ ldb: Int, _ c: UnsafeMutablePointer<Self>, _ ldc: Int) {
        BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: Self(alpha), a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
    }
    /// In-place row softmax with an optional additive mask (see `nabla_f32_softmax_rows`).
    static func softmaxRows(_ x: UnsafeMutablePointer<Self>, _ rows: Int, _ cols: Int, _ ld: Int,
                            _ mask: UnsafePointer<Self>?, _ mrs: Int, _ mcs: Int) {
        attentionKernels.softmaxRows(x, Int64(rows), Int64(cols), Int64(ld), mask, Int64(mrs), Int64(mcs))
    }
    /// `out = y * (g - rowsum(g * y))` over contiguous rows (out may alias g).
    static func softmaxBackward(_ g: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>,
                                _ rows: Int, _ cols: Int) {
        attentionKernels.softmaxBackward(g, y, out, Int64(rows), Int64(cols))
    }
    /// `out = softmax(x)`, or `logSoftmax(x)` when `log`, over contiguous rows (out may alias x).
    static func softmaxForward(_ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ rows: Int, _ cols: Int,
                               log: Bool) {
        (log ? attentionKernels.logSoftmaxForward : attentionKernels.softmaxForward)(x, out, Int64(rows), Int64(cols))
    }
    /// `out = g - exp(y) * rowsum(g)` over contiguous rows (logSoftmax backward; out may alias g).
    static func logSoftmaxBackward(_ g: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>,
                                   _ rows: Int, _ cols: Int) {
        attentionKernels.logSoftmaxBackward(g, y, out, Int64(rows), Int64(cols))
    }
}

/// A `[batch, heads, rows, cols]` view with unit column stride, as the attention kernels read it.
struct HeadView<T> {
    let base: UnsafeMutablePointer<T>, batchStride: Int, headStride: Int, rowStride: Int

    /// The view of `t` (rank 4, last stride 1 or a single column).
    init(_ t: Tensor) {
        base = t.storage.pointer(T.self) + t.offset
        batchStride = t.strides[0]; headStride = t.strides[1]
        rowStride = t.shape[2] == 1 ? max(1, t.shape[3]) : t.strides[2]
    }

    /// The first element of pair (`b`, `h`).
    @inline(__always) func at(_ b: Int, _ h: Int) -> UnsafeMutablePointer<T> { base + b * batchStride + h * headStride }
}

/// Host kernels of the fused attention (no autograd).
enum CPUAttention {
    /// Whether `t`'s last two dims can be handed to BLAS as they are (unit column stride, rows not overlapping).
    static func blasReady(_ t: Tensor) -> Bool {
        t.rank == 4 && (t.strides[3] == 1 || t.shape[3] == 1) && (t.shape[2] == 1 || t.strides[2] >= t.shape[3])
    }

    /// Runs `body(range of pairs, chunk index)` over `pairs` pairs on the kernel threads with single-threaded BLAS;
    /// `work` (elements touched) decides whether splitting pays.
    static func forPairs(_ pairs: Int, work: Int, _ body: (Range<Int>, Int) -> Void) {
        let chunks = Parallel.chunks(work: work, items: pairs)
        if chunks <= 1 { body(0..<pairs, 0); return }
        let blasThreads = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(blasThreads) }
        Parallel.forEach(chunks) { c in body((pairs * c / chunks)..<(pairs * (c + 1) / chunks), c) }
    }

    /// `out = softmax(q kᵀ · scale + mask) v` per pair; returns the weights `[B, H, L, S]` (contiguous).
    /// `q [B, H, L, D]`, `k [B, H, S, D]`, `v [B, H, S, Dv]`, `out [B, H, L, Dv]` (written), `mask` expanded to `[B, H, L, S]`.
    static func forward(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> Tensor {
        let (b, h, l, s) = (q.shape[0], q.shape[1], q.shape[2], k.shape[2])
        let weights = Tensor(empty: [b, h, l, s], dtype: q.dtype, device: q.device)
        if q.dtype == .float64 {
            forwardTyped(Double.self, q, k, v, mask, scale, out, weights)
        } else {
            forwardTyped(Float.self, q, k, v, mask, scale, out, weights)
        }
        return weights
    }

    private static func forwardTyped<T: AttentionScalar>(_: T.Type, _ q: Tensor, _ k: Tensor, _ v: Tensor, _ mask: Tensor?,
                                                         _ scale: Double, _ out: Tensor, _ weights: Tensor) {
        let (nb, nh, l, s, d, dv) = (q.shape[0], q.shape[1], q.shape[2], k.shape[2], q.shape[3], v.shape[3])
        let qv = HeadView<T>(q), kv = HeadView<T>(k), vv = HeadView<T>(v), ov = HeadView<T>(out)
        let wp = weights.storage.pointer(T.self) + weights.offset
        let mp: UnsafeMutablePointer<T>? = mask.map { $0.storage.pointer(T.self) + $0.offset }
        let ms = mask?.strides ?? [0, 0, 0, 0]
        forPairs(nb * nh, work: nb * nh * l * (s + d + dv)) { range, _ in
            for i in range {
                let bi = i / nh, hi = i % nh
                let w = wp + i * l * s
                if s == 0 || l == 0 { continue }
                if d == 0 { w.initialize(repeating: 0, count: l * s) } else {
                    T.gemm(false, true, l, s, d, scale, qv.at(bi, hi), qv.rowStride, kv.at(bi, hi), kv.rowStride, w, s)
                }
                T.softmaxRows(w, l, s, s, mp.map { UnsafePointer($0 + bi * ms[0] + hi * ms[1]) }, ms[2], ms[3])
                if dv > 0 { T.gemm(false, false, l, dv, s, 1, w, s, vv.at(bi, hi), vv.rowStride, ov.at(bi, hi), ov.rowStride) }
            }
        }
    }

    /// Gradients of the attention from `g` (`[B, H, L, Dv]`) and the saved weights, written into `dq`, `dk`, `dv`
    /// (views shaped as `q`, `k`, `v`).
    static func backward(q: Tensor, k: Tensor, v: Tensor, weights: Tensor, g: Tensor, scale: Double,
                         dq: Tensor, dk: Tensor, dv: Tensor) {
        if q.dtype == .float64 {
            backwardTyped(Double.self, q, k, v, weights, g, scale, dq, dk, dv)
        } else {
            backwardTyped(Float.self, q, k, v, weights, g, scale, dq, dk, dv)
        }
    }

    private static func backwardTyped<T: AttentionScalar>(_: T.Type, _ q: Tensor, _ k: Tensor, _ v: Tensor, _ weights: Tensor,
                                                          _ g: Tensor, _ scale: Double, _ dq: Tensor, _ dk: Tensor, _ dv: Tensor) {
        let (nb, nh, l, s, d, dvw) = (q.shape[0], q.shape[1], q.shape[2], k.shape[2], q.shape[3], v.shape[3])
        let qv = HeadView<T>(q), kv = HeadView<T>(k), vv = HeadView<T>(v), gv = HeadView<T>(g)
        let dqv = HeadView<T>(dq), dkv = HeadView<T>(dk), dvv = HeadView<T>(dv)
        let wp = weights.storage.pointer(T.self) + weights.offset
        let pairs = nb * nh
        let chunks = Parallel.chunks(work: pairs * l * (s + d + dvw), items: pairs)
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: max(1, chunks * l * s))
        defer { scratch.deallocate() }
        // Zero-sized contractions leave their outputs to the zero fill.
        func zero(_ p: UnsafeMutablePointer<T>, rows: Int, cols: Int, ld: Int) {
            for r in 0..<rows { (p + r * ld).initialize(repeating: 0, count: cols) }
        }
        forPairs(pairs, work: pairs * l * (s + d + dvw)) { range, c in
            let ds = scratch + c * l * s
            for i in range {
                let bi = i / nh, hi = i % nh
                let w = wp + i * l * s
                let dqp = dqv.at(bi, hi), dkp = dkv.at(bi, hi), dvp = dvv.at(bi, hi)
                if l == 0 || s == 0 {
                    zero(dqp, rows: l, cols: d, ld: dqv.rowStride); zero(dkp, rows: s, cols: d, ld: dkv.rowStride)
                    zero(dvp, rows: s, cols: dvw, ld: dvv.rowStride)
                    continue
                }
                // dV = Pᵀ dO;  dP = dO Vᵀ;  dS = P ∘ (dP - rowsum(dP ∘ P));  dQ = scale dS K;  dK = scale dSᵀ Q.
                if dvw > 0 {
                    T.gemm(true, false, s, dvw, l, 1, w, s, gv.at(bi, hi), gv.rowStride, dvp, dvv.rowStride)
                    T.gemm(false, true, l, s, dvw, 1, gv.at(bi, hi), gv.rowStride, vv.at(bi, hi), vv.rowStride, ds, s)
                } else {
                    ds.initialize(repeating: 0, count: l * s)
                }
                T.softmaxBackward(ds, w, ds, l, s)
                if d > 0 {
                    T.gemm(false, false, l, d, s, scale, ds, s, kv.at(bi, hi), kv.rowStride, dqp, dqv.rowStride)
                    T.gemm(true, false, s, d, l, scale, ds, s, qv.at(bi, hi), qv.rowStride, dkp, dkv.rowStride)
                }
            }
        }
    }

    /// `out = softmax(x)` along the last dim of a contiguous `[rows, cols]` tensor, split across the kernel threads.
    static func softmaxLastDim(_ x: Tensor, out: Tensor, rows: Int, cols: Int, log: Bool) {
        if x.dtype == .float64 { softmaxTyped(Double.self, x, out, rows, cols, log) } else { softmaxTyped(Float.self, x, out, rows, cols, log) }
    }

    private static func softmaxTyped<T: AttentionScalar>(_: T.Type, _ x: Tensor, _ out: Tensor, _ rows: Int, _ cols: Int,
                                                         _ log: Bool) {
        let xp = x.storage.pointer(T.self) + x.offset, op = out.storage.pointer(T.self) + out.offset
        Parallel.forRanges(rows, minChunk: max(1, Parallel.grain / max(cols, 1))) { r in
            T.softmaxForward(xp + r.lowerBound * cols, op + r.lowerBound * cols, r.count, cols, log: log)
        }
    }

    /// `out = y * (g - rowsum(g * y))` (softmax backward), or `g - exp(y) * rowsum(g)` when `log` (logSoftmax
    /// backward), along the last dim of contiguous `[rows, cols]` tensors.
    static func softmaxBackwardLastDim(_ g: Tensor, _ y: Tensor, out: Tensor, rows: Int, cols: Int, log: Bool) {
        if g.dtype == .float64 { softmaxBwdTyped(Double.self, g, y, out, rows, cols, log) }
        else { softmaxBwdTyped(Float.self, g, y, out, rows, cols, log) }
    }

    private static func softmaxBwdTyped<T: AttentionScalar>(_: T.Type, _ g: Tensor, _ y: Tensor, _ out: Tensor, _ rows: Int,
                                                            _ cols: Int, _ log: Bool) {
        let gp = g.storage.pointer(T.self) + g.offset, yp = y.storage.pointer(T.self) + y.offset
        let op = out.storage.pointer(T.self) + out.offset
        Parallel.forRanges(rows, minChunk: max(1, Parallel.grain / max(cols, 1))) { r in
            let o = r.lowerBound * cols
            if log { T.logSoftmaxBackward(gp + o, yp + o, op + o, r.count, cols) }
            else { T.softmaxBackward(gp + o, yp + o, op + o, r.count, cols) }
        }
    }
}
