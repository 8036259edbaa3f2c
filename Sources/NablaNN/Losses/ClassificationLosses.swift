/// `[N, C, d...]` scores as `[M, C]` rows (class dimension last), and `[C]` as `[1, C]`.
private func classRows(_ x: Tensor) -> Tensor {
    if x.rank == 1 { return x.unsqueeze(0) }
    if x.rank == 2 { return x }
    var perm = [0]; perm.append(contentsOf: 2..<x.rank); perm.append(1)
    return x.permute(perm).reshape([-1, x.shape[1]])
}

/// Per-row losses `[M]` back in the target's layout `[N, d...]` (0-d for an unbatched `[C]` input).
private func unrows(_ losses: Tensor, like input: Tensor) -> Tensor {
    if input.rank == 1 { return losses.reshape([]) }
    if input.rank == 2 { return losses }
    return losses.reshape([input.shape[0]] + Array(input.shape[2...]))
}

/// The expected class-index target shape for `input`: `[N, d...]`, or `[]` for `[C]`.
private func indexTargetShape(_ input: Tensor) -> [Int] {
    input.rank == 1 ? [] : [input.shape[0]] + Array(input.shape[2...])
}

/// `input` as `[M, C]` rows, its class-index targets as `[M]` int64 and the class weights in its dtype, after the
/// checks every class-index loss makes (shapes, dtypes, each target in `0..<C` or `ignoreIndex`).
private func classIndexRows(_ op: String, _ input: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int)
    -> (rows: Tensor, target: Tensor, weight: Tensor?) {
    check(input.rank >= 1, "\(op): input must have at least 1 dimension [C] or [N, C, ...], got shape \(input.shape)")
    check(input.dtype.isFloatingPoint, "\(op): input must be floating point, got \(input.dtype)")
    check(!target.dtype.isFloatingPoint && target.dtype != .bool,
          "\(op): class-index targets must be integers, got \(target.dtype)")
    let expected = indexTargetShape(input)
    check(target.shape == expected, "\(op): expected target of shape \(expected) for input \(input.shape), got \(target.shape)")
    let c = input.shape[input.rank == 1 ? 0 : 1]
    let rows = classRows(input)
    let tgt = target.reshape([-1]).to(.int64)
    checkingOnHost {
        for t in tgt.contiguous().toArray(Int64.self) where t != Int64(ignoreIndex) {
            check(t >= 0 && t < Int64(c), "\(op): target class \(t) is out of range for \(c) classes (expected 0 ≤ target < \(c), or ignoreIndex \(ignoreIndex))")
        }
    }
    if let weight {
        check(weight.shape == [c], "\(op): weight must have shape [\(c)] (one per class), got \(weight.shape)")
    }
    return (rows, tgt, weight?.to(rows.dtype))
}

/// The backend kernels' form of a reduction.
private func lossReduction(_ r: Reduction) -> LossReduction {
    switch r {
    case .none: return .none
    case .sum: return .sum
    case .mean: return .mean
    }
}

/// Weighted negative log-likelihood per row, and the weights used for the weighted mean (label smoothing's terms).
private func nllRows(_ op: String, _ input: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int)
    -> (losses: Tensor, weights: Tensor, safeTarget: Tensor, valid: Tensor) {
    let (rows, tgt, weight) = classIndexRows(op, input, target, weight: weight, ignoreIndex: ignoreIndex)
    let valid = tgt.ne(Double(ignoreIndex))
    let safe = `where`(valid, tgt, Tensor.zerosLike(tgt))
    let picked = -rows.gather(dim: 1, index: safe.unsqueeze(1)).squeeze(1)
    var w = valid.to(rows.dtype)
    if let weight { w = w * weight.indexSelect(dim: 0, index: safe) }
    return (picked * w, w, safe, valid)
}

/// Negative log-likelihood (`F.nll_loss`) of log-probabilities `[N, C]`, `[N, C, d...]` or `[C]` at int64 class
/// indices `[N]`, `[N, d...]` or `[]`.
///
/// - Parameters:
///   - weight: optional per-class weights `[C]`; `.mean` divides by the sum of the weights of the targets.
///   - ignoreIndex: targets equal to this contribute nothing and are left out of the mean.
///
/// ```swift
/// let loss = nllLoss(logSoftmax(logits, dim: 1), labels)
/// ```
public func nllLoss(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                    reduction: Reduction = .mean) -> Tensor {
    let (rows, tgt, w) = classIndexRows("nllLoss", input, target, weight: weight, ignoreIndex: ignoreIndex)
    let out = nllLossRows(rows, tgt, weight: w, ignoreIndex: ignoreIndex, reduction: lossReduction(reduction))
    return reduction == .none ? unrows(out, like: input) : out
}

/// Cross-entropy (`F.cross_entropy`) between unnormalised scores `[N, C]`, `[N, C, d...]` or `[C]` and either
/// int64 class indices (`[N]`, `[N, d...]`, `[]`) or class probabilities shaped like `input` (a floating target).
///
/// - Parameters:
///   - weight: optional per-class weights `[C]`.
///   - ignoreIndex: class-index targets equal to this contribute nothing and are left out of the mean.
///   - labelSmoothing: mixes the target with the uniform distribution over classes, as PyTorch.
///
/// ```swift
/// let loss = crossEntropy(logits, labels, labelSmoothing: 0.1)
/// let soft = crossEntropy(logits, probabilities)
/// ```
public func crossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                         reduction: Reduction = .mean, labelSmoothing: Double = 0) -> Tensor {
    check(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
    check(input.rank >= 1, "crossEntropy: input must have at least 1 dimension [C] or [N, C, ...], got shape \(input.shape)")
    let classDim = input.rank == 1 ? 0 : 1
    let c = input.shape[classDim]
    if !target.dtype.isFloatingPoint && labelSmoothing == 0 {
        // The common case: one fused kernel each way (logSoftmax and the NLL of each row in one pass).
        let (rows, tgt, w) = classIndexRows("crossEntropy", input, target, weight: weight, ignoreIndex: ignoreIndex)
        let out = crossEntropyRows(rows, tgt, weight: w, ignoreIndex: ignoreIndex, reduction: lossReduction(reduction))
        return reduction == .none ? unrows(out, like: input) : out
    }
    let logp = logSoftmax(input, dim: classDim)
    if target.dtype.isFloatingPoint {
        return crossEntropyProbabilities(logp, target, weight: weight, reduction: reduction, labelSmoothing: labelSmoothing)
    }
    let r = nllRows("crossEntropy", logp, target, weight: weight, ignoreIndex: ignoreIndex)
    // PyTorch: (1 − ε)·nll + ε/C · smooth, smooth = −Σ_c w_c log p_c (0 where ignored);
    // the mean divides both by the summed target weights.
    let rows = classRows(logp)
    var smooth = weight.map { -(rows * $0.to(rows.dtype)).sum(dim: 1) } ?? -rows.sum(dim: 1)
    smooth = smooth * r.valid.to(rows.dtype)
    let nllPart: Tensor, smoothPart: Tensor
    switch reduction {
    case .none: nllPart = r.losses; smoothPart = smooth
    case .sum: nllPart = r.losses.sum(); smoothPart = smooth.sum()
    case .mean:
        let denom = r.weights.sum()
        nllPart = r.losses.sum() / denom; smoothPart = smooth.sum() / denom
    }
    let out = nllPart * (1 - labelSmoothing) + smoothPart * (labelSmoothing / Double(c))
    return reduction == .none ? unrows(out, like: input) : out
}

/// Cross-entropy with a class-probability target shaped like the input (PyTorch's soft-label form).
private func crossEntropyProbabilities(_ logp: Tensor, _ target: Tensor, weight: Tensor?, reduction: Reduction,
                                       labelSmoothing: Double) -> Tensor {
    check(target.shape == logp.shape,
          "crossEntropy: a probability target must have the input's shape \(logp.shape), got \(target.shape); class indices must be an integer tensor")
    let classDim = logp.rank == 1 ? 0 : 1
    let c = logp.shape[classDim]
    var t = target.to(logp.dtype)
    if labelSmoothing > 0 { t = t * (1 - labelSmoothing) + labelSmoothing / Double(c) }
    var prod = logp * t
    if let weight {
        check(weight.shape == [c], "crossEntropy: weight must have shape [\(c)] (one per class), got \(weight.shape)")
        var wshape = [Int](repeating: 1, count: logp.rank); wshape[classDim] = c
        prod = prod * weight.to(logp.dtype).reshape(wshape)
    }
    let losses = -prod.sum(dim: classDim)
    switch reduction {
    case .none: return losses
    case .sum: return losses.sum()
    case .mean: return losses.sum() / Double(max(1, logp.count / c))
    }
}

/// Binary cross-entropy (`F.binary_cross_entropy`) between probabilities `input` in [0, 1] and `target` of the
/// same shape: `−w·(t·log x + (1 − t)·log(1 − x))`, each log clamped at −100 as PyTorch does.
///
/// ```swift
/// let loss = binaryCrossEntropy(sigmoid(logits), labels)
/// ```
public func binaryCrossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropy", input, target)
    if input.count > 0 {
        let (lo, hi) = checkingOnHost { noGrad { (input.amin().item(), input.amax().item()) } }
        check(lo >= 0 && hi <= 1, "binaryCrossEntropy: all elements of input should be between 0 and 1, got values in [\(lo), \(hi)]; use binaryCrossEntropyWithLogits for unnormalised scores")
    }
    var losses = -(target * input.log().clamp(min: -100) + (1 - target) * (1 - input).log().clamp(min: -100))
    if let weight {
        check(Shape.broadcast(weight.shape, input.shape, op: "binaryCrossEntropy weight") == input.shape,
              "binaryCrossEntropy: weight of shape \(weight.shape) must broadcast to the input shape \(input.shape)")
        losses = losses * weight
    }
    return applyReduction(losses, reduction)
}

/// Binary cross-entropy on logits (`F.binary_cross_entropy_with_logits`), numerically stable:
/// `w·((1 − t)·x + (1 + (posWeight − 1)·t)·softplus(−x))`.
///
/// - Parameters:
///   - weight: broadcast to the input, rescales each element.
///   - posWeight: weight of positive examples, broadcast along the last (class) dimension, e.g. `[C]`.
///
/// ```swift
/// let loss = binaryCrossEntropyWithLogits(logits, labels, posWeight: Tensor([3.0]))
/// ```
public func binaryCrossEntropyWithLogits(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                         reduction: Reduction = .mean, posWeight: Tensor? = nil) -> Tensor {
    checkSameShape("binaryCrossEntropyWithLogits", input, target)
    // softplus(−x) = −log σ(x); the threshold keeps the exact form wherever exp does not overflow.
    let negLogSigmoid = softplus(-input, threshold: input.dtype == .float64 ? 700 : 80)
    var losses: Tensor
    if let posWeight {
        check(Shape.broadcast(posWeight.shape, input.shape, op: "binaryCrossEntropyWithLogits posWeight") == input.shape,
              "binaryCrossEntropyWithLogits: posWeight of shape \(posWeight.shape) must broadcast to the input shape \(input.shape)")
        let logWeight = (posWeight - 1) * target + 1
        losses = (1 - target) * input + logWeight * negLogSigmoid
    } else {
        losses = (1 - target) * input + negLogSigmoid
    }
    if let weight {
        check(Shape.broadcast(weight.shape, input.shape, op: "binaryCrossEntropyWithLogits weight") == input.shape,
              "binaryCrossEntropyWithLogits: weight of shape \(weight.shape) must broadcast to the input shape \(input.shape)")
        losses = losses * weight
    }
    return applyReduction(losses, reduction)
}
