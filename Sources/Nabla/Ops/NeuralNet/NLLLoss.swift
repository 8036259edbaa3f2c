// The negative log-likelihood of class-index targets as one op with one backend kernel each way (`Backend.nllLoss`,
// `Backend.nllLossBackward`): NablaNN's `nllLoss` and `crossEntropy` (logSoftmax, then this) run on it. Written out
// in Tensor ops it took about ten kernels forward (a gather, masks for ignoreIndex, the weights, two sums, a divide)
// and as many backward; `compile` fuses the logSoftmax before it and its backward into one node each
// (`softmaxCrossEntropy`).

/// How a loss reduces its per-sample values (NablaNN's `Reduction`, as the backend kernels take it).
public enum LossReduction: Int, Hashable, Sendable, CustomStringConvertible {
    /// One value per sample.
    case none
    /// The sum.
    case sum
    /// The weighted mean: the sum divided by the summed weights of the samples counted.
    case mean

    /// `none`, `sum` or `mean`.
    public var description: String {
        switch self {
        case .none: return "none"
        case .sum: return "sum"
        case .mean: return "mean"
        }
    }
}

/// The negative log-likelihood of log-probabilities `logProbs` [M, C] at int64 class indices `target` [M]: per row
/// `−weight[t]·logProbs[r, t]`, rows whose target is `ignoreIndex` contributing nothing, reduced as `reduction` says
/// ([M] for `.none`, else a scalar). Differentiable in `logProbs`, to any order, and in forward mode.
///
/// The op behind NablaNN's `nllLoss` and `crossEntropy` (`torch.nn.functional.nll_loss` on rows); targets must
/// already be checked to lie in `0..<C` or equal `ignoreIndex` (the kernel stops on any other).
package func nllLossRows(_ logProbs: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int,
                         reduction: LossReduction) -> Tensor {
    checkRowLossArguments("nllLoss", input: logProbs, named: "log-probabilities", target: target, weight: weight)
    let m = logProbs.shape[0]
    let out = Tensor(empty: reduction == .none ? [m] : [], dtype: logProbs.dtype, device: logProbs.device)
    logProbs.backend.nllLoss(logProbs, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: out)
    guard isRecording(logProbs) else { return out }
    let shape = logProbs.shape
    return record(out, op: "NllLossBackward", inputs: [logProbs], jvp: { t in
        // Linear in its input: the tangent is the loss of the tangent.
        nllLossRows(t[0]!, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }, backward: { g, _ in
        let grad = g[0]
        if !isGradEnabled && grad.dtype == logProbs.dtype && grad.device == logProbs.device {   // first order: the kernel
            let gx = Tensor(empty: shape, dtype: grad.dtype, device: grad.device)
            gx.backend.nllLossBackward(grad, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: gx)
            return [gx]
        }
        // Recording the backward: a constant coefficient matrix times the gradient, differentiable in the gradient.
        let coefficients = noGrad { () -> Tensor in
            let ones = Tensor.ones(grad.shape, dtype: logProbs.dtype, device: logProbs.device)
            let c = Tensor(empty: shape, dtype: logProbs.dtype, device: logProbs.device)
            c.backend.nllLossBackward(ones, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: c)
            return c
        }
        return [coefficients * (reduction == .none ? grad.unsqueeze(1) : grad)]
    })
}

/// Cross-entropy of logits `logits` [M, C] at int64 class indices `target` [M]: `nllLossRows(logSoftmax(logits,
/// dim: 1), ...)` as one backend kernel each way (`Backend.softmaxCrossEntropy`, which keeps the log-probabilities
/// for the backward, and `softmaxCrossEntropyBackward`: `(softmax − one-hot)·w·g/W` in one pass). Differentiable in
/// `logits`, to any order, and in forward mode.
///
/// The op behind NablaNN's `crossEntropy` with class-index targets and no label smoothing
/// (`torch.nn.functional.cross_entropy` on rows); targets must already be checked as for `nllLossRows`.
package func crossEntropyRows(_ logits: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int,
                              reduction: LossReduction) -> Tensor {
    checkRowLossArguments("crossEntropy", input: logits, named: "logits", target: target, weight: weight)
    let m = logits.shape[0]
    let logProbs = Tensor(empty: logits.shape, dtype: logits.dtype, device: logits.device)
    let out = Tensor(empty: reduction == .none ? [m] : [], dtype: logits.dtype, device: logits.device)
    logits.backend.softmaxCrossEntropy(logits, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction,
                                       logProbs: logProbs, loss: out)
    guard isRecording(logits) else { return out }
    return record(out, op: "CrossEntropyBackward", inputs: [logits], saving: [logProbs], jvp: { t in
        // d logSoftmax · t = t − Σ softmax·t, then the (linear) NLL of it.
        let tl = t[0]! - (Nabla.exp(logProbs) * t[0]!).sum(dims: [1], keepDim: true)
        return nllLossRows(tl, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }, backward: { g, _ in
        let grad = g[0]
        if !isGradEnabled && grad.dtype == logProbs.dtype && grad.device == logProbs.device {   // first order: the kernel
            let gx = Tensor(empty: logProbs.shape, dtype: grad.dtype, device: grad.device)
            gx.backend.softmaxCrossEntropyBackward(grad, logProbs: logProbs, target: target, weight: weight, ignoreIndex: ignoreIndex,
                                                   reduction: reduction, out: gx)
            return [gx]
        }
        // Recording the backward: logSoftmax's backward of the NLL's, differentiable in the logits and the gradient.
        let lp = Nabla.logSoftmax(logits, dim: 1)
        let coefficients = noGrad { () -> Tensor in
            let ones = Tensor.ones(grad.shape, dtype: logProbs.dtype, device: logProbs.device)
            let c = Tensor(empty: logProbs.shape, dtype: logProbs.dtype, device: logProbs.device)
            c.backend.nllLossBackward(ones, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, out: c)
            return c
        }
        let gl = coefficients * (reduction == .none ? grad.unsqueeze(1) : grad)
        return [gl - Nabla.exp(lp) * gl.sum(dims: [1], keepDim: true)]
    })
}

/// The argument checks the row losses share: `input` [M, C] floating point, int64 `target` [M] on its device, and an
/// optional class `weight` [C] of its dtype and device; messages name `op` and call `input` `what`.
private func checkRowLossArguments(_ op: String, input: Tensor, named what: String, target: Tensor, weight: Tensor?) {
    check(input.rank == 2 && input.dtype.isFloatingPoint,
          "\(op): expected floating point \(what) [M, C], got \(input.dtype) \(input.shape)")
    check(target.rank == 1 && target.shape[0] == input.shape[0] && target.dtype == .int64 && target.device == input.device,
          "\(op): expected int64 targets [\(input.shape[0])] on \(input.device), got \(target.dtype) \(target.shape)")
    if let weight {
        check(weight.shape == [input.shape[1]] && weight.dtype == input.dtype && weight.device == input.device,
              "\(op): expected a \(input.dtype) weight [\(input.shape[1])], got \(weight.dtype) \(weight.shape)")
    }
}
