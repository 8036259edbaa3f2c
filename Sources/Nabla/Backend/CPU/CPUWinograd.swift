import CNablaKernels

// Winograd F(2x2, 3x3) convolution on the CPU (winograd.c): float32, 3x3 kernels, stride 1, no dilation, groups 1,
// padding at most 2. 16 multiplications per output tile and channel pair instead of 36, so it does 2.25x fewer
// flops than im2col + GEMM; the input gradient is the same kernel run on the output gradient with the rotated,
// transposed filter, and the weight gradient is summed in the transformed domain. The output tiles are split across
// the kernel threads by rows of output tiles, each transforming blocks of rows that stay in its L2.

/// The fewest 2x2 output tiles (over the whole batch) for which a convolution runs Winograd.
let winogradMinTiles = 256

extension ConvGeometry {
    /// Whether the Winograd kernels compute this convolution (with `float32` data): 3x3 kernel, stride 1, no
    /// dilation, padding at most 2 on each side (the input gradient runs with padding 2 - p), and at least
    /// `winogradMinTiles` 2x2 output tiles over the batch. Below that (a single small image, as in batch-1
    /// inference) the per-call setup (filter transform, scratch, thread split) costs more than the flops it saves,
    /// and im2col + GEMM is faster.
    var winogradApplies: Bool {
        kernelH == 3 && kernelW == 3 && strideH == 1 && strideW == 1 && dilationH == 1 && dilationW == 1
            && padH <= 2 && padW <= 2 && outH > 0 && outW > 0
            && batch * ((outH + 1) / 2) * ((outW + 1) / 2) >= winogradMinTiles
    }

    /// The Winograd kernels' view of this geometry with `outChannels` output channels.
    func winograd(outChannels: Int) -> nabla_wino_geom {
        nabla_wino_geom(n: Int64(batch), c: Int64(channels), h: Int64(height), w: Int64(width),
                        ph: Int64(padH), pw: Int64(padW), oc: Int64(outChannels), oh: Int64(outH), ow: Int64(outW))
    }
}

extension CPUBackend {
    /// `out` [N, OC, oh, ow] = conv(`x` [N, C, H, W], `weight` [OC, C, 3, 3]) + `bias` [OC], by Winograd
    /// (float32, contiguous; `geometry.winogradApplies`).
    package func convWinograd(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor) {
        let oc = weight.shape[0], c = geometry.channels
        let transformed = ScratchBuffer<Float>(count: 16 * c * oc), filter = transformed.pointer
        defer { transformed.release() }
        nabla_f32_wino_filter(Self.f32(weight), Int64(oc), Int64(c), 0, filter)
        winogradConv(Self.f32(x), geometry.winograd(outChannels: oc), filter: filter,
                     bias: bias.map { Self.f32($0) }, out: out.storage.pointer(Float.self) + out.offset)
    }

    /// Gradients of `convWinograd` from `grad` [N, OC, oh, ow]: the input's [N, C, H, W], the weight's [OC, C, 3, 3]
    /// and the bias's [OC], each only when asked for (nil otherwise). All tensors float32 and contiguous. The input's
    /// goes into `inputGradient` when one is given (and is returned as it).
    package func convWinogradBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry g: ConvGeometry,
                                      input needX: Bool, weight needW: Bool, bias needB: Bool,
                                      inputGradient: Tensor? = nil) -> (Tensor?, Tensor?, Tensor?) {
        let oc = weight.shape[0], c = g.channels
        let gp = Self.f32(grad)
        var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
        if needX {
            // The adjoint: a stride-1 3x3 convolution of the output gradient (OC channels, oh x ow, padding 2 - p)
            // with the filter rotated by 180 degrees and its channel axes swapped, whose output is exactly H x W.
            let adjoint = ConvGeometry(batch: g.batch, channels: oc, height: g.outH, width: g.outW, kernelH: 3, kernelW: 3,
                                       strideH: 1, strideW: 1, padH: 2 - g.padH, padW: 2 - g.padW, dilationH: 1, dilationW: 1,
                                       outH: g.height, outW: g.width)
            let transformed = ScratchBuffer<Float>(count: 16 * c * oc), filter = transformed.pointer
            defer { transformed.release() }
            nabla_f32_wino_filter(Self.f32(weight), Int64(oc), Int64(c), 1, filter)
            // Into the caller's contiguous buffer when given (a compiled graph's planned memory).
            let t = inputGradient ?? Tensor(empty: g.imageShape, dtype: .float32, device: .cpu)
            winogradConv(gp, adjoint.winograd(outChannels: c), filter: filter, bias: nil, out: t.storage.pointer(Float.self) + t.offset)
            gx = t
        }
        if needW || needB {
            let (w, b) = winogradWeightGrad(Self.f32(x), gp, g.winograd(outChannels: oc), bias: needB)
            gw = needW ? w : nil
            gb = b
        }
        return (gx, gw, gb)
    }

    /// A contiguous float32 tensor's first element.
    private static func f32(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.storage.pointer(Float.self) + t.offset) }

    /// Runs `nabla_f32_wino_conv` over all tile rows of `geom`, split across the kernel threads.
    private func winogradConv(_ x: UnsafePointer<Float>, _ geom: nabla_wino_geom, filter: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        var geom = geom
        let rows = Int(nabla_wino_tile_rows(&geom)), scratch = Int(nabla_f32_wino_scratch(&geom))
        let chunks = Parallel.chunks(work: rows * Int(geom.ow * geom.c * geom.oc), items: rows)
        Parallel.forEach(chunks) { i in
            let t0 = rows * i / chunks, t1 = rows * (i + 1) / chunks
            guard t0 < t1 else { return }
            let tiles = ScratchBuffer<Float>(count: scratch), buffer = tiles.pointer
            defer { tiles.release() }
            withUnsafePointer(to: geom) { nabla_f32_wino_conv(x, $0, filter, bias, out, Int64(t0), Int64(t1), 0, geom.oc, 0, buffer) }
        }
    }

    /// The weight gradient [OC, C, 3, 3] (and the bias gradient [OC] when `bias`) of the convolution `geom` from its
    /// input `x` and output gradient `gy`: per-thread sums in the transformed domain ([16, C, OC]), added up, then transformed back.
    private func winogradWeightGrad(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ geom: nabla_wino_geom,
                                    bias: Bool) -> (Tensor, Tensor?) {
        var geom = geom
        let oc = Int(geom.oc), c = Int(geom.c), width = 16 * oc * c + oc
        let rows = Int(nabla_wino_tile_rows(&geom)), scratch = Int(nabla_f32_wino_scratch(&geom))
        let chunks = Parallel.chunks(work: rows * Int(geom.ow) * c * oc, items: rows)
        let sums: [Float] = Parallel.sumOfPartials(items: rows, chunks: chunks, width: width, scratch: scratch) { r, acc, buffer in
            withUnsafePointer(to: geom) {
                nabla_f32_wino_wgrad(x, gy, $0, Int64(r.lowerBound), Int64(r.upperBound), acc, bias ? acc + 16 * oc * c : nil, buffer)
            }
        }
        let gw = Tensor(empty: [oc, c, 3, 3], dtype: .float32, device: .cpu)
        sums.withUnsafeBufferPointer { nabla_f32_wino_wgrad_output($0.baseAddress, Int64(oc), Int64(c), gw.storage.pointer(Float.self)) }
        var gb: Tensor? = nil
        if bias {
            let t = Tensor(empty: [oc], dtype: .float32, device: .cpu)
            for i in 0..<oc { t.storage.pointer(Float.self)[i] = sums[16 * oc * c + i] }
            gb = t
        }
        return (gw, gb)
    }
}
