// Inference convolutions with constant weights: the weights packed once for the backend's kernels, and the
// activation and 2x2 max pool that follow a convolution applied by its kernel while the output is in cache.

/// What a convolution's kernel applies to its output before storing it, in this order: the bias (always), ReLU,
/// then a 2x2 max pool with stride 2 (floor mode: an odd last row or column is dropped).
///
/// The fused result is the one the separate ops give (`maxPool2d(relu(conv2d(x, w, bias: b)), kernelSize: 2)`), to
/// the bit on inputs without NaN: the kernels take each window's maximum before adding the bias, which rounds to the
/// same value since rounding is monotone, and ReLU commutes with the maximum.
public struct ConvEpilogue: Sendable, Hashable, CustomStringConvertible {
    /// ReLU after the bias.
    public var relu: Bool
    /// A 2x2 max pool with stride 2 after the activation.
    public var maxPool2x2: Bool

    /// An epilogue; the default applies only the bias.
    public init(relu: Bool = false, maxPool2x2: Bool = false) {
        self.relu = relu
        self.maxPool2x2 = maxPool2x2
    }

    /// Only the bias.
    public static let none = ConvEpilogue()

    /// The spatial size of the stored output for a convolution output of `height` x `width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        maxPool2x2 ? (height / 2, width / 2) : (height, width)
    }

    /// `"relu+maxPool2x2"`, `"relu"`, `"maxPool2x2"` or `"none"`.
    public var description: String {
        let parts = (relu ? ["relu"] : []) + (maxPool2x2 ? ["maxPool2x2"] : [])
        return parts.isEmpty ? "none" : parts.joined(separator: "+")
    }
}

/// A groups-1 convolution's weight and bias, fixed for inference and packed once for the backend's kernels
/// (PyTorch's prepacked inference convolutions, `torch.ops.mkldnn` after `torch.jit.freeze`; onnxruntime's
/// pre-packed weights).
///
/// Made once where the weights are constants (an ONNX model's initializers, a frozen module), then passed to
/// `conv2d(_:prepared:stride:padding:dilation:epilogue:)` on every call. On the CPU a float32 3x3 filter is kept
/// Winograd-transformed as well, so no call transforms it again. The weights are frozen, as `torch.jit.freeze` freezes
/// them: the prepared convolution shares the given tensors' storage (detached; copied only when not contiguous), and
/// a weight changed in place afterwards must be prepared again, or the packed form no longer matches it.
/// ```swift
/// let conv = PreparedConv2d(weight: w, bias: b)        // w [64, 32, 3, 3], b [64]
/// let y = conv2d(x, prepared: conv, padding: 1, epilogue: ConvEpilogue(relu: true, maxPool2x2: true))
/// ```
public final class PreparedConv2d: @unchecked Sendable {
    /// The weight [OC, C, kh, kw] (contiguous, detached).
    public let weight: Tensor
    /// The bias [OC] (contiguous, detached), if any.
    public let bias: Tensor?
    /// The backend's packed form of `weight` (`Backend.packConv2dWeight`), or nil when it has none.
    package let packed: Tensor?

    /// Packs `weight` [OC, C, kh, kw] and `bias` [OC] for `weight`'s backend.
    public init(weight: Tensor, bias: Tensor? = nil) {
        check(weight.rank == 4, "PreparedConv2d: expected a 4-D weight [out_channels, in_channels, kH, kW], got shape \(weight.shape)")
        check(weight.dtype.isFloatingPoint, "PreparedConv2d: expected a floating point weight, got \(weight.dtype)")
        checkPreparedBias(bias, of: weight, "PreparedConv2d")
        let w = noGrad { weight.detach().contiguous() }
        self.weight = w
        self.bias = bias.map { b in noGrad { b.detach().contiguous() } }
        packed = w.backend.packConv2dWeight(w)
    }
}

extension Backend {
    /// Default `packConv2dWeight`: no packed form.
    public func packConv2dWeight(_ weight: Tensor) -> Tensor? { nil }

    /// Default `conv2d(_:prepared:...)`: `conv2d` with the prepared weight and bias, then `relu` and the 2x2 max pool
    /// as separate kernels.
    public func conv2d(_ x: Tensor, prepared: PreparedConv2d, geometry g: ConvGeometry, epilogue: ConvEpilogue, out: Tensor) {
        compositeConv2d(x, prepared: prepared, geometry: g, epilogue: epilogue, out: out)
    }

    /// `conv2d(_:prepared:...)` from this backend's `conv2d`, `unary(.relu)` and `maxPool2d` kernels.
    public func compositeConv2d(_ x: Tensor, prepared: PreparedConv2d, geometry g: ConvGeometry, epilogue: ConvEpilogue,
                                out: Tensor) {
        let oc = prepared.weight.shape[0]
        let y = epilogue.maxPool2x2 ? Tensor(empty: [g.batch, oc, g.outH, g.outW], dtype: x.dtype, device: x.device) : out
        conv2d(x, weight: prepared.weight, bias: prepared.bias, geometry: g, out: y)
        if epilogue.relu { unary(.relu, y, out: y) }
        guard epilogue.maxPool2x2 else { return }
        let ph = g.outH / 2, pw = g.outW / 2
        let windows = PoolWindows(height: g.outH, width: g.outW, rowStart: (0..<ph).map { 2 * $0 }, rowCount: Array(repeating: 2, count: ph),
                                  rowDilation: 1, colStart: (0..<pw).map { 2 * $0 }, colCount: Array(repeating: 2, count: pw),
                                  colDilation: 1)
        let indices = Tensor(empty: out.shape, dtype: .int64, device: x.device)
        maxPool2d(y, windows: windows, out: out, indices: indices)
    }
}

/// The bias check of the prepared layers: [OC] (the weight's first dimension), the weight's dtype and device.
func checkPreparedBias(_ bias: Tensor?, of weight: Tensor, _ layer: String) {
    guard let bias else { return }
    check(bias.rank == 1 && bias.shape[0] == weight.shape[0] && bias.dtype == weight.dtype && bias.device == weight.device,
          "\(layer): expected a bias \(weight.dtype) [\(weight.shape[0])] on \(weight.device), got \(bias.dtype) \(bias.shape) on \(bias.device)")
}
