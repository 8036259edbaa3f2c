// Inference linear layers with constant weights, packed once for the backend's kernels.

/// A linear layer's weight and bias, fixed for inference and packed once for the backend's kernels (onnxruntime's
/// pre-packed GEMM weights; PyTorch's `torch.ops.mkldnn` prepacked linear after `torch.jit.freeze`).
///
/// Made once where the weights are constants (an ONNX model's initializers), then passed to
/// `linear(_:prepared:)` on every call. On the CPU a float32 weight is also kept in the packed-panel layout of
/// Nabla's own GEMM kernel, which a product with a few rows (batch-1 inference) runs on, split over the cores by
/// output columns, instead of a BLAS call that repacks the weight each time. The weights are frozen, as
/// `torch.jit.freeze` freezes them: the prepared layer keeps the given tensors (detached, no copy), and a weight
/// changed in place afterwards must be prepared again. The packed form takes about as much memory as the weight.
/// ```swift
/// let fc = PreparedLinear(weight: w, bias: b)          // w [128, 3136], b [128]
/// let y = noGrad { linear(x, prepared: fc) }            // x [1, 3136] -> [1, 128]
/// ```
public final class PreparedLinear: @unchecked Sendable {
    /// The weight [outFeatures, inFeatures] (detached; may be a strided view).
    public let weight: Tensor
    /// The bias [outFeatures] (detached), if any.
    public let bias: Tensor?
    /// The backend's packed form of `weight` (`Backend.packLinearWeight`), or nil when it has none.
    package let packed: Tensor?

    /// Packs `weight` [outFeatures, inFeatures] and `bias` [outFeatures] for `weight`'s backend.
    public init(weight: Tensor, bias: Tensor? = nil) {
        check(weight.rank == 2, "PreparedLinear: expected a 2-D weight [outFeatures, inFeatures], got shape \(weight.shape)")
        check(weight.dtype.isFloatingPoint, "PreparedLinear: expected a floating point weight, got \(weight.dtype)")
        checkPreparedBias(bias, of: weight, "PreparedLinear")
        self.weight = weight.detach()
        self.bias = bias?.detach()
        packed = self.weight.backend.packLinearWeight(self.weight)
    }
}

extension Backend {
    /// Default `packLinearWeight`: no packed form.
    public func packLinearWeight(_ weight: Tensor) -> Tensor? { nil }

    /// Default `linear(_:prepared:out:)`: `linear` with the prepared weight and bias, copied into `out`.
    public func linear(_ x: Tensor, prepared: PreparedLinear, out: Tensor) {
        compositeLinear(x, prepared: prepared, out: out)
    }

    /// `linear(_:prepared:out:)` through the `linear` op (this backend's matrix product), copied into `out`.
    public func compositeLinear(_ x: Tensor, prepared: PreparedLinear, out: Tensor) {
        let y = noGrad { Nabla.linear(x, weight: prepared.weight, bias: prepared.bias) }
        copy(y, into: out)
    }
}
