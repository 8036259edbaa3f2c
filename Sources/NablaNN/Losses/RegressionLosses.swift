/// Mean squared error (`F.mse_loss`): `(input − target)²`, reduced.
///
/// ```swift
/// let loss = mseLoss(model(x), y)
/// ```
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("mseLoss", input, target)
    let d = input - target
    return applyReduction(d * d, reduction)
}

/// Mean absolute error (`F.l1_loss`): `|input − target|`, reduced.
///
/// ```swift
/// let loss = l1Loss(pred, target, reduction: .sum)
/// ```
public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("l1Loss", input, target)
    return applyReduction((input - target).abs(), reduction)
}

/// Smooth L1 loss (`F.smooth_l1_loss`): `0.5·d²/beta` where `|d| < beta`, else `|d| − 0.5·beta`; `beta: 0` is L1.
///
/// ```swift
/// let loss = smoothL1Loss(boxes, targets, beta: 1.0)
/// ```
public func smoothL1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, beta: Double = 1.0) -> Tensor {
    checkSameShape("smoothL1Loss", input, target)
    check(beta >= 0, "smoothL1Loss: beta must be non-negative, got \(beta)")
    let d = input - target, a = d.abs()
    if beta == 0 { return applyReduction(a, reduction) }
    let quad = d * d * (0.5 / beta), lin = a - 0.5 * beta
    return applyReduction(`where`(a.lt(beta), quad, lin), reduction)
}

/// Huber loss (`F.huber_loss`): `0.5·d²` where `|d| ≤ delta`, else `delta·(|d| − 0.5·delta)`.
///
/// ```swift
/// let loss = huberLoss(pred, target, delta: 0.5)
/// ```
public func huberLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, delta: Double = 1.0) -> Tensor {
    checkSameShape("huberLoss", input, target)
    check(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let d = input - target, a = d.abs()
    let quad = d * d * 0.5, lin = (a - 0.5 * delta) * delta
    return applyReduction(`where`(a.le(delta), quad, lin), reduction)
}

/// Kullback–Leibler divergence (`F.kl_div`) with `input` as log-probabilities: `target·(log target − input)`,
/// or with `logTarget` (target given as log-probabilities) `exp(target)·(target − input)`.
///
/// Use `reduction: .batchmean` for the mathematical KL divergence per sample (PyTorch's default `.mean`
/// averages over every element).
///
/// ```swift
/// let loss = klDiv(logSoftmax(student, dim: 1), softmax(teacher, dim: 1), reduction: .batchmean)
/// ```
public func klDiv(_ input: Tensor, _ target: Tensor, reduction: KLDivReduction = .mean, logTarget: Bool = false) -> Tensor {
    checkSameShape("klDiv", input, target)
    let pointwise: Tensor
    if logTarget {
        pointwise = target.exp() * (target - input)
    } else {
        // xlogy(target, target) is 0 where target is 0; log reads a safe value there so no NaN reaches the gradient.
        let positive = target.gt(0)
        let safeLog = `where`(positive, target, Tensor.onesLike(target)).log()
        pointwise = target * safeLog - target * input
    }
    switch reduction {
    case .none: return pointwise
    case .mean: return pointwise.mean()
    case .sum: return pointwise.sum()
    case .batchmean: return input.rank == 0 ? pointwise.sum() : pointwise.sum() / Double(input.shape[0])
    }
}

/// Cosine embedding loss (`F.cosine_embedding_loss`): `1 − cos(x1, x2)` where `y = 1`,
/// `max(0, cos(x1, x2) − margin)` where `y = −1`; `x1`, `x2` are `[N, D]` (or `[D]`) and `y` is `[N]` (or 0-d).
///
/// ```swift
/// let loss = cosineEmbeddingLoss(a, b, labels, margin: 0.2)
/// ```
public func cosineEmbeddingLoss(_ input1: Tensor, _ input2: Tensor, _ target: Tensor, margin: Double = 0,
                                reduction: Reduction = .mean) -> Tensor {
    check(input1.shape == input2.shape, "cosineEmbeddingLoss: input1 shape \(input1.shape) and input2 shape \(input2.shape) differ")
    check(input1.rank == 1 || input1.rank == 2, "cosineEmbeddingLoss: expected 1-D or 2-D inputs, got shape \(input1.shape)")
    let batch = input1.rank == 2 ? [input1.shape[0]] : []
    check(target.shape == batch, "cosineEmbeddingLoss: expected target of shape \(batch) for inputs \(input1.shape), got \(target.shape)")
    let dim = input1.rank - 1
    let eps = 1e-12
    let prod = (input1 * input2).sum(dim: dim)
    let mag1 = (input1 * input1).sum(dim: dim) + eps, mag2 = (input2 * input2).sum(dim: dim) + eps
    let cos = prod / (mag1 * mag2).sqrt()
    let zeros = Tensor.zerosLike(cos)
    let pos = `where`(target.eq(1), 1 - cos, zeros)
    let neg = `where`(target.eq(-1), (cos - margin).clamp(min: 0), zeros)
    return applyReduction(pos + neg, reduction)
}
