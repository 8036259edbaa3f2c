import CNablaKernels

// A training convolution with its ReLU and 2x2 max pool (`Backend.conv2dReluMaxPool`), and the gradient through the
// pool and the ReLU (`Backend.maxPool2dReluBackward`), as a compiled graph fuses them. Each thread convolves a few
// images at a time into a buffer that stays in its cache, rectifies and pools it there into the output and the
// indices, so the full-size activation never goes to memory to be read back twice; the gradient writes each element
// of the activation's gradient once, with no zeroing pass before a scatter.

/// Activation elements per block of images a thread convolves at once (512 KiB of float32: in L2 beside the
/// convolution kernel's own scratch).
private let blockActivationElements = 1 << 17

extension CPUBackend {
    /// Float32 with 2x2, stride-2 windows over the whole output, and a convolution the small-K or Winograd kernel
    /// runs: per block of images, the kernel the separate `conv2d` picks for the whole batch (so the values are
    /// the same), then the pool of its ReLU in cache. The composite elsewhere.
    public func conv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, windows: PoolWindows,
                                  out: Tensor, indices: Tensor) {
        let algorithm = ConvAlgorithm(g, dtype: x.dtype)
        guard x.dtype == .float32, algorithm != .chunked, windows.tiledKernel == 2, windows.height == g.outH,
              windows.width == g.outW, g.batch > 0, [x, weight, out, indices].allSatisfy(\.isContiguous),
              bias?.isContiguous ?? true
        else {
            return compositeConv2dReluMaxPool(x, weight: weight, bias: bias, geometry: g, windows: windows, out: out, indices: indices)
        }
        counter.bump(.conv2d)
        let oc = weight.shape[0], plane = g.outH * g.outW, image = g.channels * g.height * g.width
        let ph = windows.outH, pw = windows.outW
        let perBlock = max(1, min(g.batch, blockActivationElements / max(1, oc * plane)))
        let xp = UnsafePointer(x.storage.pointer(Float.self) + x.offset), wp = UnsafePointer(weight.storage.pointer(Float.self) + weight.offset)
        let bp = bias.map { UnsafePointer($0.storage.pointer(Float.self) + $0.offset) }
        let op = out.storage.pointer(Float.self) + out.offset, ip = indices.storage.pointer(Int64.self) + indices.offset
        // Winograd's transformed filter, once for every block.
        let transformed = ScratchBuffer<Float>(count: algorithm == .winograd ? 16 * g.channels * oc : 0)
        defer { transformed.release() }
        if algorithm == .winograd { nabla_f32_wino_filter(wp, Int64(oc), Int64(g.channels), 0, transformed.pointer) }
        var blockGeometry = g
        blockGeometry.batch = perBlock
        var wino = blockGeometry.winograd(outChannels: oc)
        let kernelScratch = algorithm == .winograd ? Int(nabla_f32_wino_scratch(&wino)) : g.columnsShape[0] * plane
        forBatchChunks(batch: g.batch, work: g.batch * oc * plane * g.columnsShape[0]) { n0, n1 in
            let activation = ScratchBuffer<Float>(count: perBlock * oc * plane), scratch = ScratchBuffer<Float>(count: kernelScratch)
            defer { activation.release(); scratch.release() }
            let y = activation.pointer
            for b0 in stride(from: n0, to: n1, by: perBlock) {
                let count = min(perBlock, n1 - b0)
                var block = g
                block.batch = count
                let xb = xp + b0 * image
                switch algorithm {
                case .winograd:
                    var geom = block.winograd(outChannels: oc)
                    let rows = nabla_wino_tile_rows(&geom)
                    nabla_f32_wino_conv(xb, &geom, transformed.pointer, bp, y, 0, rows, 0, Int64(oc), 0, scratch.pointer)
                default:
                    withUnsafePointer(to: block.c) { nabla_f32_conv_smallk(xb, wp, bp, y, $0, Int64(oc), 0, Int64(count), scratch.pointer) }
                }
                let planeOffset = b0 * oc * ph * pw
                nabla_f32_relu_maxpool2x2(y, op + planeOffset, ip + planeOffset, 0, Int64(count * oc), Int64(g.outH), Int64(g.outW),
                                     Int64(ph), Int64(pw))
            }
        }
    }

    /// Float32, contiguous, 2x2 stride-2 windows: one pass that writes every element of `out` once
    /// (`nabla_f32_maxpool2x2_relu_backward`). The composite elsewhere.
    public func maxPool2dReluBackward(_ grad: Tensor, pooled: Tensor, indices: Tensor, windows: PoolWindows, out: Tensor) {
        let perPlane = windows.outH * windows.outW
        guard grad.dtype == .float32, pooled.dtype == .float32, windows.tiledKernel == 2, perPlane > 0,
              [grad, pooled, indices, out].allSatisfy(\.isContiguous), out.count == grad.count / perPlane * windows.height * windows.width
        else { return compositeMaxPool2dReluBackward(grad, pooled: pooled, indices: indices, out: out) }
        let planes = grad.count / perPlane
        guard planes > 0 else { return }
        let gp = grad.storage.pointer(Float.self) + grad.offset, pp = pooled.storage.pointer(Float.self) + pooled.offset
        let ip = indices.storage.pointer(Int64.self) + indices.offset, op = out.storage.pointer(Float.self) + out.offset
        let H = Int64(windows.height), W = Int64(windows.width), OH = Int64(windows.outH), OW = Int64(windows.outW)
        let chunks = Parallel.chunks(work: out.count, items: planes)
        Parallel.forEach(chunks) { c in
            nabla_f32_maxpool2x2_relu_backward(gp, pp, ip, op, Int64(planes * c / chunks), Int64(planes * (c + 1) / chunks), H, W, OH, OW)
        }
    }
}
