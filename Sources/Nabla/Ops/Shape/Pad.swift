// Constant padding (`torch.nn.functional.pad`, mode "constant").

/// Pads the last dims of `input` with `value` (`torch.nn.functional.pad`, constant mode).
///
/// `pads` lists (before, after) pairs starting from the last dim: `[left, right, top, bottom, ...]`.
/// Negative sizes crop. The backward pads the gradient by the negated sizes (crops what was added).
/// ```swift
/// let y = pad(x, [1, 1, 2, 0])   // last dim +1 on each side, second-to-last +2 in front
/// ```
public func pad(_ input: Tensor, _ pads: [Int], value: Double = 0) -> Tensor {
    check(pads.count % 2 == 0, "pad: expected an even number of padding sizes (before, after pairs), got \(pads)")
    check(pads.count / 2 <= input.rank, "pad: \(pads.count / 2) padded dims is more than the input's \(input.rank) dims (shape \(input.shape))")
    var outShape = input.shape
    var src = ViewGeometry(shape: input.shape, strides: input.strides, offset: input.offset)
    var dstStarts = Array(repeating: 0, count: input.rank)
    for i in 0..<(pads.count / 2) {
        let d = input.rank - 1 - i, before = pads[2 * i], after = pads[2 * i + 1]
        let size = input.shape[d] + before + after
        check(size >= 0, "pad: padding \(pads) gives a negative size \(size) for dim \(d) of shape \(input.shape)")
        outShape[d] = size
        let cropFront = Swift.max(0, -before), cropBack = Swift.max(0, -after)
        let keep = Swift.max(0, input.shape[d] - cropFront - cropBack)
        src.offset += cropFront * src.strides[d]
        src.shape[d] = keep
        dstStarts[d] = Swift.max(0, before)
    }
    let out = Tensor.full(outShape, value, dtype: input.dtype, device: input.device)
    if src.shape.allSatisfy({ $0 > 0 }) && out.count > 0 {
        var dstOffset = 0
        for d in 0..<out.rank { dstOffset += dstStarts[d] * out.strides[d] }
        let dst = out.aliased(ViewGeometry(shape: src.shape, strides: out.strides, offset: dstOffset))
        input.backend.copy(input.aliased(src), into: dst)
    }
    guard isRecording(input) else { return out }
    let negated = pads.map { -$0 }
    return record(out, op: "ConstantPadNdBackward", inputs: [input]) { g, _ in [Nabla.pad(g[0], negated)] }
}

extension Tensor {
    /// `pad(self, pads, value:)`.
    public func pad(_ pads: [Int], value: Double = 0) -> Tensor { Nabla.pad(self, pads, value: value) }
}
