/// How a loss combines per-element values (PyTorch's `reduction=`).
public enum Reduction: String, Sendable {
    /// No reduction: one value per element.
    case none
    /// The mean (weighted mean for class-weighted losses).
    case mean
    /// The sum.
    case sum
}

/// How `klDiv` combines per-element values (PyTorch's `reduction=` of `F.kl_div`, which adds `batchmean`).
public enum KLDivReduction: String, Sendable {
    /// No reduction: one value per element.
    case none
    /// The mean over every element (PyTorch's default, though not the mathematical KL divergence).
    case mean
    /// The sum.
    case sum
    /// The sum divided by the batch size (the first dimension): the true KL divergence per sample.
    case batchmean
}

/// Applies `reduction` to per-element losses.
func applyReduction(_ x: Tensor, _ reduction: Reduction) -> Tensor {
    switch reduction {
    case .none: return x
    case .mean: return x.mean()
    case .sum: return x.sum()
    }
}

/// Checks that a loss got floating-point tensors of one shape.
func checkSameShape(_ op: String, _ input: Tensor, _ target: Tensor) {
    check(input.shape == target.shape,
          "\(op): input shape \(input.shape) and target shape \(target.shape) differ; expected equal shapes")
    check(input.dtype.isFloatingPoint && target.dtype.isFloatingPoint,
          "\(op): expected floating-point input and target, got \(input.dtype) and \(target.dtype)")
}
