import Nabla

// ONNX's neural-network operators: Conv, ConvTranspose, pooling, BatchNormalization, LayerNormalization, Gemm,
// MatMul, Softmax, LogSoftmax. Constant weights are prepared once at load (transposed views for Gemm/MatMul).

/// Explicit begin/end pads for `Conv`/pooling from `pads` or `auto_pad`, for an input's spatial sizes.
func spatialPads(_ ctx: ONNXNodeContext, autoPad: String, pads: [Int]?, input: [Int], kernel: [Int], stride: [Int],
                 dilation: [Int]) throws(ONNXError) -> (begin: [Int], end: [Int]) {
    let n = kernel.count
    switch autoPad {
    case "NOTSET", "":
        let p = pads ?? Array(repeating: 0, count: 2 * n)
        guard p.count == 2 * n, p.allSatisfy({ $0 >= 0 }) else { throw ctx.invalid("pads \(p) must hold \(2 * n) non-negative values") }
        return (Array(p[..<n]), Array(p[n...]))
    case "VALID":
        return (Array(repeating: 0, count: n), Array(repeating: 0, count: n))
    case "SAME_UPPER", "SAME_LOWER":
        var b: [Int] = [], e: [Int] = []
        for i in 0..<n {
            let out = (input[i] + stride[i] - 1) / stride[i]
            let total = max(0, (out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - input[i])
            let small = total / 2, big = total - small
            b.append(autoPad == "SAME_UPPER" ? small : big); e.append(autoPad == "SAME_UPPER" ? big : small)
        }
        return (b, e)
    default:
        throw ctx.invalid("auto_pad '\(autoPad)' is not supported")
    }
}

/// Pads the spatial dims of `x` ([N, C, ...]) by `begin`/`end` with `value`.
func padSpatial(_ x: Tensor, begin: [Int], end: [Int], value: Double) -> Tensor {
    var p: [Int] = []
    for i in (0..<begin.count).reversed() { p.append(begin[i]); p.append(end[i]) }
    return pad(x, p, value: value)
}

/// Builds the kernel of a neural-network operator, or `nil` when `ctx.opType` is not one.
func neuralNetKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel? {
    switch ctx.opType {
    case "Conv": return try convKernel(ctx)
    case "ConvTranspose": return try convTransposeKernel(ctx)
    case "MaxPool", "AveragePool": return try poolKernel(ctx)
    case "GlobalAveragePool", "GlobalMaxPool":
        try ctx.requireInputs(1)
        let isMax = ctx.opType == "GlobalMaxPool"
        return { xs in
            let x = try input(xs, 0, ctx)
            guard x.rank >= 3, x.dtype.isFloatingPoint else { throw ctx.invalid("expects a floating [N, C, ...] input, got \(x.dtype) \(x.shape)") }
            let dims = Array(2..<x.rank)
            return [isMax ? x.amax(dims: dims, keepDim: true) : x.mean(dims: dims, keepDim: true)]
        }
    case "BatchNormalization":
        try ctx.requireInputs(5)
        let eps = try ctx.float("epsilon", 1e-5)
        if try ctx.int("training_mode", 0) != 0 { throw ctx.invalid("training_mode = 1 is not supported (inference only)") }
        return { xs in
            let x = try input(xs, 0, ctx)
            let scale = try input(xs, 1, ctx), bias = try input(xs, 2, ctx), mean = try input(xs, 3, ctx), variance = try input(xs, 4, ctx)
            guard x.rank >= 2, x.dtype.isFloatingPoint else { throw ctx.invalid("expects a floating [N, C, ...] input, got \(x.dtype) \(x.shape)") }
            let c = x.shape[1]
            for (n, t) in [("scale", scale), ("B", bias), ("mean", mean), ("var", variance)] where t.shape != [c] || t.dtype != x.dtype {
                throw ctx.invalid("\(n) is \(t.dtype) \(t.shape), expected \(x.dtype) [\(c)] for input \(x.shape)")
            }
            return [batchNorm(x, runningMean: mean, runningVar: variance, weight: scale, bias: bias, training: false, eps: eps)]
        }
    case "LayerNormalization":
        try ctx.requireInputs(2)
        let axis = try ctx.int("axis", -1), eps = try ctx.float("epsilon", 1e-5)
        if try ctx.int("stash_type", 1) != 1 { throw ctx.invalid("stash_type other than float is not supported") }
        guard ctx.outputCount <= 1 else { throw ctx.invalid("the Mean and InvStdDev outputs are not supported") }
        return { xs in
            let x = try input(xs, 0, ctx)
            guard x.dtype.isFloatingPoint else { throw ctx.invalid("expects a floating input, got \(x.dtype)") }
            let a = try normalizeAxis(axis, rank: x.rank, ctx)
            let normShape = Array(x.shape[a...])
            func affine(_ t: Tensor?, _ what: String) throws -> Tensor? {
                guard let t else { return nil }
                guard t.dtype == x.dtype else { throw ctx.invalid("\(what) is \(t.dtype), the input \(x.dtype)") }
                if t.shape == normShape { return t }
                do { _ = try Shape.broadcastThrowing(t.shape, normShape, op: "LayerNormalization") } catch {
                    throw ctx.invalid("\(what) of shape \(t.shape) does not broadcast to \(normShape)")
                }
                return t.expand(normShape).contiguous()
            }
            let w = try affine(xs[1], "Scale"), b = try affine(xs.count > 2 ? xs[2] : nil, "B")
            return [layerNorm(x, normalizedShape: normShape, weight: w, bias: b, eps: eps)]
        }
    case "Gemm": return try gemmKernel(ctx)
    case "MatMul":
        try ctx.requireInputs(2)
        // A constant 2-D right operand runs as `linear` with the weight as a transposed view (no copy, one GEMM).
        if let b = ctx.constants[1], b.rank == 2, b.dtype.isFloatingPoint {
            let weight = b.t()
            return { xs in
                let a = try input(xs, 0, ctx)
                guard a.rank >= 1, a.shape[a.rank - 1] == b.shape[0] else {
                    throw ctx.invalid("shapes \(a.shape) and \(b.shape) cannot be multiplied")
                }
                guard a.dtype == b.dtype else { throw ctx.invalid("dtypes \(a.dtype) and \(b.dtype) differ") }
                return [linear(a, weight: weight)]
            }
        }
        return { xs in
            let a = try input(xs, 0, ctx), b = try input(xs, 1, ctx)
            guard a.rank >= 1, b.rank >= 1 else { throw ctx.invalid("MatMul needs inputs of rank >= 1, got \(a.shape) and \(b.shape)") }
            let k = b.rank == 1 ? b.shape[0] : b.shape[b.rank - 2]
            guard a.shape[a.rank - 1] == k else { throw ctx.invalid("shapes \(a.shape) and \(b.shape) cannot be multiplied") }
            if a.rank > 2 || b.rank > 2 {
                do { _ = try Shape.broadcastThrowing(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "MatMul") } catch {
                    throw ctx.invalid("batch dims of \(a.shape) and \(b.shape) do not broadcast")
                }
            }
            return [matmul(a, b)]
        }
    case "Softmax", "LogSoftmax":
        try ctx.requireInputs(1)
        let axis = try ctx.int("axis", -1), isLog = ctx.opType == "LogSoftmax"
        return { xs in
            let x = try input(xs, 0, ctx)
            guard x.dtype.isFloatingPoint else { throw ctx.invalid("expects a floating input, got \(x.dtype)") }
            let a = try normalizeAxis(axis, rank: x.rank, ctx)
            return [isLog ? logSoftmax(x, dim: a) : softmax(x, dim: a)]
        }
    default:
        return nil
    }
}

/// Gemm: `alpha · A' B' + beta · C`, with A', B' optionally transposed.
private func gemmKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel {
    try ctx.requireInputs(2)
    let alpha = try ctx.float("alpha", 1), beta = try ctx.float("beta", 1)
    let transA = try ctx.int("transA", 0) != 0, transB = try ctx.int("transB", 0) != 0
    // The common case (a Linear layer): alpha = beta = 1, A as is, a constant B and a 1-D (or [1, N]) bias.
    if alpha == 1, beta == 1, !transA, let b = ctx.constants[1], b.rank == 2, b.dtype.isFloatingPoint {
        let weight = transB ? b : b.t()
        let n = weight.shape[0]
        var bias: Tensor?
        if ctx.has(2) {
            if let c = ctx.constants[2], c.count == n, c.dtype == b.dtype, c.rank == 1 || (c.rank == 2 && c.shape[0] == 1) {
                bias = c.reshape([n]).contiguous()
            } else if ctx.constants.count > 2, ctx.constants[2] == nil {
                bias = nil  // a computed C: handled by the general path below
            }
        }
        if !ctx.has(2) || bias != nil {
            // Packed once here: a product with a few rows (batch-1 inference) runs on the packed weight.
            let prepared = PreparedLinear(weight: weight, bias: bias)
            return { xs in
                let a = try input(xs, 0, ctx)
                guard a.rank == 2, a.shape[1] == weight.shape[1], a.dtype == weight.dtype, a.device == weight.device else {
                    throw ctx.invalid("A of \(a.dtype) \(a.shape) does not match B of \(weight.dtype) \(b.shape) (transB = \(transB))")
                }
                return [linear(a, prepared: prepared)]
            }
        }
    }
    return { xs in
        var a = try input(xs, 0, ctx), b = try input(xs, 1, ctx)
        guard a.rank == 2, b.rank == 2 else { throw ctx.invalid("A and B must be 2-D, got \(a.shape) and \(b.shape)") }
        if transA { a = a.t() }
        if transB { b = b.t() }
        guard a.shape[1] == b.shape[0] else { throw ctx.invalid("A' \(a.shape) and B' \(b.shape) cannot be multiplied") }
        var y = matmul(a, b)
        if alpha != 1 { y = y * alpha }
        if xs.count > 2, let c = xs[2], beta != 0 {
            try checkBroadcast(y, c, ctx)
            y = y + (beta == 1 ? c : c * beta)
        }
        return [y]
    }
}

/// Reads kernel/stride/dilation attributes for `rank` spatial dims.
private func spatialAttributes(_ ctx: ONNXNodeContext, rank: Int, kernel: [Int]?) throws(ONNXError) -> (k: [Int], s: [Int], d: [Int]) {
    guard let k = try ctx.ints("kernel_shape") ?? kernel, k.count == rank, k.allSatisfy({ $0 > 0 }) else {
        throw ctx.invalid("kernel_shape must hold \(rank) positive sizes")
    }
    let s = try ctx.ints("strides") ?? Array(repeating: 1, count: rank)
    let d = try ctx.ints("dilations") ?? Array(repeating: 1, count: rank)
    guard s.count == rank, d.count == rank, s.allSatisfy({ $0 > 0 }), d.allSatisfy({ $0 > 0 }) else {
        throw ctx.invalid("strides \(s) and dilations \(d) must hold \(rank) positive values")
    }
    return (k, s, d)
}

/// Conv over 1 or 2 spatial dims (N, C, L) / (N, C, H, W).
private func convKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel {
    try ctx.requireInputs(2)
    let group = try ctx.int("group", 1), autoPad = try ctx.string("auto_pad", "NOTSET"), pads = try ctx.ints("pads")
    let constW = ctx.constants[1]
    guard group >= 1 else { throw ctx.invalid("group must be positive") }
    // With a constant weight the kernel geometry is read once here, not on every call.
    let fixedConv = try constW.flatMap { w throws(ONNXError) in
        w.rank >= 3 ? try spatialAttributes(ctx, rank: w.rank - 2, kernel: Array(w.shape[2...])) : nil
    }
    return { xs in
        let x = try input(xs, 0, ctx), w = try input(xs, 1, ctx)
        let bias = xs.count > 2 ? xs[2] : nil
        let r = x.rank - 2
        guard r == 1 || r == 2, w.rank == x.rank, x.dtype.isFloatingPoint else {
            throw ctx.invalid("supports 1-D and 2-D convolution of floating inputs; got input \(x.dtype) \(x.shape), weight \(w.shape)")
        }
        guard x.shape[1] == w.shape[1] * group, w.shape[0] % group == 0 else {
            throw ctx.invalid("input \(x.shape) has \(x.shape[1]) channels, weight \(w.shape) with group \(group) expects \(w.shape[1] * group)")
        }
        if let bias, bias.shape != [w.shape[0]] || bias.dtype != x.dtype {
            throw ctx.invalid("bias \(bias.dtype) \(bias.shape) must be \(x.dtype) [\(w.shape[0])]")
        }
        let (k, s, d) = try fixedConv ?? spatialAttributes(ctx, rank: r, kernel: Array(w.shape[2...]))
        guard k == Array(w.shape[2...]), x.dtype == w.dtype else {
            throw ctx.invalid("kernel_shape \(k) or dtype \(x.dtype) does not match the weight \(w.dtype) \(w.shape)")
        }
        let (b, e) = try spatialPads(ctx, autoPad: autoPad, pads: pads, input: Array(x.shape[2...]), kernel: k, stride: s, dilation: d)
        for i in 0..<r where x.shape[2 + i] + b[i] + e[i] < (k[i] - 1) * d[i] + 1 {
            throw ctx.invalid("input \(x.shape) with pads \(b + e) is smaller than the dilated kernel \(k)")
        }
        var input = x, padding = b
        if b != e { input = padSpatial(x, begin: b, end: e, value: 0); padding = Array(repeating: 0, count: r) }
        if r == 2 {
            return [conv2d(input, w, bias: bias, stride: SpatialSize(s), padding: .explicit(SpatialSize(padding)),
                           dilation: SpatialSize(d), groups: group)]
        }
        return [conv1d(input, w, bias: bias, stride: SpatialSize(s), padding: .explicit(SpatialSize(padding)),
                       dilation: SpatialSize(d), groups: group)]
    }
}

/// ConvTranspose over 2 spatial dims with symmetric pads.
private func convTransposeKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel {
    try ctx.requireInputs(2)
    let group = try ctx.int("group", 1), pads = try ctx.ints("pads") ?? [0, 0, 0, 0]
    let outPad = try ctx.ints("output_padding") ?? [0, 0]
    if ctx.attributes["output_shape"] != nil { throw ctx.invalid("the output_shape attribute is not supported; give pads") }
    let autoPad = try ctx.string("auto_pad", "NOTSET")
    guard autoPad == "NOTSET" || autoPad == "VALID" && pads.allSatisfy({ $0 == 0 }) else {
        throw ctx.invalid("auto_pad '\(autoPad)' is not supported")
    }
    guard pads.count == 4, pads[0] == pads[2], pads[1] == pads[3], outPad.count == 2 else {
        throw ctx.invalid("only symmetric 2-D pads are supported, got \(pads)")
    }
    return { xs in
        let x = try input(xs, 0, ctx), w = try input(xs, 1, ctx)
        let bias = xs.count > 2 ? xs[2] : nil
        guard x.rank == 4, w.rank == 4, x.dtype.isFloatingPoint, x.dtype == w.dtype, x.shape[1] == w.shape[0],
              group >= 1, w.shape[0] % group == 0 else {
            throw ctx.invalid("supports 2-D transposed convolution; got input \(x.dtype) \(x.shape), weight \(w.dtype) \(w.shape), group \(group)")
        }
        if let bias, bias.shape != [w.shape[1] * group] { throw ctx.invalid("bias \(bias.shape) must be [\(w.shape[1] * group)]") }
        let (_, s, d) = try spatialAttributes(ctx, rank: 2, kernel: Array(w.shape[2...]))
        return [convTranspose2d(x, w, bias: bias, stride: SpatialSize(s), padding: SpatialSize([pads[0], pads[1]]),
                                outputPadding: SpatialSize(outPad), groups: group, dilation: SpatialSize(d))]
    }
}

/// MaxPool / AveragePool over 1 or 2 spatial dims.
private func poolKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel {
    try ctx.requireInputs(1)
    let isMax = ctx.opType == "MaxPool"
    guard !(isMax && ctx.outputCount > 1) else { throw ctx.invalid("the Indices output is not supported") }
    let autoPad = try ctx.string("auto_pad", "NOTSET"), pads = try ctx.ints("pads")
    let ceil = try ctx.int("ceil_mode", 0) != 0, countPad = try ctx.int("count_include_pad", 0) != 0
    let kernelRank = try ctx.ints("kernel_shape")?.count ?? 0
    guard kernelRank == 1 || kernelRank == 2 else { throw ctx.invalid("kernel_shape must hold 1 or 2 sizes") }
    let (k, s, d) = try spatialAttributes(ctx, rank: kernelRank, kernel: nil)
    return { xs in
        let x = try input(xs, 0, ctx)
        let r = x.rank - 2
        guard r == kernelRank, x.dtype.isFloatingPoint else {
            throw ctx.invalid("expects a floating input of rank \(kernelRank + 2) for kernel_shape \(k), got \(x.dtype) \(x.shape)")
        }
        guard isMax || d.allSatisfy({ $0 == 1 }) else { throw ctx.invalid("dilations are not supported for AveragePool") }
        var (b, e) = try spatialPads(ctx, autoPad: autoPad, pads: pads, input: Array(x.shape[2...]), kernel: k, stride: s, dilation: d)
        var y = x
        if b != e {
            guard isMax else { throw ctx.invalid("asymmetric pads \(b + e) are not supported for AveragePool") }
            y = padSpatial(x, begin: b, end: e, value: -Double.infinity)
            b = Array(repeating: 0, count: r); e = b
        }
        for i in 0..<r where b[i] * 2 > k[i] { throw ctx.invalid("pad \(b[i]) is more than half the kernel \(k[i])") }
        for i in 0..<r where y.shape[2 + i] + 2 * b[i] < (k[i] - 1) * d[i] + 1 {
            throw ctx.invalid("input \(x.shape) is smaller than the kernel \(k)")
        }
        if r == 2 {
            return [isMax
                ? maxPool2d(y, kernelSize: SpatialSize(k), stride: SpatialSize(s), padding: SpatialSize(b), dilation: SpatialSize(d), ceilMode: ceil)
                : avgPool2d(y, kernelSize: SpatialSize(k), stride: SpatialSize(s), padding: SpatialSize(b), ceilMode: ceil, countIncludePad: countPad)]
        }
        return [isMax
            ? maxPool1d(y, kernelSize: k[0], stride: s[0], padding: b[0], dilation: d[0], ceilMode: ceil)
            : avgPool1d(y, kernelSize: k[0], stride: s[0], padding: b[0], ceilMode: ceil, countIncludePad: countPad)]
    }
}
