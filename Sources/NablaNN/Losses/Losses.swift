/// How a loss combines per-element values (PyTorch's `reduction=`).
public enum Reduction: String, Sendable {
    /// No reduction: one value per element.
    case none
    /// The mean (weighted mean for class-weighted losses).
    case mean
    /// The sum.
    case sum
}

func reduce(_ x: Tensor, _ reduction: Reduction) -> Tensor {
    switch reduction {
    case .none: return x
    case .mean: return x.mean()
    case .sum: return x.sum()
    }
}

/// Mean squared error (`F.mse_loss`).
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    check(input.shape == target.shape, "mseLoss: input shape \(input.shape) and target shape \(target.shape) differ")
    let d = input - target
    return reduce(d * d, reduction)
}

/// Cross-entropy between logits `[N, C]` (or `[N, C, d...]`) and int64 class indices `[N]` (`F.cross_entropy`).
///
/// - Parameters:
///   - weight: optional per-class weights `[C]`.
///   - ignoreIndex: targets equal to this contribute nothing (and are excluded from the mean).
///   - labelSmoothing: mixes the one-hot target with the uniform distribution, as PyTorch.
public func crossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                         reduction: Reduction = .mean, labelSmoothing: Double = 0) -> Tensor {
    check(input.rank >= 1, "crossEntropy: input must have at least 1 dimension, got shape \(input.shape)")
    var logits = input, tgt = target
    if input.rank > 2 {
        // [N, C, d...] -> [N*d..., C]
        let c = input.shape[1]
        var perm = [0]; perm.append(contentsOf: 2..<input.rank); perm.append(1)
        logits = input.permute(perm).reshape([-1, c])
        tgt = target.reshape([-1])
    } else if input.rank == 1 {
        logits = input.unsqueeze(0); tgt = target.reshape([1])
    }
    let n = logits.shape[0], c = logits.shape[1]
    check(tgt.shape == [n], "crossEntropy: expected target of shape [\(n)] for input \(input.shape), got \(target.shape)")
    check(!tgt.dtype.isFloatingPoint, "crossEntropy: class-index targets must be integers, got \(tgt.dtype); for probabilities use crossEntropy(_:probabilities:)")
    let logp = logSoftmax(logits, dim: 1)
    let valid = tgt.ne(Double(ignoreIndex))
    let safeTarget = `where`(valid, tgt, Tensor.zerosLike(tgt)).to(.int64)
    var nll = -logp.gather(dim: 1, index: safeTarget.unsqueeze(1)).squeeze(1)
    var w = valid.to(logits.dtype)
    if let weight {
        check(weight.shape == [c], "crossEntropy: weight must have shape [\(c)], got \(weight.shape)")
        w = w * weight.indexSelect(dim: 0, index: safeTarget)
    }
    if labelSmoothing > 0 {
        let smooth: Tensor
        if let weight { smooth = -(logp * weight).sum(dim: 1) } else { smooth = -logp.sum(dim: 1) }
        nll = nll * (1 - labelSmoothing) + smooth * (labelSmoothing / Double(c))
    }
    let losses = nll * w
    switch reduction {
    case .none: return input.rank > 2 ? losses.reshape([input.shape[0]] + Array(input.shape[2...])) : (input.rank == 1 ? losses.squeeze(0) : losses)
    case .sum: return losses.sum()
    case .mean: return losses.sum() / w.sum()
    }
}
