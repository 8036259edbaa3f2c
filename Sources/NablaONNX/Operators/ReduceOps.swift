import Nabla

// ReduceMean, ReduceSum, ReduceMax, ReduceMin: axes are an attribute before opset 18 (13 for ReduceSum) and an
// optional input from then on; both forms are read.

/// Builds the kernel of a reduction, or `nil` when `ctx.opType` is not one.
func reduceKernel(_ ctx: ONNXNodeContext) throws(ONNXError) -> ONNXKernel? {
    let ops = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"]
    guard ops.contains(ctx.opType) else { return nil }
    try ctx.requireInputs(1)
    let keep = try ctx.int("keepdims", 1) != 0
    let noop = try ctx.int("noop_with_empty_axes", 0) != 0
    let attrAxes = try ctx.ints("axes"), constAxes = try ctx.constantInts(1)
    let op = ctx.opType
    return { xs in
        let x = try input(xs, 0, ctx)
        var axes = constAxes ?? attrAxes
        if axes == nil, xs.count > 1, let t = xs[1] { axes = try runtimeInts(t, ctx, what: "axes") }
        if (axes ?? []).isEmpty && noop { return [x] }
        let dims = try (axes ?? []).isEmpty ? Array(0..<x.rank) : (axes ?? []).map { a throws(ONNXError) in
            try normalizeAxis(a, rank: x.rank, ctx)
        }
        guard Set(dims).count == dims.count else { throw ctx.invalid("repeated axes \(axes ?? [])") }
        if dims.isEmpty { return [x] }
        switch op {
        case "ReduceMean":
            guard x.dtype.isFloatingPoint else { throw ctx.invalid("expects a floating input, got \(x.dtype)") }
            return [x.mean(dims: dims, keepDim: keep)]
        case "ReduceSum": return [x.sum(dims: dims, keepDim: keep, dtype: x.dtype)]
        case "ReduceMax": return [x.amax(dims: dims, keepDim: keep)]
        default: return [x.amin(dims: dims, keepDim: keep)]
        }
    }
}
