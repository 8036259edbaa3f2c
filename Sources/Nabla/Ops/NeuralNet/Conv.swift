// Convolutions (`torch.nn.functional.conv1d/conv2d/conv_transpose2d`), NCHW / NCL layouts.
//
// Every convolution lowers to two differentiable primitives, `im2col` and its adjoint `col2im`
// (backend kernels), plus BLAS matrix products: the columns of the whole batch form one matrix
// [C·kh·kw, N·oh·ow], so each convolution is one large GEMM per group. Autograd differentiates the
// composition, so gradients of any order come from the same definition.
// Groups-1 convolutions run as one recorded op instead (`conv2dFused`): the backend's `conv2d` kernel, which picks
// its algorithm (on the CPU: a direct kernel for a small C·kh·kw, Winograd F(2x2, 3x3), or im2col + GEMM over chunks
// of the batch); its first-order backward is the backend's too, and under createGraph it is that same
// differentiable composition.

/// Sizes per spatial dimension for conv and pool arguments: `3` means 3 on every dimension, `[3, 5]` one per dimension.
///
/// ```swift
/// conv2d(x, w, stride: 2, padding: [1, 0])
/// ```
public struct SpatialSize: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The values as given (one value, or one per spatial dimension).
    public let values: [Int]
    /// One value for every dimension.
    public init(_ value: Int) { values = [value] }
    /// One value per dimension.
    public init(_ values: [Int]) { self.values = values }
    /// `3`.
    public init(integerLiteral value: Int) { values = [value] }
    /// `[3, 5]`.
    public init(arrayLiteral elements: Int...) { values = elements }

    /// The values expanded to `rank` dimensions; traps naming `op` and `name` on a wrong count.
    public func expanded(_ rank: Int, op: String, name: String) -> [Int] {
        if values.count == 1 { return Array(repeating: values[0], count: rank) }
        check(values.count == rank, "\(op): expected \(name) to be a single int or \(rank) ints, got \(values)")
        return values
    }

    /// `3` or `[3, 5]`.
    public var description: String { values.count == 1 ? "\(values[0])" : "\(values)" }
}

/// The padding of a convolution: explicit sizes, or PyTorch's `"same"` / `"valid"` strings.
public enum ConvPadding: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    /// Zero padding of these sizes on both sides of each spatial dimension.
    case explicit(SpatialSize)
    /// Pads so the output has the input's size (stride 1 only; extra padding goes right/bottom, as PyTorch).
    case same
    /// No padding.
    case valid
    /// `padding: 1`.
    public init(integerLiteral value: Int) { self = .explicit(SpatialSize(value)) }
    /// `padding: [1, 2]`.
    public init(arrayLiteral elements: Int...) { self = .explicit(SpatialSize(elements)) }
}

/// Unfolds sliding windows into columns [C·kh·kw, N·oh·ow]; the backward is `col2imColumns`.
func im2colColumns(_ x: Tensor, _ g: ConvGeometry) -> Tensor {
    let out = Tensor(empty: g.columnsShape, dtype: x.dtype, device: x.device)
    if out.count > 0 { x.backend.im2col(x.contiguousNoGrad(), geometry: g, out: out) }
    guard isRecording(x) else { return out }
    return record(out, op: "Im2ColBackward", inputs: [x]) { grad, _ in [col2imColumns(grad[0], g)] }
}

/// Sums columns [C·kh·kw, N·oh·ow] back into images [N, C, H, W]; the backward is `im2colColumns`.
func col2imColumns(_ cols: Tensor, _ g: ConvGeometry) -> Tensor {
    let out = Tensor(empty: g.imageShape, dtype: cols.dtype, device: cols.device)
    if out.count > 0 {
        if cols.count > 0 { cols.backend.col2im(cols.contiguousNoGrad(), geometry: g, out: out) } else { cols.backend.fill(out, value: 0) }
    }
    guard isRecording(cols) else { return out }
    return record(out, op: "Col2ImBackward", inputs: [cols]) { grad, _ in [im2colColumns(grad[0], g)] }
}

/// `x` [A, B, L] → [B, A, L] plus `bias[a]` (one backend pass). The backward swaps back and sums the
/// bias gradient with a matrix-vector product (BLAS), so the conv output layout costs one copy each way.
func swapLeadingDimsOp(_ x: Tensor, bias: Tensor?) -> Tensor {
    let a = x.shape[0], b = x.shape[1], l = x.shape[2]
    let out = Tensor(empty: [b, a, l], dtype: x.dtype, device: x.device)
    if out.count > 0 { x.backend.swapLeadingDims(x.contiguousNoGrad(), bias: bias?.contiguousNoGrad(), out: out) }
    let inputs = bias.map { [x, $0] } ?? [x]
    guard isRecording(inputs) else { return out }
    let hasBias = bias != nil
    return record(out, op: hasBias ? "ConvolutionBiasBackward" : "SwapLeadingDimsBackward", inputs: inputs) { g, _ in
        let gx = swapLeadingDimsOp(g[0], bias: nil)                                   // [A, B, L]
        guard hasBias else { return [gx] }
        return [gx, matmul(gx.view([a, b * l]), Tensor.ones([b * l], dtype: gx.dtype, device: gx.device))]
    }
}

/// A convolution with groups 1 as one recorded op: the forward is the backend's `conv2d` (which picks its algorithm)
/// writing the NCHW output with its bias. Without `createGraph` the backward is the backend's `conv2dBackward`;
/// under `createGraph` it is the differentiable im2col / GEMM / col2im composition, so higher-order gradients work.
private func conv2dFused(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry) -> Tensor {
    let n = g.batch, oc = w.shape[0], l = g.outH * g.outW, k = g.columnsShape[0]
    let out = Tensor(empty: [n, oc, g.outH, g.outW], dtype: x.dtype, device: x.device)
    if out.count > 0 {
        x.backend.conv2d(x.contiguousNoGrad(), weight: w.contiguousNoGrad(), bias: b?.contiguousNoGrad(), geometry: g, out: out)
    }
    let inputs = b.map { [x, w, $0] } ?? [x, w]
    guard isRecording(inputs) else { return out }
    let hasBias = b != nil
    return record(out, op: "ConvolutionBackward", inputs: inputs, saving: [x, w]) { grads, _ in
        let gy = grads[0].reshape([n, oc, l])
        let needX = x.requiresGradFlag || x.tangent != nil, needW = w.requiresGradFlag || w.tangent != nil
        let needB = hasBias && (b!.requiresGradFlag || b!.tangent != nil)
        guard gy.count > 0 && x.count > 0 else {
            let zw = Tensor.zeros(w.shape, dtype: w.dtype, device: w.device)
            let zx = Tensor.zeros(x.shape, dtype: x.dtype, device: x.device)
            let zb = hasBias ? gy.sum(dim: 2).sum(dim: 0) : nil
            return hasBias ? [zx, zw, zb] : [zx, zw]
        }
        if !isGradEnabled {                                     // first order: the backend's fused backward
            let r = x.backend.conv2dBackward(x.contiguousNoGrad(), weight: w.contiguousNoGrad(), grad: grads[0].contiguousNoGrad(),
                                             geometry: g, input: needX, weight: needW, bias: needB)
            return hasBias ? [r.input, r.weight, r.bias] : [r.input, r.weight]
        }
        // createGraph: the differentiable composition.
        let gyT = swapLeadingDimsOp(gy, bias: nil).view([oc, n * l])
        let gx = needX ? col2imColumns(matmul(w.reshape([oc, k]).mT, gyT), g) : nil
        let gw = needW ? matmul(gyT, im2colColumns(x, g).mT).view(w.shape) : nil
        let gb = needB ? gyT.sum(dim: 1) : nil
        return hasBias ? [gx, gw, gb] : [gx, gw]
    }
}

/// Resolved 2-D convolution arguments.
private struct Conv2dArgs {
    var stride: [Int], padding: [Int], dilation: [Int]
}

/// Checks the shared argument rules of the convolutions.
private func checkConvArgs(_ op: String, stride: [Int], padding: [Int], dilation: [Int], groups: Int) {
    check(stride.allSatisfy { $0 > 0 }, "\(op): stride must be positive, got \(stride)")
    check(padding.allSatisfy { $0 >= 0 }, "\(op): padding must be non-negative, got \(padding)")
    check(dilation.allSatisfy { $0 > 0 }, "\(op): dilation must be positive, got \(dilation)")
    check(groups > 0, "\(op): groups must be positive, got \(groups)")
}

/// The 4-D convolution every forward convolution reduces to (input [N, C, H, W], weight [OC, C/groups, kh, kw]).
private func conv2dCore(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ a: Conv2dArgs, groups: Int, op: String) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
    let oc = w.shape[0], kh = w.shape[2], kw = w.shape[3]
    checkConvArgs(op, stride: a.stride, padding: a.padding, dilation: a.dilation, groups: groups)
    check(x.dtype.isFloatingPoint && x.dtype == w.dtype,
          "\(op): expected input and weight of the same floating point dtype, got \(x.dtype) and \(w.dtype)")
    check(x.device == w.device, "\(op): expected input and weight on the same device, got \(x.device) and \(w.device)")
    check(c % groups == 0 && oc % groups == 0,
          "\(op): in_channels \(c) and out_channels \(oc) must both be divisible by groups \(groups) (input \(x.shape), weight \(w.shape))")
    check(w.shape[1] == c / groups,
          "\(op): expected weight [out_channels, \(c / groups), kH, kW] for input \(x.shape) with groups \(groups), got weight \(w.shape)")
    if let b {
        check(b.rank == 1 && b.shape[0] == oc, "\(op): expected bias of shape [\(oc)], got \(b.shape)")
        check(b.dtype == x.dtype, "\(op): expected bias of dtype \(x.dtype), got \(b.dtype)")
    }
    let effH = a.dilation[0] * (kh - 1) + 1, effW = a.dilation[1] * (kw - 1) + 1
    let paddedH = h + 2 * a.padding[0], paddedW = wd + 2 * a.padding[1]
    check(paddedH >= effH && paddedW >= effW,
          "\(op): kernel size [\(effH), \(effW)] (dilated) is larger than the padded input [\(paddedH), \(paddedW)] (input \(x.shape), weight \(w.shape))")
    let oh = (paddedH - effH) / a.stride[0] + 1, ow = (paddedW - effW) / a.stride[1] + 1
    let g = ConvGeometry(batch: n, channels: c, height: h, width: wd, kernelH: kh, kernelW: kw,
                         strideH: a.stride[0], strideW: a.stride[1], padH: a.padding[0], padW: a.padding[1],
                         dilationH: a.dilation[0], dilationW: a.dilation[1], outH: oh, outW: ow)
    let k = (c / groups) * kh * kw, nl = n * oh * ow
    if groups == 1 { return conv2dFused(x, w, b, g) }
    let cols = im2colColumns(x, g)                              // [C·kh·kw, N·L]
    let y = groups == 1
        ? matmul(w.reshape([oc, k]), cols)                      // [OC, N·L]
        : matmul(w.reshape([groups, oc / groups, k]), cols.view([groups, k, nl]))
    return swapLeadingDimsOp(y.view([oc, n, oh * ow]), bias: b).view([n, oc, oh, ow])   // [N, OC, L] + bias
}

/// The padding that `padding` asks of a convolution, as `pad`'s list: (before, after) per spatial dim, last dim
/// first. `.same` puts the odd unit of an odd total after (right/bottom), as PyTorch; it needs stride 1.
public func convPadSizes(_ padding: ConvPadding, kernel: [Int], stride: [Int], dilation: [Int], op: String) -> [Int] {
    let rank = kernel.count
    var perDim: [(Int, Int)]
    switch padding {
    case .explicit(let p): perDim = p.expanded(rank, op: op, name: "padding").map { ($0, $0) }
    case .valid: perDim = Array(repeating: (0, 0), count: rank)
    case .same:
        check(stride.allSatisfy { $0 == 1 }, "\(op): padding='same' is not supported for strided convolutions, got stride \(stride)")
        perDim = (0..<rank).map { i in let total = dilation[i] * (kernel[i] - 1); return (total / 2, total - total / 2) }
    }
    return perDim.reversed().flatMap { [$0.0, $0.1] }
}

/// Resolves `padding` for a convolution into symmetric sizes per dim; `.same` with an odd total pads `x`
/// asymmetrically first (as PyTorch).
private func resolvePadding(_ padding: ConvPadding, _ x: Tensor, kernel: [Int], stride: [Int], dilation: [Int],
                            op: String) -> (Tensor, [Int]) {
    let rank = kernel.count
    let sizes = convPadSizes(padding, kernel: kernel, stride: stride, dilation: dilation, op: op)
    // sizes lists the last dim first; dim i's (before, after) sits at 2·(rank − 1 − i).
    let pads = (0..<rank).map { sizes[2 * (rank - 1 - $0)] }
    let extra = (0..<rank).map { sizes[2 * (rank - 1 - $0) + 1] - sizes[2 * (rank - 1 - $0)] }
    guard extra.contains(where: { $0 > 0 }) else { return (x, pads) }
    var padArgs: [Int] = []
    for i in (0..<rank).reversed() { padArgs += [0, extra[i]] }
    return (Nabla.pad(x, padArgs), pads)
}

/// Adds a batch dim to unbatched input (`rank - 1` dims); returns whether it did.
func batched(_ x: Tensor, rank: Int, op: String, layout: String) -> (Tensor, Bool) {
    check(x.rank == rank || x.rank == rank - 1,
          "\(op): expected \(rank - 1)-D (unbatched) or \(rank)-D (batched) input \(layout), got shape \(x.shape)")
    return x.rank == rank ? (x, false) : (x.unsqueeze(0), true)
}

/// 2-D convolution over an input [N, C, H, W] or [C, H, W] (`torch.nn.functional.conv2d`).
///
/// `weight` is [outChannels, inChannels / groups, kH, kW]; `bias` is [outChannels].
/// ```swift
/// let y = conv2d(x, w, bias: b, stride: 1, padding: 1)     // or padding: .same
/// ```
public func conv2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: SpatialSize = 1,
                   padding: ConvPadding = 0, dilation: SpatialSize = 1, groups: Int = 1) -> Tensor {
    check(weight.rank == 4, "conv2d: expected a 4-D weight [out_channels, in_channels/groups, kH, kW], got shape \(weight.shape)")
    let (x, unbatched) = batched(input, rank: 4, op: "conv2d", layout: "[N, C, H, W]")
    let s = stride.expanded(2, op: "conv2d", name: "stride"), d = dilation.expanded(2, op: "conv2d", name: "dilation")
    let (xp, p) = resolvePadding(padding, x, kernel: [weight.shape[2], weight.shape[3]], stride: s, dilation: d, op: "conv2d")
    let out = conv2dCore(xp, weight, bias, Conv2dArgs(stride: s, padding: p, dilation: d), groups: groups, op: "conv2d")
    return unbatched ? out.squeeze(0) : out
}

/// 1-D convolution over an input [N, C, L] or [C, L] (`torch.nn.functional.conv1d`).
///
/// `weight` is [outChannels, inChannels / groups, kernel]; `bias` is [outChannels].
public func conv1d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: SpatialSize = 1,
                   padding: ConvPadding = 0, dilation: SpatialSize = 1, groups: Int = 1) -> Tensor {
    check(weight.rank == 3, "conv1d: expected a 3-D weight [out_channels, in_channels/groups, kernel], got shape \(weight.shape)")
    let (x, unbatched) = batched(input, rank: 3, op: "conv1d", layout: "[N, C, L]")
    let s = stride.expanded(1, op: "conv1d", name: "stride"), d = dilation.expanded(1, op: "conv1d", name: "dilation")
    let (xp, p) = resolvePadding(padding, x, kernel: [weight.shape[2]], stride: s, dilation: d, op: "conv1d")
    let out = conv2dCore(xp.unsqueeze(2), weight.unsqueeze(2), bias,
                         Conv2dArgs(stride: [1] + s, padding: [0] + p, dilation: [1] + d), groups: groups, op: "conv1d")
        .squeeze(2)
    return unbatched ? out.squeeze(0) : out
}

/// 2-D transposed convolution ("deconvolution") over [N, C, H, W] or [C, H, W] (`torch.nn.functional.conv_transpose2d`).
///
/// `weight` is [inChannels, outChannels / groups, kH, kW]. The output size is
/// `(H - 1)·stride - 2·padding + dilation·(kH - 1) + outputPadding + 1`.
public func convTranspose2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: SpatialSize = 1,
                            padding: SpatialSize = 0, outputPadding: SpatialSize = 0, groups: Int = 1,
                            dilation: SpatialSize = 1) -> Tensor {
    let op = "convTranspose2d"
    check(weight.rank == 4, "\(op): expected a 4-D weight [in_channels, out_channels/groups, kH, kW], got shape \(weight.shape)")
    let (x, unbatched) = batched(input, rank: 4, op: op, layout: "[N, C, H, W]")
    let s = stride.expanded(2, op: op, name: "stride"), p = padding.expanded(2, op: op, name: "padding")
    let d = dilation.expanded(2, op: op, name: "dilation"), op2 = outputPadding.expanded(2, op: op, name: "outputPadding")
    checkConvArgs(op, stride: s, padding: p, dilation: d, groups: groups)
    let n = x.shape[0], cin = x.shape[1], h = x.shape[2], wd = x.shape[3]
    let kh = weight.shape[2], kw = weight.shape[3], coutG = weight.shape[1], cout = coutG * groups
    check(x.dtype.isFloatingPoint && x.dtype == weight.dtype,
          "\(op): expected input and weight of the same floating point dtype, got \(x.dtype) and \(weight.dtype)")
    check(cin % groups == 0 && weight.shape[0] == cin,
          "\(op): expected weight [\(cin), out_channels/groups, kH, kW] for input \(x.shape) with groups \(groups), got weight \(weight.shape)")
    for i in 0..<2 {
        check(op2[i] >= 0 && op2[i] < max(s[i], d[i]),
              "\(op): output padding must be smaller than either stride or dilation, got outputPadding \(op2), stride \(s), dilation \(d)")
    }
    if let bias { check(bias.rank == 1 && bias.shape[0] == cout, "\(op): expected bias of shape [\(cout)], got \(bias.shape)") }
    let oh = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op2[0] + 1
    let ow = (wd - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op2[1] + 1
    check(oh > 0 && ow > 0, "\(op): output size [\(oh), \(ow)] is too small (input \(x.shape), weight \(weight.shape))")
    let g = ConvGeometry(batch: n, channels: cout, height: oh, width: ow, kernelH: kh, kernelW: kw,
                         strideH: s[0], strideW: s[1], padH: p[0], padW: p[1], dilationH: d[0], dilationW: d[1], outH: h, outW: wd)
    let cinG = cin / groups, nl = n * h * wd, k = coutG * kh * kw
    let xcols = swapLeadingDimsOp(x.reshape([n, cin, h * wd]), bias: nil).view([groups, cinG, nl])   // [G, Cin/G, N·H·W]
    let cols = matmul(weight.reshape([groups, cinG, k]).mT, xcols).reshape([cout * kh * kw, nl])
    var out = col2imColumns(cols, g)
    if let bias { out = out + bias.view([1, cout, 1, 1]) }
    return unbatched ? out.squeeze(0) : out
}

extension Tensor {
    /// `conv2d(self, weight, ...)`.
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: SpatialSize = 1, padding: ConvPadding = 0,
                       dilation: SpatialSize = 1, groups: Int = 1) -> Tensor {
        Nabla.conv2d(self, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
    /// `conv1d(self, weight, ...)`.
    public func conv1d(_ weight: Tensor, bias: Tensor? = nil, stride: SpatialSize = 1, padding: ConvPadding = 0,
                       dilation: SpatialSize = 1, groups: Int = 1) -> Tensor {
        Nabla.conv1d(self, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}
