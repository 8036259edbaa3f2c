// Fused host kernels of the normalisation ops (LayerNorm, GroupNorm, BatchNorm): statistics and
// the normalised, affine output in one pass per row or channel. Statistics accumulate in Double, except
// LayerNorm's, which the vectorised C row kernels (nabla_norm.h) take in the element type.
import CNablaKernels

/// Fused normalisation kernels over contiguous host tensors (float32 and float64).
enum CPUNorm {
    /// Normalises each row of `x` (contiguous, viewed as `[rows, rowLen]`) and applies the affine map.
    ///
    /// Element `j` of row `r` uses affine index `(r % groups) * (rowLen / inner) + j / inner`:
    /// LayerNorm passes `groups = 1, inner = 1`; GroupNorm passes its group count and spatial size.
    /// Writes `out` (like `x`), `mean` and `rstd` (`[rows]`, contiguous, same dtype).
    static func rows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int,
                     weight: Tensor?, bias: Tensor?, eps: Double, out: Tensor, mean: Tensor, rstd: Tensor) {
        if groups == 1 && inner == 1 {   // LayerNorm: the vectorised C row kernel
            let chunks = Parallel.chunks(work: rows * rowLen, items: rows)
            Parallel.forEach(chunks) { c in
                let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
                if lo < hi { layerNormRows(x, lo..<hi, rowLen, weight, bias, eps, out, mean, rstd) }
            }
            return
        }
        if x.dtype == .float64 {
            rowsTyped(Double.self, x, rows, rowLen, groups, inner, weight, bias, eps, out, mean, rstd)
        } else {
            rowsTyped(Float.self, x, rows, rowLen, groups, inner, weight, bias, eps, out, mean, rstd)
        }
    }

    private static func rowsTyped<T: BinaryFloatingPoint>(_: T.Type, _ x: Tensor, _ rows: Int, _ rowLen: Int, _ groups: Int,
                                                          _ inner: Int, _ weight: Tensor?, _ bias: Tensor?, _ eps: Double,
                                                          _ out: Tensor, _ mean: Tensor, _ rstd: Tensor) {
        let xp = x.storage.pointer(T.self) + x.offset, op = out.storage.pointer(T.self) + out.offset
        let mp = mean.storage.pointer(T.self) + mean.offset, rp = rstd.storage.pointer(T.self) + rstd.offset
        let wp = weight.map { $0.storage.pointer(T.self) + $0.offset }
        let bp = bias.map { $0.storage.pointer(T.self) + $0.offset }
        let perRow = inner > 0 ? rowLen / inner : 0
        let body = { (r: Int) in
            let row = xp + r * rowLen, o = op + r * rowLen
            var s = 0.0
            for j in 0..<rowLen { s += Double(row[j]) }
            let m = rowLen > 0 ? s / Double(rowLen) : 0
            var v = 0.0
            for j in 0..<rowLen { let d = Double(row[j]) - m; v += d * d }
            let rs = 1 / (v / Double(Swift.max(rowLen, 1)) + eps).squareRoot()
            mp[r] = T(m); rp[r] = T(rs)
            let tm = T(m), trs = T(rs)
            let base = (r % groups) * perRow
            for c in 0..<perRow {
                let a = trs * (wp.map { $0[base + c] } ?? 1)
                let sh = (bp.map { $0[base + c] } ?? 0) - tm * a
                let xs = row + c * inner, os = o + c * inner
                for h in 0..<inner { os[h] = xs[h] * a + sh }
            }
        }
        let chunks = Parallel.chunks(work: rows * rowLen, items: rows)
        Parallel.forEach(chunks) { c in
            for r in (rows * c / chunks)..<(rows * (c + 1) / chunks) { body(r) }
        }
    }

    /// LayerNorm forward of rows `range` of contiguous `x` with the C kernel.
    private static func layerNormRows(_ x: Tensor, _ range: Range<Int>, _ n: Int, _ weight: Tensor?, _ bias: Tensor?, _ eps: Double,
                                      _ out: Tensor, _ mean: Tensor, _ rstd: Tensor) {
        let lo = range.lowerBound, count = Int64(range.count)
        func ptr<T>(_ t: Tensor, _: T.Type, _ off: Int) -> UnsafeMutablePointer<T> { t.storage.pointer(T.self) + t.offset + off }
        if x.dtype == .float64 {
            nabla_f64_layernorm_fwd(ptr(x, Double.self, lo * n), weight.map { ptr($0, Double.self, 0) }, bias.map { ptr($0, Double.self, 0) },
                                    ptr(out, Double.self, lo * n), ptr(mean, Double.self, lo), ptr(rstd, Double.self, lo), count, Int64(n), eps)
        } else {
            nabla_f32_layernorm_fwd(ptr(x, Float.self, lo * n), weight.map { ptr($0, Float.self, 0) }, bias.map { ptr($0, Float.self, 0) },
                                    ptr(out, Float.self, lo * n), ptr(mean, Float.self, lo), ptr(rstd, Float.self, lo), count, Int64(n), eps)
        }
    }

    /// Per-channel mean and biased variance of `x` (contiguous, viewed as `[n, channels, inner]`),
    /// written into `mean` and `variance` (`[channels]`, contiguous, same dtype).
    static func channelStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor) {
        if x.dtype == .float64 {
            statsTyped(Double.self, x, n, channels, inner, mean, variance)
        } else {
            statsTyped(Float.self, x, n, channels, inner, mean, variance)
        }
    }

    private static func statsTyped<T: BinaryFloatingPoint>(_: T.Type, _ x: Tensor, _ n: Int, _ channels: Int, _ inner: Int,
                                                           _ mean: Tensor, _ variance: Tensor) {
        let xp = x.storage.pointer(T.self) + x.offset
        let mp = mean.storage.pointer(T.self) + mean.offset, vp = variance.storage.pointer(T.self) + variance.offset
        let count = Double(Swift.max(n * inner, 1))
        let body = { (c: Int) in
            var s = 0.0
            for b in 0..<n { let p = xp + (b * channels + c) * inner; for h in 0..<inner { s += Double(p[h]) } }
            let m = s / count
            var v = 0.0
            for b in 0..<n {
                let p = xp + (b * channels + c) * inner
                for h in 0..<inner { let d = Double(p[h]) - m; v += d * d }
            }
            mp[c] = T(m); vp[c] = T(v / count)
        }
        let chunks = Parallel.chunks(work: n * channels * inner, items: channels)
        Parallel.forEach(chunks) { k in
            for c in (channels * k / chunks)..<(channels * (k + 1) / chunks) { body(c) }
        }
    }

    /// `out[b, c, h] = x[b, c, h] * scale[c] + shift[c]` for contiguous `x` viewed as `[n, channels, inner]`.
    static func channelAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor) {
        if x.dtype == .float64 {
            affineTyped(Double.self, x, n, channels, inner, scale, shift, out)
        } else {
            affineTyped(Float.self, x, n, channels, inner, scale, shift, out)
        }
    }

    private static func affineTyped<T: BinaryFloatingPoint>(_: T.Type, _ x: Tensor, _ n: Int, _ channels: Int, _ inner: Int,
                                                            _ scale: Tensor, _ shift: Tensor, _ out: Tensor) {
        let xp = x.storage.pointer(T.self) + x.offset, op = out.storage.pointer(T.self) + out.offset
        let sp = scale.storage.pointer(T.self) + scale.offset, tp = shift.storage.pointer(T.self) + shift.offset
        let rows = n * channels
        let body = { (r: Int) in
            let c = r % channels, a = sp[c], b = tp[c]
            let xs = xp + r * inner, os = op + r * inner
            for h in 0..<inner { os[h] = xs[h] * a + b }
        }
        if inner == 1 {
            for b in 0..<n {
                let xs = xp + b * channels, os = op + b * channels
                for c in 0..<channels { os[c] = xs[c] * sp[c] + tp[c] }
            }
            return
        }
        let chunks = Parallel.chunks(work: rows * inner, items: rows)
        Parallel.forEach(chunks) { k in
            for r in (rows * k / chunks)..<(rows * (k + 1) / chunks) { body(r) }
        }
    }

    // MARK: backward (first order, no graph)

    /// LayerNorm backward over contiguous `[rows, rowLen]` views: `dx`, and the weight and bias gradients
    /// (`[rowLen]`, nil when `weight`/`bias` were not given) summed over rows.
    static func rowsBackward(_ x: Tensor, _ g: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                             rows: Int, rowLen: Int) -> (dx: Tensor, dw: Tensor?, db: Tensor?) {
        let dx = Tensor(empty: x.shape, dtype: x.dtype, device: x.device)
        let dw = weight == nil ? nil : Tensor(empty: [rowLen], dtype: x.dtype, device: x.device)
        let db = hasBias ? Tensor(empty: [rowLen], dtype: x.dtype, device: x.device) : nil
        if x.dtype == .float64 {
            rowsBackwardTyped(Double.self, x, g, weight, mean, rstd, rows, rowLen, dx, dw, db)
        } else {
            rowsBackwardTyped(Float.self, x, g, weight, mean, rstd, rows, rowLen, dx, dw, db)
        }
        return (dx, dw, db)
    }

    private static func rowsBackwardTyped<T: BinaryFloatingPoint>(_: T.Type, _ x: Tensor, _ g: Tensor, _ weight: Tensor?,
                                                                  _ mean: Tensor, _ rstd: Tensor, _ rows: Int, _ rowLen: Int,
                                                                  _ dx: Tensor, _ dw: Tensor?, _ db: Tensor?) {
        func ptr<U>(_ t: Tensor, _: U.Type, _ off: Int) -> UnsafeMutablePointer<U> { t.storage.pointer(U.self) + t.offset + off }
        let chunks = Parallel.chunks(work: rows * rowLen, items: rows)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(1, chunks * 2 * rowLen))
        partial.initialize(repeating: 0, count: max(1, chunks * 2 * rowLen))
        defer { partial.deallocate() }
        // Each chunk of rows: dx, and its own partial sums of g·xhat and g (double) for the weight and bias gradients.
        Parallel.forEach(chunks) { c in
            let pw = partial + c * 2 * rowLen, pb = pw + rowLen
            let lo = rows * c / chunks, count = Int64(rows * (c + 1) / chunks - lo), o = lo * rowLen
            if T.self == Double.self {
                nabla_f64_layernorm_bwd(ptr(x, Double.self, o), ptr(g, Double.self, o), weight.map { ptr($0, Double.self, 0) },
                                        ptr(mean, Double.self, lo), ptr(rstd, Double.self, lo), ptr(dx, Double.self, o),
                                        pw, pb, count, Int64(rowLen))
            } else {
                nabla_f32_layernorm_bwd(ptr(x, Float.self, o), ptr(g, Float.self, o), weight.map { ptr($0, Float.self, 0) },
                                        ptr(mean, Float.self, lo), ptr(rstd, Float.self, lo), ptr(dx, Float.self, o),
                                        pw, pb, count, Int64(rowLen))
            }
        }
        for (k, t) in [dw, db].enumerated() {
            guard let t else { continue }
            let tp = t.storage.pointer(T.self) + t.offset
            for j in 0..<rowLen {
                var s = 0.0
                for c in 0..<chunks { s += partial[c * 2 * rowLen + k * rowLen + j] }
                tp[j] = T(s)
            }
        }
    }

    /// Training-mode BatchNorm backward over contiguous `[n, channels, inner]` views, given the batch mean
    /// and 1/std per channel: `dx`, and the per-channel weight and bias gradients.
    static func channelsBackward(_ x: Tensor, _ g: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                                 n: Int, channels: Int, inner: Int) -> (dx: Tensor, dw: Tensor, db: Tensor) {
        let dx = Tensor(empty: x.shape, dtype: x.dtype, device: x.device)
        let dw = Tensor(empty: [channels], dtype: x.dtype, device: x.device)
        let db = Tensor(empty: [channels], dtype: x.dtype, device: x.device)
        if x.dtype == .float64 {
            channelsBackwardTyped(Double.self, x, g, weight, mean, invstd, n, channels, inner, dx, dw, db)
        } else {
            channelsBackwardTyped(Float.self, x, g, weight, mean, invstd, n, channels, inner, dx, dw, db)
        }
        return (dx, dw, db)
    }

    private static func channelsBackwardTyped<T: BinaryFloatingPoint>(_: T.Type, _ x: Tensor, _ g: Tensor, _ weight: Tensor?,
                                                                      _ mean: Tensor, _ invstd: Tensor, _ n: Int, _ channels: Int,
                                                                      _ inner: Int, _ dx: Tensor, _ dw: Tensor, _ db: Tensor) {
        let xp = x.storage.pointer(T.self) + x.offset, gp = g.storage.pointer(T.self) + g.offset
        let mp = mean.storage.pointer(T.self) + mean.offset, rp = invstd.storage.pointer(T.self) + invstd.offset
        let dxp = dx.storage.pointer(T.self) + dx.offset
        let dwp = dw.storage.pointer(T.self) + dw.offset, dbp = db.storage.pointer(T.self) + db.offset
        let wp = weight.map { $0.storage.pointer(T.self) + $0.offset }
        let count = Double(max(n * inner, 1))
        let body = { (c: Int) in
            let m = Double(mp[c]), rs = Double(rp[c])
            var sg = 0.0, sgx = 0.0
            for b in 0..<n {
                let off = (b * channels + c) * inner
                for h in 0..<inner { let gv = Double(gp[off + h]); sg += gv; sgx += gv * (Double(xp[off + h]) - m) * rs }
            }
            dwp[c] = T(sgx); dbp[c] = T(sg)
            let w = wp.map { Double($0[c]) } ?? 1
            let a = sg / count, bq = sgx / count
            for b in 0..<n {
                let off = (b * channels + c) * inner
                for h in 0..<inner {
                    let xh = (Double(xp[off + h]) - m) * rs
                    dxp[off + h] = T(w * rs * (Double(gp[off + h]) - a - xh * bq))
                }
            }
        }
        let chunks = Parallel.chunks(work: n * channels * inner, items: channels)
        Parallel.forEach(chunks) { k in
            for c in (channels * k / chunks)..<(channels * (k + 1) / chunks) { body(c) }
        }
    }
}
