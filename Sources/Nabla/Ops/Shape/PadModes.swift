// Non-constant padding (`torch.nn.functional.pad` modes "reflect", "replicate" and "circular"): each padded dim
// is one differentiable `indexSelect` whose index maps every output position to the input position it copies, so
// the backward adds each gradient back to its source position, as PyTorch's does.

/// How `pad(_:_:mode:value:)` and the conv layers' `paddingMode` fill the border (PyTorch's `mode` /
/// `padding_mode`).
public enum PadMode: String, Sendable, CaseIterable {
    /// A constant value (`pad`'s `value`, zeros for the conv layers).
    case constant
    /// The mirror image without repeating the edge: `[a, b, c]` padded by 2 → `[c, b, a, b, c, b, a]`.
    case reflect
    /// The edge value repeated: `[a, b, c]` padded by 2 → `[a, a, a, b, c, c, c]`.
    case replicate
    /// Wrapped around: `[a, b, c]` padded by 2 → `[b, c, a, b, c, a, b]`.
    case circular
    /// Zeros: `.constant`, under the name PyTorch's conv layers give it (`padding_mode='zeros'`).
    public static var zeros: PadMode { .constant }
}

/// Pads the last dims of `input` by `pads` (`[left, right, top, bottom, ...]`, as `pad(_:_:value:)`) in `mode`
/// (`torch.nn.functional.pad(input, pads, mode)`).
///
/// `reflect` needs each padding smaller than its dim, `circular` at most its dim, `replicate` a non-empty dim;
/// the non-constant modes take non-negative sizes only.
/// ```swift
/// let x = Tensor([1, 2, 3]).reshape([1, 3])
/// pad(x, [2, 2], mode: .reflect)     // [[3, 2, 1, 2, 3, 2, 1]]
/// pad(x, [1, 1], mode: .circular)    // [[3, 1, 2, 3, 1]]
/// ```
public func pad(_ input: Tensor, _ pads: [Int], mode: PadMode, value: Double = 0) -> Tensor {
    if mode == .constant { return pad(input, pads, value: value) }
    check(pads.count % 2 == 0, "pad: expected an even number of padding sizes (before, after pairs), got \(pads)")
    check(pads.count / 2 <= input.rank,
          "pad: \(pads.count / 2) padded dims is more than the input's \(input.rank) dims (shape \(input.shape))")
    check(pads.allSatisfy { $0 >= 0 }, "pad: \(mode.rawValue) mode expects non-negative padding sizes, got \(pads)")
    var out = input
    for i in 0..<(pads.count / 2) {
        let d = input.rank - 1 - i, before = pads[2 * i], after = pads[2 * i + 1], n = input.shape[d]
        if before == 0 && after == 0 { continue }
        switch mode {
        case .reflect:
            check(before < n && after < n, "pad: reflect padding (\(before), \(after)) of dim \(d) must be smaller than its size \(n) (shape \(input.shape))")
        case .circular:
            check(before <= n && after <= n, "pad: circular padding (\(before), \(after)) of dim \(d) must be at most its size \(n) (shape \(input.shape))")
        case .replicate, .constant:
            check(n > 0, "pad: replicate padding of dim \(d) needs a non-empty dim (shape \(input.shape))")
        }
        let positions = (0..<(n + before + after)).map { o -> Double in
            let p = o - before
            switch mode {
            case .reflect: return Double(p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p)
            case .circular: return Double(((p % n) + n) % n)
            case .replicate, .constant: return Double(Swift.min(Swift.max(p, 0), n - 1))
            }
        }
        let index = Tensor(shape: [positions.count], data: positions, dtype: .int64, device: input.device)
        out = out.indexSelect(dim: d, index: index)
    }
    return out
}

extension Tensor {
    /// `pad(self, pads, mode:, value:)`.
    public func pad(_ pads: [Int], mode: PadMode, value: Double = 0) -> Tensor {
        Nabla.pad(self, pads, mode: mode, value: value)
    }
}
