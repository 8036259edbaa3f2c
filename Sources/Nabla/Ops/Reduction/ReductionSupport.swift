// Internal differentiable building blocks shared by the reduction, softmax and sort families: a
// zero-safe sqrt, |x|^e, a constant sign, and gather/scatter along one dim that route gradients to
// selected elements. Internal on purpose (the public element-wise and indexing ops live in their own
// files); each backward uses only differentiable Tensor ops.

enum ReductionMath {
    /// `sqrt(x)` whose gradient is 0 where the output is 0 (as PyTorch's `std`/`norm` backward).
    static func safeSqrt(_ x: Tensor) -> Tensor {
        let out = OpSupport.unary(.sqrt, x)
        guard isRecording(x) else { return out }
        return record(out, op: "SqrtBackward", inputs: [x], saveOutput: true) { g, node in
            let y = node.output()
            let zero = OpSupport.cast(y.detached().eq(0), y.dtype)
            return [g[0] / ((y + zero) * 2) * (1 - zero)]
        }
    }

    /// `sign(x)` as a constant (its derivative is zero almost everywhere).
    static func sign(_ x: Tensor) -> Tensor { OpSupport.unary(.sign, x.detached()) }

    /// `|x| ** e`, differentiable; callers keep `e >= 0` (or mask the zeros first).
    static func absPow(_ x: Tensor, _ e: Double) -> Tensor {
        if e == 0 { return Tensor.onesLike(x) }
        if e == 1 { return Nabla.abs(x) }
        let out = OpSupport.unary(.powScalar(e), OpSupport.unary(.abs, x))
        guard isRecording(x) else { return out }
        return record(out, op: "PowBackward", inputs: [x], saving: [x]) { g, _ in
            [g[0] * absPow(x, e - 1) * sign(x) * e]
        }
    }

    /// `cond ? a : b` with broadcasting, no autograd (for constants only).
    static func selectNoGrad(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Shape.broadcast(Shape.broadcast(cond.shape, a.shape, op: "where"), b.shape, op: "where")
        let dt = OpSupport.resultType(a, b)
        let out = Tensor(empty: shape, dtype: dt, device: a.device)
        a.backend.select(cond, OpSupport.cast(a, dt), OpSupport.cast(b, dt), out: out)
        return out
    }
}

/// `x` gathered along `dim` at int64 `index` (shape of `index`), differentiable in `x`.
func gatherForGradient(_ x: Tensor, dim: Int, index: Tensor) -> Tensor {
    let out = Tensor(empty: index.shape, dtype: x.dtype, device: x.device)
    if out.count > 0 { x.backend.gather(x, dim: dim, index: index, out: out) }
    guard isRecording(x) else { return out }
    let inShape = x.shape
    return record(out, op: "GatherBackward", inputs: [x]) { g, _ in
        [scatterGradient(g[0], dim: dim, index: index, into: inShape)]
    }
}

/// Zeros of `shape` with `src` added at `index` along `dim`: routes a gradient back to selected elements.
/// Differentiable in `src` (its backward gathers at the same indices).
func scatterGradient(_ src: Tensor, dim: Int, index: Tensor, into shape: [Int]) -> Tensor {
    let out = Tensor.zeros(shape, dtype: src.dtype, device: src.device)
    if index.count > 0 {
        src.backend.scatter(src.contiguousNoGrad(), dim: dim, index: index.contiguousNoGrad(), out: out, accumulate: true)
    }
    guard isRecording(src) else { return out }
    return record(out, op: "ScatterAddBackward", inputs: [src]) { g, _ in
        [gatherForGradient(g[0], dim: dim, index: index)]
    }
}
