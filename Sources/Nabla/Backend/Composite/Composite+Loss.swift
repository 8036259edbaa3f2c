// The composite negative log-likelihood and cross-entropy of every backend: gathers, masks and sums from primitive
// kernels, and the cross-entropy as logSoftmax followed by the NLL.

extension Backend {
    /// Default `nllLoss`: the composite.
    public func nllLoss(_ input: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        compositeNLLLoss(input, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: out)
    }

    /// Default `nllLossBackward`: the composite.
    public func nllLossBackward(_ grad: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        compositeNLLLossBackward(grad, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: out)
    }

    /// Default `softmaxCrossEntropy`: `softmax(log: true)`, then `nllLoss`.
    public func softmaxCrossEntropy(_ x: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction,
                                    logProbs: Tensor, loss: Tensor) {
        softmax(x, dim: 1, log: true, out: logProbs)
        nllLoss(logProbs, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: loss)
    }

    /// Default `softmaxCrossEntropyBackward`: `nllLossBackward` into a temporary, then `softmaxBackward(log: true)`.
    public func softmaxCrossEntropyBackward(_ grad: Tensor, logProbs: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int,
                                            reduction: LossReduction, out: Tensor) {
        let g = Tensor(empty: logProbs.shape, dtype: logProbs.dtype, device: logProbs.device)
        nllLossBackward(grad, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: g)
        softmaxBackward(g, output: logProbs, dim: 1, log: true, out: out)
    }

    /// Each row's weight (0 where ignored) and the index to read (0 where ignored), as tensors.
    private func nllRowWeights(_ target: Tensor, weight: Tensor?, ignoreIndex: Int, dtype: DType) -> (weights: Tensor, safe: Tensor) {
        let valid = target.ne(Double(ignoreIndex))
        let safe = `where`(valid, target, Tensor.zerosLike(target))
        var w = valid.to(dtype)
        if let weight { w = w * weight.indexSelect(dim: 0, index: safe) }
        return (w, safe)
    }

    /// `nllLoss` from gathers, masks and sums.
    public func compositeNLLLoss(_ input: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        noGrad {
            let (w, safe) = nllRowWeights(target, weight: weight, ignoreIndex: ignoreIndex, dtype: input.dtype)
            let losses = -input.gather(dim: 1, index: safe.unsqueeze(1)).squeeze(1) * w
            let r: Tensor
            switch reduction {
            case .none: r = losses
            case .sum: r = losses.sum()
            case .mean: r = losses.sum() / w.sum()
            }
            copy(r, into: out)
        }
    }

    /// `nllLossBackward`: each row's coefficient `−weight[t]·grad` (over the summed weights for `.mean`) scattered
    /// into zeros at its target.
    public func compositeNLLLossBackward(_ grad: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction,
                                         out: Tensor) {
        noGrad {
            let (w, safe) = nllRowWeights(target, weight: weight, ignoreIndex: ignoreIndex, dtype: out.dtype)
            var c = -w * grad.to(out.dtype)
            if reduction == .mean { c = c / w.sum() }
            fill(out, value: 0)
            scatter(c.unsqueeze(1).contiguous(), dim: 1, index: safe.unsqueeze(1).contiguous(), out: out, accumulate: false)
        }
    }
}
