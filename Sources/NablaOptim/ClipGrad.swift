/// Scales the gradients of `params` in place so that their total norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`).
///
/// The total norm is the `normType`-norm of the per-parameter gradient norms (`.infinity` for the max norm);
/// gradients are multiplied by `min(1, maxNorm / (total + 1e-6))`. Parameters without a gradient are skipped.
///
/// ```swift
/// loss.backward()
/// let norm = clipGradNorm_(model.parameters(), maxNorm: 1.0)
/// opt.step()
/// ```
/// - Returns: the total norm before clipping, a 0-d tensor (float64 0 when no parameter has a gradient).
@discardableResult
public func clipGradNorm_(_ params: [Tensor], maxNorm: Double, normType: Double = 2,
                          errorIfNonfinite: Bool = false) -> Tensor {
    let grads = params.compactMap(\.grad)
    guard !grads.isEmpty else { return Tensor(0.0, dtype: .float64) }
    return noGrad {
        let norms = grads.map { g -> Tensor in
            normType.isInfinite ? g.abs().amax() : g.norm(p: normType)
        }
        let stacked = stack(norms.map { $0.to(grads[0].dtype) })
        let total = normType.isInfinite ? stacked.amax() : stacked.norm(p: normType)
        let t = total.item()
        check(!errorIfNonfinite || t.isFinite,
              "clipGradNorm_: the total norm of order \(normType) for gradients from `parameters` is non-finite (\(t)), so it cannot be clipped; pass errorIfNonfinite: false to scale anyway")
        let coef = (Tensor(maxNorm, dtype: total.dtype) / (total + 1e-6)).clamp(max: 1.0)
        for g in grads { g.mul_(coef.to(g.dtype)) }
        return total
    }
}

/// Clamps the gradients of `params` in place to `[-clipValue, clipValue]` (`torch.nn.utils.clip_grad_value_`).
///
/// ```swift
/// clipGradValue_(model.parameters(), clipValue: 0.5)
/// ```
public func clipGradValue_(_ params: [Tensor], clipValue: Double) {
    check(clipValue >= 0, "clipGradValue_: clipValue must be non-negative, got \(clipValue)")
    noGrad { for p in params { p.grad?.clamp_(min: -clipValue, max: clipValue) } }
}
