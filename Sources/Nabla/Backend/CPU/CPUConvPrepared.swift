import CNablaKernels

// Inference convolutions with prepared weights on the CPU (`PreparedConv2d`): the float32 3x3 filter is kept
// Winograd-transformed, so Winograd runs at any batch size (batch-1 inference included, where the per-call filter
// transform used to cost more than it saved), and the epilogue (bias, ReLU, 2x2 max pool) is applied while the
// convolution's output is in cache: inside Winograd's output transform (each 2x2 output tile is one pooling window),
// or from a per-image (direct kernel) or per-chunk (im2col + GEMM) buffer that stays in L2. The pooled output is all
// that reaches memory, and no pooling indices are made.

/// The least work (output elements times reduction size) for which a prepared convolution or linear layer is split
/// into chunks by `Parallel.chunks`; smaller work above `preparedSpinningWork` (W6's batch-1 convolution, 200 K, and
/// linear layer, 400 K) splits into one chunk per thread. Both run on the kernel threads' pool, whose workers are
/// awake when layers follow each other closely.
let preparedParallelWork = 1 << 20

/// The least work for which a prepared layer is split at all: below it (a few microseconds) one thread is faster
/// than any hand-off.
let preparedSpinningWork = 1 << 14

/// How many chunks a prepared layer's `work` over `items` independent items splits into: one per kernel thread when
/// the work is large enough for a hand-off at all.
func preparedChunks(work: Int, items: Int) -> Int {
    if work < preparedSpinningWork || items < 2 { return 1 }
    if work >= preparedParallelWork { return Parallel.chunks(work: work, items: items) }
    return min(Parallel.threads, items)
}

extension CPUBackend {
    /// The Winograd-transformed filter [16, OC, C] of a float32 3x3 weight; nil for other weights.
    public func packConv2dWeight(_ weight: Tensor) -> Tensor? {
        guard weight.dtype == .float32, weight.rank == 4, weight.shape[2] == 3, weight.shape[3] == 3, weight.count > 0 else { return nil }
        let oc = weight.shape[0], c = weight.shape[1]
        let u = Tensor(empty: [16, oc, c], dtype: .float32, device: .cpu)
        nabla_f32_wino_filter(weight.storage.pointer(Float.self) + weight.offset, Int64(oc), Int64(c), 0, u.storage.pointer(Float.self))
        return u
    }

    /// Winograd when the weight was packed for it and the geometry allows (3x3, stride 1, no dilation, padding at most
    /// 2; any batch size), the direct kernel for a small C·kh·kw, im2col + GEMM otherwise; float64 takes the composite.
    public func conv2d(_ x: Tensor, prepared: PreparedConv2d, geometry g: ConvGeometry, epilogue: ConvEpilogue, out: Tensor) {
        guard x.dtype == .float32, g.outH > 0, g.outW > 0 else {
            return compositeConv2d(x, prepared: prepared, geometry: g, epilogue: epilogue, out: out)
        }
        counter.bump(.conv2d)
        let flags = (epilogue.relu ? 1 : 0) | (epilogue.maxPool2x2 ? 2 : 0)
        if g.columnsShape[0] <= smallConvMaxK {
            preparedSmallK(x, prepared, g, flags, out)
        } else if let u = prepared.packed, g.winogradGeometryApplies {
            preparedWinograd(x, u, prepared.bias, g, flags, out)
        } else {
            preparedChunked(x, prepared, g, flags, out)
        }
    }

    /// A contiguous float32 tensor's first element.
    private static func f32p(_ t: Tensor) -> UnsafeMutablePointer<Float> { t.storage.pointer(Float.self) + t.offset }

    /// Winograd over all tile rows, split across the kernel threads by tile rows when there are enough of them to
    /// balance or the work is small, and by output channels otherwise.
    private func preparedWinograd(_ x: Tensor, _ u: Tensor, _ bias: Tensor?, _ g: ConvGeometry, _ flags: Int, _ out: Tensor) {
        var geom = g.winograd(outChannels: u.shape[1])
        let rows = Int(nabla_wino_tile_rows(&geom)), scratch = Int(nabla_f32_wino_scratch(&geom)), oc = Int(geom.oc)
        let work = rows * Int(geom.ow * geom.c) * oc
        // Small work (batch-1 inference) splits into one run of tile rows per thread: no chunk repeats another's input
        // transform, and a chunk the worker does not get to runs on the caller (smaller chunks would cost more in halo
        // rows and GEMM calls than they gain in balance).
        let small = work < preparedParallelWork
        let byRows = small || rows >= 4 * Parallel.threads
        let chunks = small ? (work < preparedSpinningWork ? 1 : min(rows, Parallel.threads))
                           : Parallel.chunks(work: work, items: byRows ? rows : (oc + 15) / 16)
        let buffer = Tensor(empty: [chunks * scratch], dtype: .float32, device: .cpu)
        let xp = UnsafePointer(Self.f32p(x)), up = UnsafePointer(Self.f32p(u)), op = Self.f32p(out), bp = bias.map { UnsafePointer(Self.f32p($0)) }
        let sp = Self.f32p(buffer), ep = Int32(flags)
        defer { withExtendedLifetime(buffer) {} }
        Parallel.forEach(chunks) { i in
            var r0 = 0, r1 = rows, k0 = 0, k1 = oc
            if byRows { r0 = rows * i / chunks; r1 = rows * (i + 1) / chunks } else {
                // Whole 16-row tiles of the packed GEMM per thread where the channels allow.
                let tiles = (oc + 15) / 16
                k0 = min(oc, 16 * (tiles * i / chunks)); k1 = min(oc, 16 * (tiles * (i + 1) / chunks))
            }
            guard r0 < r1, k0 < k1 else { return }
            withUnsafePointer(to: geom) {
                nabla_f32_wino_conv(xp, $0, up, bp, op, Int64(r0), Int64(r1), Int64(k0), Int64(k1), ep, sp + i * scratch)
            }
        }
    }

    /// The direct small-K kernel image by image into a per-thread buffer [OC, L], then the epilogue into `out`; split
    /// by images, or, with fewer images than kernel threads (batch-1 inference), by output channels.
    private func preparedSmallK(_ x: Tensor, _ prepared: PreparedConv2d, _ g: ConvGeometry, _ flags: Int, _ out: Tensor) {
        let w = prepared.weight, oc = w.shape[0], l = g.outH * g.outW, k = g.columnsShape[0]
        if g.batch < Parallel.threads, oc >= 8, preparedChunks(work: g.batch * oc * l * k, items: oc / 4) > 1 {
            return preparedSmallKByChannels(x, prepared, g, flags, out)
        }
        let chunks = Parallel.chunks(work: g.batch * oc * l, items: g.batch)
        let run = SmallKRun(x, prepared, g, flags, out, chunks: chunks)
        let (img, outImg, scratch, xp, wp, op, bp, sp) = (run.img, run.outImg, run.scratch, run.xp, run.wp, run.op, run.bp, run.sp)
        let (geom, relu, pool) = (run.geom, run.relu, run.pool)
        defer { withExtendedLifetime(run.buffer) {} }
        Parallel.forEach(chunks) { c in
            let n0 = g.batch * c / chunks, n1 = g.batch * (c + 1) / chunks
            let cols = sp + c * scratch, y = cols + k * l
            withUnsafePointer(to: geom) { gp in
                for n in n0..<n1 {
                    if flags == 0 {   // no epilogue: straight into the output, bias included
                        nabla_f32_conv_smallk(xp + n * img, wp, bp, op + n * outImg, gp, Int64(oc), 0, 1, cols)
                        continue
                    }
                    // The kernel adds the bias as the separate conv would; the epilogue then only rectifies and pools.
                    nabla_f32_conv_smallk(xp + n * img, wp, bp, y, gp, Int64(oc), 0, 1, cols)
                    nabla_f32_conv_epilogue(y, 0, Int64(l), nil, op + n * outImg, Int64(oc), Int64(g.outH), Int64(g.outW),
                                            0, Int64(oc), relu, pool)
                }
            }
        }
    }

    /// `preparedSmallK` for a few images, each split by output channels (whole blocks of 4, the kernel's register
    /// block) across the spinning pool: each chunk unfolds the image's columns itself (K·L, a few KB).
    private func preparedSmallKByChannels(_ x: Tensor, _ prepared: PreparedConv2d, _ g: ConvGeometry, _ flags: Int, _ out: Tensor) {
        let w = prepared.weight, oc = w.shape[0], l = g.outH * g.outW, k = g.columnsShape[0]
        let blocks = (oc + 3) / 4, chunks = min(Parallel.threads, blocks)
        let run = SmallKRun(x, prepared, g, flags, out, chunks: chunks)
        let (img, outImg, scratch, xp, wp, op, bp, sp) = (run.img, run.outImg, run.scratch, run.xp, run.wp, run.op, run.bp, run.sp)
        let (geom, relu, pool) = (run.geom, run.relu, run.pool)
        let planeOut = outImg / max(oc, 1)
        defer { withExtendedLifetime(run.buffer) {} }
        for n in 0..<g.batch {
            Parallel.forEach(chunks) { c in
                let k0 = min(oc, 4 * (blocks * c / chunks)), k1 = min(oc, 4 * (blocks * (c + 1) / chunks))
                guard k0 < k1 else { return }
                let cols = sp + c * scratch, y = cols + k * l
                withUnsafePointer(to: geom) { gp in
                    let b0 = bp.map { $0 + k0 }
                    if flags == 0 {
                        nabla_f32_conv_smallk(xp + n * img, wp + k0 * k, b0, op + n * outImg + k0 * planeOut, gp, Int64(k1 - k0), 0, 1, cols)
                        return
                    }
                    nabla_f32_conv_smallk(xp + n * img, wp + k0 * k, b0, y + k0 * l, gp, Int64(k1 - k0), 0, 1, cols)
                    nabla_f32_conv_epilogue(y, 0, Int64(l), nil, op + n * outImg, Int64(oc), Int64(g.outH), Int64(g.outW),
                                            Int64(k0), Int64(k1), relu, pool)
                }
            }
        }
    }

    /// im2col + GEMM over chunks of images (as `convChunked`), with the epilogue reading each chunk's GEMM result
    /// [OC, chunk·L] in place of the layout swap.
    private func preparedChunked(_ x: Tensor, _ prepared: PreparedConv2d, _ g: ConvGeometry, _ flags: Int, _ out: Tensor) {
        let w = prepared.weight, oc = w.shape[0], k = g.columnsShape[0], l = g.outH * g.outW
        let img = g.channels * g.height * g.width, outImg = out.count / max(g.batch, 1)
        let chunk = max(1, min(g.batch, (1 << 20) / max(1, k * l)))
        let cols = Tensor(empty: [k * chunk * l], dtype: .float32, device: .cpu), y = Tensor(empty: [oc * chunk * l], dtype: .float32, device: .cpu)
        let xp = UnsafePointer(Self.f32p(x)), wp = UnsafePointer(Self.f32p(w)), op = Self.f32p(out)
        let bp = prepared.bias.map { UnsafePointer(Self.f32p($0)) }, cp = Self.f32p(cols), yp = Self.f32p(y)
        let relu: Int32 = flags & 1 != 0 ? 1 : 0, pool: Int32 = flags & 2 != 0 ? 1 : 0
        defer { withExtendedLifetime((cols, y)) {} }
        for c0 in stride(from: 0, to: g.batch, by: chunk) {
            let cn = min(chunk, g.batch - c0), cl = cn * l
            var gc = g
            gc.batch = cn
            let geom = gc.c
            forBatchChunks(batch: cn, work: k * cl) { n0, n1 in
                withUnsafePointer(to: geom) { nabla_f32_im2col(xp + c0 * img, cp, $0, Int64(n0), Int64(n1)) }
            }
            BLAS.gemm(transA: false, transB: false, m: oc, n: cl, k: k, alpha: 1, a: wp, lda: k, b: cp, ldb: cl,
                      beta: 0, c: yp, ldc: cl)                                                  // [OC, cn·L]
            forBatchChunks(batch: cn * oc, work: oc * cl) { p0, p1 in
                nabla_f32_conv_epilogue(yp, Int64(l), Int64(cl), bp, op + c0 * outImg, Int64(oc), Int64(g.outH), Int64(g.outW),
                                        Int64(p0), Int64(p1), relu, pool)
            }
        }
    }
}

extension ConvGeometry {
    /// Whether the Winograd kernels can compute this convolution at all: 3x3, stride 1, no dilation, padding at most
    /// 2 (`winogradApplies` adds a lower bound on the work, for training calls that transform the filter each time).
    var winogradGeometryApplies: Bool {
        kernelH == 3 && kernelW == 3 && strideH == 1 && strideW == 1 && dilationH == 1 && dilationW == 1
            && padH <= 2 && padW <= 2 && outH > 0 && outW > 0
    }
}

/// What the two small-K drivers hand to the C kernel: the pointers, a per-chunk scratch buffer (the image's columns
/// and the pre-epilogue result), the one-image geometry and the epilogue's flags.
private struct SmallKRun {
    let img: Int, outImg: Int, scratch: Int
    let buffer: Tensor
    let xp: UnsafePointer<Float>, wp: UnsafePointer<Float>, op: UnsafeMutablePointer<Float>
    let bp: UnsafePointer<Float>?, sp: UnsafeMutablePointer<Float>
    let geom: nabla_conv_geom, relu: Int32, pool: Int32

    init(_ x: Tensor, _ prepared: PreparedConv2d, _ g: ConvGeometry, _ flags: Int, _ out: Tensor, chunks: Int) {
        func f32p(_ t: Tensor) -> UnsafeMutablePointer<Float> { t.storage.pointer(Float.self) + t.offset }
        let oc = prepared.weight.shape[0], l = g.outH * g.outW
        img = g.channels * g.height * g.width
        outImg = out.count / max(g.batch, 1)
        scratch = g.columnsShape[0] * l + oc * l
        buffer = Tensor(empty: [chunks * scratch], dtype: .float32, device: .cpu)
        xp = UnsafePointer(f32p(x)); wp = UnsafePointer(f32p(prepared.weight)); op = f32p(out)
        bp = prepared.bias.map { UnsafePointer(f32p($0)) }; sp = f32p(buffer)
        var one = g
        one.batch = 1
        geom = one.c
        relu = flags & 1 != 0 ? 1 : 0
        pool = flags & 2 != 0 ? 1 : 0
    }
}
