// The inference convolution with prepared weights and a fused epilogue (`PreparedConv2d`, `ConvEpilogue`).

/// A 2-D convolution with prepared (constant) weights for inference, with its ReLU and 2x2 max pool fused into the
/// kernel: `maxPool2d(relu(conv2d(input, weight, bias: bias, ...)), kernelSize: 2)` as one backend call, as far as
/// `epilogue` asks (PyTorch's prepacked `mkldnn` convolutions with a fused post-op).
///
/// `input` is [N, C, H, W] (or [C, H, W]); the result is [N, OC, oh, ow], or [N, OC, oh/2, ow/2] with the pool.
/// When autograd records (an input that requires grad, grad mode on) it runs the separate differentiable ops instead,
/// so gradients reach `input` (never the prepared weights, which are constants).
/// ```swift
/// let conv = PreparedConv2d(weight: w, bias: b)
/// let y = noGrad { conv2d(x, prepared: conv, padding: 1, epilogue: ConvEpilogue(relu: true, maxPool2x2: true)) }
/// ```
public func conv2d(_ input: Tensor, prepared: PreparedConv2d, stride: SpatialSize = 1, padding: SpatialSize = 0,
                   dilation: SpatialSize = 1, epilogue: ConvEpilogue = .none) -> Tensor {
    let op = "conv2d(prepared:)"
    let w = prepared.weight
    let (x, unbatched) = batched(input, rank: 4, op: op, layout: "[N, C, H, W]")
    let s = stride.expanded(2, op: op, name: "stride"), p = padding.expanded(2, op: op, name: "padding")
    let d = dilation.expanded(2, op: op, name: "dilation")
    check(s.allSatisfy { $0 > 0 } && d.allSatisfy { $0 > 0 } && p.allSatisfy { $0 >= 0 },
          "\(op): expected positive stride and dilation and non-negative padding, got stride \(s), padding \(p), dilation \(d)")
    check(x.dtype == w.dtype, "\(op): expected input of the weight's dtype \(w.dtype), got \(x.dtype)")
    check(x.device == w.device, "\(op): expected input on the weight's device \(w.device), got \(x.device)")
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
    let oc = w.shape[0], kh = w.shape[2], kw = w.shape[3]
    check(w.shape[1] == c, "\(op): expected input with \(w.shape[1]) channels for weight \(w.shape), got input \(x.shape)")
    let effH = d[0] * (kh - 1) + 1, effW = d[1] * (kw - 1) + 1
    let paddedH = h + 2 * p[0], paddedW = wd + 2 * p[1]
    check(paddedH >= effH && paddedW >= effW,
          "\(op): kernel size [\(effH), \(effW)] (dilated) is larger than the padded input [\(paddedH), \(paddedW)] (input \(x.shape), weight \(w.shape))")
    let oh = (paddedH - effH) / s[0] + 1, ow = (paddedW - effW) / s[1] + 1
    if epilogue.maxPool2x2 {
        check(oh >= 2 && ow >= 2, "\(op): the convolution's output [\(oh), \(ow)] is too small for a 2x2 max pool (input \(x.shape), weight \(w.shape))")
    }
    if isRecording(x) {
        var y = conv2d(x, w, bias: prepared.bias, stride: SpatialSize(s), padding: .explicit(SpatialSize(p)), dilation: SpatialSize(d))
        if epilogue.relu { y = relu(y) }
        if epilogue.maxPool2x2 { y = maxPool2d(y, kernelSize: 2) }
        return unbatched ? y.squeeze(0) : y
    }
    let g = ConvGeometry(batch: n, channels: c, height: h, width: wd, kernelH: kh, kernelW: kw, strideH: s[0], strideW: s[1],
                         padH: p[0], padW: p[1], dilationH: d[0], dilationW: d[1], outH: oh, outW: ow)
    let size = epilogue.outputSize(height: oh, width: ow)
    let out = Tensor(empty: [n, oc, size.height, size.width], dtype: x.dtype, device: x.device)
    if out.count > 0 {
        x.backend.conv2d(x.contiguousNoGrad(), prepared: prepared, geometry: g, epilogue: epilogue, out: out)
    }
    return unbatched ? out.squeeze(0) : out
}
