// Pooling (`torch.nn.functional.max_pool1d/2d`, `avg_pool1d/2d`, `adaptive_avg_pool1d/2d`, `adaptive_max_pool1d/2d`).
//
// Max pooling runs a backend kernel that also returns the argmax indices; its backward scatters by
// those indices (a recorded op whose own backward gathers, so higher-order gradients work).
// Average pooling is the sum of `im2col` columns over the window; adaptive average pooling is two
// small matrix products. Both are compositions, differentiated by autograd.

/// Output size of one pooled dim (PyTorch's `pooling_output_shape`).
private func poolOutSize(_ size: Int, kernel: Int, stride: Int, pad: Int, dilation: Int, ceilMode: Bool, op: String) -> Int {
    let num = size + 2 * pad - dilation * (kernel - 1) - 1
    check(num >= 0, "\(op): kernel \(kernel) (dilation \(dilation)) is larger than the padded input size \(size + 2 * pad)")
    var out = (ceilMode ? (num + stride - 1) / stride : num / stride) + 1
    if ceilMode && (out - 1) * stride >= size + pad { out -= 1 }
    return out
}

/// Resolved kernel, stride, padding and dilation of a pool over `rank` spatial dims.
private func poolArgs(_ op: String, rank: Int, kernelSize: SpatialSize, stride: SpatialSize?, padding: SpatialSize,
                      dilation: SpatialSize) -> (k: [Int], s: [Int], p: [Int], d: [Int]) {
    let k = kernelSize.expanded(rank, op: op, name: "kernelSize")
    let s = (stride ?? kernelSize).expanded(rank, op: op, name: "stride")
    let p = padding.expanded(rank, op: op, name: "padding"), d = dilation.expanded(rank, op: op, name: "dilation")
    check(k.allSatisfy { $0 > 0 }, "\(op): kernelSize must be positive, got \(k)")
    check(s.allSatisfy { $0 > 0 }, "\(op): stride must be positive, got \(s)")
    check(d.allSatisfy { $0 > 0 }, "\(op): dilation must be positive, got \(d)")
    for i in 0..<rank {
        check(p[i] >= 0 && p[i] <= k[i] / 2, "\(op): padding should be at most half of the kernel size, got padding \(p) and kernelSize \(k)")
    }
    return (k, s, p, d)
}

/// The max-pool kernel and its backward on a 4-D input [N, C, H, W].
private func maxPoolCore(_ x: Tensor, _ w: PoolWindows, op: String) -> (Tensor, Tensor) {
    check(x.dtype.isFloatingPoint, "\(op): expected a floating point input, got \(x.dtype)")
    let shape = [x.shape[0], x.shape[1], w.outH, w.outW]
    let out = Tensor(empty: shape, dtype: x.dtype, device: x.device)
    let idx = Tensor(empty: shape, dtype: .int64, device: x.device)
    if out.count > 0 { x.backend.maxPool2d(x.contiguousNoGrad(), windows: w, out: out, indices: idx) }
    guard isRecording(x) else { return (out, idx) }
    let inShape = x.shape
    record(out, op: "MaxPool2DWithIndicesBackward", inputs: [x]) { g, _ in [maxPoolBackward(g[0], idx, inShape)] }
    return (out, idx)
}

/// Scatters `grad` [N, C, oh, ow] into zeros of `inShape` at `indices`; its backward gathers.
private func maxPoolBackward(_ grad: Tensor, _ indices: Tensor, _ inShape: [Int]) -> Tensor {
    let out = Tensor(empty: inShape, dtype: grad.dtype, device: grad.device)
    if out.count > 0 {
        if grad.count > 0 { grad.backend.maxPool2dBackward(grad.contiguousNoGrad(), indices: indices, out: out) }
        else { grad.backend.fill(out, value: 0) }
    }
    guard isRecording(grad) else { return out }
    let n = inShape[0], c = inShape[1], plane = inShape[2] * inShape[3]
    return record(out, op: "MaxPool2DWithIndicesBackwardBackward", inputs: [grad]) { gg, _ in
        [Nabla.gather(gg[0].reshape([n, c, plane]), dim: 2, index: indices.reshape([n, c, -1])).view(indices.shape)]
    }
}

/// Windows of a regular (strided) pool over an H x W plane.
private func regularWindows(h: Int, w: Int, k: [Int], s: [Int], p: [Int], d: [Int], ceilMode: Bool, op: String) -> PoolWindows {
    let oh = poolOutSize(h, kernel: k[0], stride: s[0], pad: p[0], dilation: d[0], ceilMode: ceilMode, op: op)
    let ow = poolOutSize(w, kernel: k[1], stride: s[1], pad: p[1], dilation: d[1], ceilMode: ceilMode, op: op)
    check(oh > 0 && ow > 0, "\(op): output size [\(oh), \(ow)] is too small for input plane [\(h), \(w)]")
    return PoolWindows(height: h, width: w, rowStart: (0..<oh).map { $0 * s[0] - p[0] }, rowCount: Array(repeating: k[0], count: oh),
                       rowDilation: d[0], colStart: (0..<ow).map { $0 * s[1] - p[1] }, colCount: Array(repeating: k[1], count: ow),
                       colDilation: d[1])
}

/// 2-D max pooling with the flat in-plane argmax indices (`F.max_pool2d(..., return_indices=True)`).
public func maxPool2dWithIndices(_ input: Tensor, kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0,
                                 dilation: SpatialSize = 1, ceilMode: Bool = false) -> (Tensor, Tensor) {
    let op = "maxPool2d"
    let (x, unbatched) = batched(input, rank: 4, op: op, layout: "[N, C, H, W]")
    let a = poolArgs(op, rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    let w = regularWindows(h: x.shape[2], w: x.shape[3], k: a.k, s: a.s, p: a.p, d: a.d, ceilMode: ceilMode, op: op)
    let (out, idx) = maxPoolCore(x, w, op: op)
    return unbatched ? (out.squeeze(0), idx.squeeze(0)) : (out, idx)
}

/// 2-D max pooling over [N, C, H, W] or [C, H, W] (`torch.nn.functional.max_pool2d`); `stride` defaults to `kernelSize`.
///
/// ```swift
/// let y = maxPool2d(x, kernelSize: 2)   // [N, C, H/2, W/2]
/// ```
public func maxPool2d(_ input: Tensor, kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0,
                      dilation: SpatialSize = 1, ceilMode: Bool = false) -> Tensor {
    maxPool2dWithIndices(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode).0
}

/// 1-D max pooling with argmax indices (`F.max_pool1d(..., return_indices=True)`).
public func maxPool1dWithIndices(_ input: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                                 dilation: Int = 1, ceilMode: Bool = false) -> (Tensor, Tensor) {
    let op = "maxPool1d"
    let (x, unbatched) = batched(input, rank: 3, op: op, layout: "[N, C, L]")
    let a = poolArgs(op, rank: 1, kernelSize: SpatialSize(kernelSize), stride: stride.map { SpatialSize($0) },
                     padding: SpatialSize(padding), dilation: SpatialSize(dilation))
    let w = regularWindows(h: 1, w: x.shape[2], k: [1] + a.k, s: [1] + a.s, p: [0] + a.p, d: [1] + a.d, ceilMode: ceilMode, op: op)
    let (out, idx) = maxPoolCore(x.unsqueeze(2), w, op: op)
    let o = out.squeeze(2), i = idx.squeeze(2)
    return unbatched ? (o.squeeze(0), i.squeeze(0)) : (o, i)
}

/// 1-D max pooling over [N, C, L] or [C, L] (`torch.nn.functional.max_pool1d`).
public func maxPool1d(_ input: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                      dilation: Int = 1, ceilMode: Bool = false) -> Tensor {
    maxPool1dWithIndices(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode).0
}

/// 2-D average pooling over [N, C, H, W] or [C, H, W] (`torch.nn.functional.avg_pool2d`).
///
/// With `countIncludePad` the divisor counts padded zeros (windows clipped to the padded input);
/// `divisorOverride` replaces the divisor.
public func avgPool2d(_ input: Tensor, kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
    let op = "avgPool2d"
    let (x, unbatched) = batched(input, rank: 4, op: op, layout: "[N, C, H, W]")
    let a = poolArgs(op, rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, dilation: 1)
    let out = avgPoolCore(x, k: a.k, s: a.s, p: a.p, ceilMode: ceilMode, countIncludePad: countIncludePad,
                          divisorOverride: divisorOverride, op: op)
    return unbatched ? out.squeeze(0) : out
}

/// 1-D average pooling over [N, C, L] or [C, L] (`torch.nn.functional.avg_pool1d`).
public func avgPool1d(_ input: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
    let op = "avgPool1d"
    let (x, unbatched) = batched(input, rank: 3, op: op, layout: "[N, C, L]")
    let a = poolArgs(op, rank: 1, kernelSize: SpatialSize(kernelSize), stride: stride.map { SpatialSize($0) },
                     padding: SpatialSize(padding), dilation: 1)
    let out = avgPoolCore(x.unsqueeze(2), k: [1] + a.k, s: [1] + a.s, p: [0] + a.p, ceilMode: ceilMode,
                          countIncludePad: countIncludePad, divisorOverride: nil, op: op).squeeze(2)
    return unbatched ? out.squeeze(0) : out
}

/// Average pooling of a 4-D input as window sums of `im2col` columns divided by PyTorch's divisors.
private func avgPoolCore(_ x: Tensor, k: [Int], s: [Int], p: [Int], ceilMode: Bool, countIncludePad: Bool,
                         divisorOverride: Int?, op: String) -> Tensor {
    check(x.dtype.isFloatingPoint, "\(op): expected a floating point input, got \(x.dtype)")
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let oh = poolOutSize(h, kernel: k[0], stride: s[0], pad: p[0], dilation: 1, ceilMode: ceilMode, op: op)
    let ow = poolOutSize(w, kernel: k[1], stride: s[1], pad: p[1], dilation: 1, ceilMode: ceilMode, op: op)
    check(oh > 0 && ow > 0, "\(op): output size [\(oh), \(ow)] is too small for input \(x.shape)")
    if let divisorOverride { check(divisorOverride != 0, "\(op): divisorOverride must be non-zero") }
    var divisors: [Double] = []
    divisors.reserveCapacity(oh * ow)
    for i in 0..<oh {
        for j in 0..<ow {
            if let divisorOverride { divisors.append(Double(divisorOverride)); continue }
            var h0 = i * s[0] - p[0], w0 = j * s[1] - p[1]
            var h1 = Swift.min(h0 + k[0], h + p[0]), w1 = Swift.min(w0 + k[1], w + p[1])
            let padded = (h1 - h0) * (w1 - w0)
            h0 = Swift.max(h0, 0); w0 = Swift.max(w0, 0); h1 = Swift.min(h1, h); w1 = Swift.min(w1, w)
            divisors.append(Double(countIncludePad ? padded : (h1 - h0) * (w1 - w0)))
        }
    }
    let g = ConvGeometry(batch: n * c, channels: 1, height: h, width: w, kernelH: k[0], kernelW: k[1],
                         strideH: s[0], strideW: s[1], padH: p[0], padW: p[1], dilationH: 1, dilationW: 1, outH: oh, outW: ow)
    let sums = im2colColumns(x.reshape([n * c, 1, h, w]), g).sum(dim: 0).view([n * c, oh * ow])
    let div = Tensor(shape: [oh * ow], data: divisors, dtype: x.dtype).to(x.device)
    return (sums / div).view([n, c, oh, ow])
}

/// PyTorch's adaptive window `[floor(i·size/out), ceil((i+1)·size/out))` for each output index.
private func adaptiveWindows(_ size: Int, _ out: Int) -> (start: [Int], count: [Int]) {
    var start: [Int] = [], count: [Int] = []
    for i in 0..<out {
        let a = (i * size) / out, b = ((i + 1) * size + out - 1) / out
        start.append(a); count.append(b - a)
    }
    return (start, count)
}

/// The [out, size] averaging matrix of adaptive average pooling along one dim.
private func adaptiveAverager(_ size: Int, _ out: Int, dtype: DType, device: Device) -> Tensor {
    let (start, count) = adaptiveWindows(size, out)
    var m = Array(repeating: 0.0, count: out * size)
    for i in 0..<out { for j in start[i]..<(start[i] + count[i]) { m[i * size + j] = 1 / Double(count[i]) } }
    return Tensor(shape: [out, size], data: m, dtype: dtype).to(device)
}

/// Adaptive 2-D average pooling to `outputSize` over [N, C, H, W] or [C, H, W] (`torch.nn.functional.adaptive_avg_pool2d`).
///
/// ```swift
/// let y = adaptiveAvgPool2d(x, outputSize: 1)   // global average pooling: [N, C, 1, 1]
/// ```
public func adaptiveAvgPool2d(_ input: Tensor, outputSize: SpatialSize) -> Tensor {
    let op = "adaptiveAvgPool2d"
    check(input.rank == 3 || input.rank == 4, "\(op): expected 3-D or 4-D input [N, C, H, W], got shape \(input.shape)")
    check(input.dtype.isFloatingPoint, "\(op): expected a floating point input, got \(input.dtype)")
    let o = outputSize.expanded(2, op: op, name: "outputSize")
    check(o[0] > 0 && o[1] > 0, "\(op): outputSize must be positive, got \(o)")
    let h = input.shape[input.rank - 2], w = input.shape[input.rank - 1]
    check(h > 0 && w > 0, "\(op): expected a non-empty input plane, got shape \(input.shape)")
    let rows = adaptiveAverager(h, o[0], dtype: input.dtype, device: input.device)
    let cols = adaptiveAverager(w, o[1], dtype: input.dtype, device: input.device)
    return matmul(matmul(rows, input), cols.t())
}

/// Adaptive 1-D average pooling to `outputSize` over [N, C, L] or [C, L] (`torch.nn.functional.adaptive_avg_pool1d`).
public func adaptiveAvgPool1d(_ input: Tensor, outputSize: Int) -> Tensor {
    let op = "adaptiveAvgPool1d"
    check(input.rank == 2 || input.rank == 3, "\(op): expected 2-D or 3-D input [N, C, L], got shape \(input.shape)")
    check(input.dtype.isFloatingPoint, "\(op): expected a floating point input, got \(input.dtype)")
    check(outputSize > 0 && input.shape[input.rank - 1] > 0, "\(op): expected a positive outputSize and non-empty input, got \(outputSize) and \(input.shape)")
    return matmul(input, adaptiveAverager(input.shape[input.rank - 1], outputSize, dtype: input.dtype, device: input.device).t())
}

/// Adaptive 2-D max pooling with argmax indices (`F.adaptive_max_pool2d(..., return_indices=True)`).
public func adaptiveMaxPool2dWithIndices(_ input: Tensor, outputSize: SpatialSize) -> (Tensor, Tensor) {
    let op = "adaptiveMaxPool2d"
    let (x, unbatched) = batched(input, rank: 4, op: op, layout: "[N, C, H, W]")
    let o = outputSize.expanded(2, op: op, name: "outputSize")
    check(o[0] > 0 && o[1] > 0, "\(op): outputSize must be positive, got \(o)")
    let h = x.shape[2], w = x.shape[3]
    check(h > 0 && w > 0, "\(op): expected a non-empty input plane, got shape \(input.shape)")
    let r = adaptiveWindows(h, o[0]), c = adaptiveWindows(w, o[1])
    let win = PoolWindows(height: h, width: w, rowStart: r.start, rowCount: r.count, rowDilation: 1,
                          colStart: c.start, colCount: c.count, colDilation: 1)
    let (out, idx) = maxPoolCore(x, win, op: op)
    return unbatched ? (out.squeeze(0), idx.squeeze(0)) : (out, idx)
}

/// Adaptive 2-D max pooling to `outputSize` over [N, C, H, W] or [C, H, W] (`torch.nn.functional.adaptive_max_pool2d`).
public func adaptiveMaxPool2d(_ input: Tensor, outputSize: SpatialSize) -> Tensor {
    adaptiveMaxPool2dWithIndices(input, outputSize: outputSize).0
}

/// Adaptive 1-D max pooling to `outputSize` over [N, C, L] or [C, L] (`torch.nn.functional.adaptive_max_pool1d`).
public func adaptiveMaxPool1d(_ input: Tensor, outputSize: Int) -> Tensor {
    check(input.rank == 2 || input.rank == 3, "adaptiveMaxPool1d: expected 2-D or 3-D input [N, C, L], got shape \(input.shape)")
    return adaptiveMaxPool2d(input.unsqueeze(-2), outputSize: [1, outputSize]).squeeze(-2)
}
