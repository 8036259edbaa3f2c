// Normalisation ops: batchNorm, layerNorm, groupNorm. The forward is one fused kernel (statistics and
// affine output); the backward is the analytic formula written with Tensor ops, so it is itself
// differentiable. When the backward records (createGraph), the statistics are recomputed from the
// input with Tensor ops, so second derivatives see their dependence on the input.

/// Normalises over the trailing `normalizedShape` dims, then scales and shifts (`torch.nn.functional.layer_norm`).
///
/// ```swift
/// let x = Tensor.randn([4, 10, 256])
/// let y = layerNorm(x, normalizedShape: [256], weight: Tensor.ones([256]), bias: Tensor.zeros([256]))
/// ```
/// - Parameters:
///   - normalizedShape: the trailing sizes of `input` the statistics are taken over.
///   - weight: optional scale of shape `normalizedShape`.
///   - bias: optional shift of shape `normalizedShape`.
///   - eps: added to the variance (biased) before the square root.
public func layerNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                      eps: Double = 1e-5) -> Tensor {
    let k = normalizedShape.count
    check(input.dtype.isFloatingPoint, "layerNorm: expected a floating point input, got \(input.dtype)")
    check(k >= 1 && input.rank >= k && Array(input.shape.suffix(k)) == normalizedShape,
          "layerNorm: normalizedShape \(normalizedShape) does not match the trailing dims of input of shape \(input.shape)")
    NormSupport.checkAffine(weight, bias, shape: normalizedShape, input: input, op: "layerNorm")
    let n = normalizedShape.reduce(1, *), rows = n == 0 ? 0 : input.count / n
    let f = NormSupport.rowsForward(input, rows: rows, rowLen: n, groups: 1, inner: 1, weight: weight, bias: bias, eps: eps)
    let inputs = [input] + [weight, bias].compactMap { $0 }
    guard isRecording(inputs) else { return f.out }
    let dims = Array((input.rank - k)..<input.rank)
    let statShape = Array(input.shape.prefix(input.rank - k)) + Array(repeating: 1, count: k)
    let rowMean = f.mean, rowRstd = f.rstd   // not `f`: the closure must not capture the output
    let savedMean = rowMean.reshapeNoGrad(statShape), savedRstd = rowRstd.reshapeNoGrad(statShape)
    return record(f.out, op: "NativeLayerNormBackward", inputs: inputs, saving: [input] + [weight].compactMap { $0 }) { g, _ in
        if !isGradEnabled {   // first order: the backend's fused kernel
            let r = input.backend.normRowsBackward(input.contiguousIfNeeded(), grad: g[0].contiguousIfNeeded(),
                                                   weight: weight?.contiguousIfNeeded(), hasBias: bias != nil,
                                                   mean: rowMean, rstd: rowRstd, rows: rows, rowLen: n)
            return [r.input] + [r.weight, r.bias].compactMap { $0?.reshapeNoGrad(normalizedShape) }
        }
        let (mu, rs) = NormSupport.stats(input, dims: dims, eps: eps, saved: (savedMean, savedRstd))
        return NormSupport.backward(g[0], input: input, mean: mu, rstd: rs, dims: dims,
                                    weight: weight, bias: bias, affineShape: normalizedShape)
    }
}

/// Normalises over groups of channels of an `(N, C, *)` input, then scales and shifts per channel
/// (`torch.nn.functional.group_norm`).
///
/// ```swift
/// let y = groupNorm(Tensor.randn([2, 6, 4, 4]), numGroups: 3)
/// ```
public func groupNorm(_ input: Tensor, numGroups: Int, weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) -> Tensor {
    check(input.dtype.isFloatingPoint, "groupNorm: expected a floating point input, got \(input.dtype)")
    check(input.rank >= 2, "groupNorm: expected an input of shape (N, C, *), got shape \(input.shape)")
    let nb = input.shape[0], c = input.shape[1]
    check(numGroups > 0 && c % numGroups == 0,
          "groupNorm: expected the number of channels \(c) to be divisible by numGroups \(numGroups), input shape \(input.shape)")
    NormSupport.checkAffine(weight, bias, shape: [c], input: input, op: "groupNorm")
    let inner = input.shape.dropFirst(2).reduce(1, *)
    let rowLen = (c / numGroups) * inner
    let f = NormSupport.rowsForward(input, rows: nb * numGroups, rowLen: rowLen, groups: numGroups, inner: inner,
                                    weight: weight, bias: bias, eps: eps)
    let inputs = [input] + [weight, bias].compactMap { $0 }
    guard isRecording(inputs) else { return f.out }
    let shape = input.shape
    let grouped = [nb, numGroups, rowLen]
    let savedMean = f.mean.reshapeNoGrad([nb, numGroups, 1]), savedRstd = f.rstd.reshapeNoGrad([nb, numGroups, 1])
    let affineShape = [1, c] + Array(repeating: 1, count: input.rank - 2)
    return record(f.out, op: "NativeGroupNormBackward", inputs: inputs, saving: [input] + [weight].compactMap { $0 }) { g, _ in
        let x = input.reshape(grouped)
        let (mu, rs) = NormSupport.stats(x, dims: [2], eps: eps, saved: (savedMean, savedRstd))
        let gx = weight.map { g[0] * $0.reshape(affineShape) } ?? g[0]
        let gxr = gx.reshape(grouped)
        let xhat = (x - mu) * rs
        let dx = rs * (gxr - gxr.mean(dims: [2], keepDim: true) - xhat * (gxr * xhat).mean(dims: [2], keepDim: true))
        var grads = [dx.reshape(shape)]
        if let weight { grads.append((g[0] * xhat.reshape(shape)).sumTo(affineShape).reshape(weight.shape)) }
        if let bias { grads.append(g[0].sumTo(affineShape).reshape(bias.shape)) }
        return grads
    }
}

/// Normalises each channel of an `(N, C, *)` input by batch statistics (training) or running
/// statistics (evaluation), then scales and shifts (`torch.nn.functional.batch_norm`).
///
/// In training mode the running statistics, when given, are updated in place (without recording):
/// `running = (1 - momentum) * running + momentum * batchStat`, with the unbiased batch variance, as PyTorch.
/// ```swift
/// let rm = Tensor.zeros([3]), rv = Tensor.ones([3])
/// let y = batchNorm(Tensor.randn([8, 3, 5, 5]), runningMean: rm, runningVar: rv, training: true)
/// ```
public func batchNorm(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil,
                      training: Bool = false, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
    check(input.dtype.isFloatingPoint, "batchNorm: expected a floating point input, got \(input.dtype)")
    check(input.rank >= 2, "batchNorm: expected an input of shape (N, C, *), got shape \(input.shape)")
    let nb = input.shape[0], c = input.shape[1], inner = input.shape.dropFirst(2).reduce(1, *)
    NormSupport.checkAffine(weight, bias, shape: [c], input: input, op: "batchNorm")
    for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar)] {
        if let t { check(t.shape == [c], "batchNorm: \(name) must have shape [\(c)], got \(t.shape) for input of shape \(input.shape)") }
    }
    let useBatch = training || runningMean == nil || runningVar == nil
    let x = input.isContiguous ? input : input.contiguousCopy()
    let dt = input.dtype, dev = input.device
    let mean: Tensor, invstd: Tensor
    if useBatch {
        check(nb * inner > 1, "batchNorm: expected more than 1 value per channel when training, got input of shape \(input.shape)")
        let m = Tensor(empty: [c], dtype: dt, device: dev), v = Tensor(empty: [c], dtype: dt, device: dev)
        x.backend.batchNormStats(x, n: nb, channels: c, inner: inner, mean: m, variance: v)
        if training, let rm = runningMean, let rv = runningVar {
            let count = Double(nb * inner)
            noGrad {
                rm.mul_(1 - momentum).add_(OpSupport.cast(m, rm.dtype) * momentum)
                rv.mul_(1 - momentum).add_(OpSupport.cast(v, rv.dtype) * (momentum * count / (count - 1)))
            }
        }
        mean = m
        invstd = OpSupport.unary(.rsqrt, OpSupport.binaryScalar(.add, v, eps, reversed: false, name: "batchNorm"))
    } else {
        mean = OpSupport.cast(runningMean!.detached(), dt).contiguousCopy()   // a snapshot: later updates must not leak in
        invstd = OpSupport.unary(.rsqrt, OpSupport.binaryScalar(.add, OpSupport.cast(runningVar!.detached(), dt), eps,
                                                                  reversed: false, name: "batchNorm"))
    }
    // out = x * scale + shift, scale = w * invstd, shift = b - mean * scale.
    let scale = weight.map { OpSupport.binary(.mul, $0.detached(), invstd, name: "batchNorm") } ?? invstd
    let shift0 = OpSupport.binary(.mul, mean, scale, name: "batchNorm")
    let shift = bias.map { OpSupport.binary(.sub, $0.detached(), shift0, name: "batchNorm") }
        ?? OpSupport.unary(.neg, shift0)
    let out = Tensor(empty: input.shape, dtype: dt, device: dev)
    x.backend.batchNormAffine(x, n: nb, channels: c, inner: inner, scale: scale.contiguousIfNeeded(),
                              shift: shift.contiguousIfNeeded(), out: out)
    let inputs = [input] + [weight, bias].compactMap { $0 }
    guard isRecording(inputs) else { return out }
    let affineShape = [1, c] + Array(repeating: 1, count: input.rank - 2)
    let dims = [0] + Array(2..<input.rank)
    let savedMean = mean.reshapeNoGrad(affineShape), savedRstd = invstd.reshapeNoGrad(affineShape)
    return record(out, op: "NativeBatchNormBackward", inputs: inputs, saving: [input] + [weight].compactMap { $0 }) { g, _ in
        if useBatch && !isGradEnabled {   // first order: the backend's fused kernel
            let r = x.backend.batchNormBackward(x, grad: g[0].contiguousIfNeeded(), weight: weight?.contiguousIfNeeded(),
                                                mean: mean, invstd: invstd, n: nb, channels: c, inner: inner)
            return [r.input] + (weight == nil ? [] : [r.weight]) + (bias == nil ? [] : [r.bias])
        }
        if useBatch {
            let (mu, rs) = NormSupport.stats(input, dims: dims, eps: eps, saved: (savedMean, savedRstd))
            return NormSupport.backward(g[0], input: input, mean: mu, rstd: rs, dims: dims,
                                        weight: weight, bias: bias, affineShape: affineShape)
        }
        // Evaluation: the statistics are constants.
        let xhat = (input - savedMean) * savedRstd
        let gx = weight.map { g[0] * $0.reshape(affineShape) } ?? g[0]
        var grads = [gx * savedRstd]
        if let weight { grads.append((g[0] * xhat).sumTo(affineShape).reshape(weight.shape)) }
        if let bias { grads.append(g[0].sumTo(affineShape).reshape(bias.shape)) }
        return grads
    }
}

extension Tensor {
    /// `self`, or a contiguous copy when it is strided.
    func contiguousIfNeeded() -> Tensor { isContiguous ? self : contiguousCopy() }
}

/// Shared pieces of the normalisation ops.
enum NormSupport {
    /// Checks that weight and bias have `shape` and the input's dtype.
    static func checkAffine(_ weight: Tensor?, _ bias: Tensor?, shape: [Int], input: Tensor, op: StaticString) {
        for (name, t) in [("weight", weight), ("bias", bias)] {
            guard let t else { continue }
            check(t.count == shape.reduce(1, *) && (t.shape == shape || t.rank == 1),
                  "\(op): \(name) must have shape \(shape), got \(t.shape) for input of shape \(input.shape)")
            check(t.dtype == input.dtype, "\(op): \(name) has dtype \(t.dtype) but input has dtype \(input.dtype)")
            check(t.device == input.device, "\(op): \(name) is on \(t.device) but input is on \(input.device)")
        }
    }

    /// The fused row-normalisation forward: output, and per-row mean and 1/std (`[rows]`).
    static func rowsForward(_ input: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?,
                            eps: Double) -> (out: Tensor, mean: Tensor, rstd: Tensor) {
        let dt = input.dtype, dev = input.device
        let out = Tensor(empty: input.shape, dtype: dt, device: dev)
        let mean = Tensor(empty: [rows], dtype: dt, device: dev), rstd = Tensor(empty: [rows], dtype: dt, device: dev)
        input.backend.normRows(input.contiguousIfNeeded(), rows: rows, rowLen: rowLen, groups: groups, inner: inner,
                               weight: weight?.contiguousIfNeeded(), bias: bias?.contiguousIfNeeded(), eps: eps,
                               out: out, mean: mean, rstd: rstd)
        return (out, mean, rstd)
    }

    /// Mean and 1/std over `dims` (kept): recomputed with Tensor ops when the backward records
    /// (higher-order gradients), else the values saved by the forward.
    static func stats(_ x: Tensor, dims: [Int], eps: Double, saved: (Tensor, Tensor)) -> (Tensor, Tensor) {
        guard isGradEnabled && x.requiresGrad else { return saved }
        let mu = x.mean(dims: dims, keepDim: true)
        return (mu, (x.var(dims: dims, correction: 0, keepDim: true) + eps).rsqrt())
    }

    /// Gradients of `((x - mean) * rstd) * w + b` normalised over `dims`: `[dx, dw?, db?]`
    /// (`w` and `b` broadcast as `affineShape`).
    static func backward(_ g: Tensor, input: Tensor, mean: Tensor, rstd: Tensor, dims: [Int],
                         weight: Tensor?, bias: Tensor?, affineShape: [Int]) -> [Tensor] {
        let xhat = (input - mean) * rstd
        let gx = weight.map { g * $0.reshape(affineShape) } ?? g
        let dx = rstd * (gx - gx.mean(dims: dims, keepDim: true) - xhat * (gx * xhat).mean(dims: dims, keepDim: true))
        var grads = [dx]
        if let weight { grads.append((g * xhat).sumTo(affineShape).reshape(weight.shape)) }
        if let bias { grads.append(g.sumTo(affineShape).reshape(bias.shape)) }
        return grads
    }
}
