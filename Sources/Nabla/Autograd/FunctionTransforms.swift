
// torch.func-style transforms over closures: each takes a function and returns a new function.
// They are built on the engine's reverse mode (`gradients`) and forward mode (dual tensors), so they compose:
// `vmap(grad(f))` gives per-sample gradients, `jacrev(jacrev(f))` a Hessian.

/// The input a transform differentiates `f` at: a fresh leaf when nothing outside differentiates through `x`,
/// or, when an enclosing transform (or the caller) does, an alias of `x` recorded as identity, so the
/// transform's result stays differentiable with respect to `x` (`nested` is then true).
private func transformInput(_ x: Tensor) -> (input: Tensor, nested: Bool) {
    check(x.dtype.isFloatingPoint, "function transforms: can only differentiate with respect to floating point inputs, got \(x.dtype)")
    if x.requiresGradFlag && isGradEnabled {
        let alias = Tensor(storage: x.storage, shape: x.shape, strides: x.strides, offset: x.offset)
        return (record(alias, op: "AliasBackward", inputs: [x], jvp: { $0[0] }) { g, _ in [g[0]] }, true)
    }
    if AutogradState.forwardLevel != 0, let t = x.tangent {
        return (x.detached().requiresGrad_().makeDual(tangent: t), true)
    }
    return (x.detached().requiresGrad_(), false)
}

/// Checks that every index of `argnums` names one of `count` arguments.
private func checkArgnums(_ argnums: [Int], _ count: Int, _ op: StaticString) {
    check(!argnums.isEmpty, "\(op): argnums must not be empty")
    for i in argnums {
        check(i >= 0 && i < count, "\(op): argnums \(argnums) out of range for \(count) arguments")
    }
    check(Set(argnums).count == argnums.count, "\(op): argnums \(argnums) has repeated entries")
}

// MARK: grad

/// The gradient of a scalar function together with its value (`torch.func.grad_and_value`), with respect
/// to the arguments at `argnums`.
///
/// ```swift
/// let (gs, loss) = gradAndValue(argnums: [0]) { xs in (xs[0] * xs[1]).sum() }([x, w])
/// ```
/// - Returns: a function of the arguments giving one gradient per entry of `argnums` (zeros for an argument
///   `f` does not use) and `f`'s value. Inside another transform both stay differentiable.
public func gradAndValue(argnums: [Int], _ f: @escaping ([Tensor]) -> Tensor) -> ([Tensor]) -> (grads: [Tensor], value: Tensor) {
    { args in
        checkArgnums(argnums, args.count, "grad")
        var inputs = args
        var nested = false
        for i in argnums {
            let (x, n) = transformInput(args[i])
            inputs[i] = x
            nested = nested || n
        }
        let y = enableGrad { f(inputs) }
        check(y.count == 1, "grad: f must return a single value, got shape \(y.shape)")
        let wrt = argnums.map { inputs[$0] }
        guard y.requiresGradFlag else { return (wrt.map { Tensor.zerosLike($0) }, y) }
        let gs = gradients(of: [y], wrt: wrt, createGraph: nested, allowUnused: true)
        let out = zip(gs, wrt).map { g, x in g ?? Tensor.zerosLike(x) }
        return nested ? (out, y) : (out.map { $0.detached() }, y.detached())
    }
}

/// The gradient of a scalar function of one tensor, as a new function (`torch.func.grad`).
///
/// ```swift
/// let df = grad { x in (x.sin() * x).sum() }
/// let g = df(Tensor.randn([5]))              // [5]
/// let perSample = vmap(df)(Tensor.randn([8, 5]))   // [8, 5]
/// ```
/// The returned function is differentiable again (`grad(grad(f))`), also inside `vmap`, `jacrev` and `jacfwd`.
public func grad(_ f: @escaping (Tensor) -> Tensor) -> (Tensor) -> Tensor {
    let g = gradAndValue(argnums: [0]) { xs in f(xs[0]) }
    return { x in g([x]).grads[0] }
}

/// The gradients of a scalar function of several tensors with respect to the arguments at `argnums`
/// (`torch.func.grad(f, argnums=(...))`).
///
/// ```swift
/// let dLoss = grad(argnums: [0, 1]) { a in (a[0].matmul(a[1])).tanh().sum() }
/// let gs = dLoss([x, w])                    // [dx, dw]
/// ```
public func grad(argnums: [Int], _ f: @escaping ([Tensor]) -> Tensor) -> ([Tensor]) -> [Tensor] {
    let g = gradAndValue(argnums: argnums, f)
    return { args in g(args).grads }
}

// MARK: vmap

/// Maps `f` over a batch dimension of its arguments (`torch.func.vmap`).
///
/// `inDims[i]` is the batch dim of argument `i`, or nil for an argument passed whole to every call (weights);
/// `outDims[j]` is where the batch dim goes in output `j` (one entry applies to every output). Negative dims
/// count from the end.
///
/// This vmap has no batching rules: it calls `f` once per sample, on views `arg.select(inDim, i)`, and stacks
/// the results, so it gives exactly `torch.func.vmap`'s numbers (and composes with `grad`, `jacrev`, `jacfwd`,
/// and is differentiable itself) but costs a loop over the batch, not one batched kernel per op.
///
/// ```swift
/// // Per-sample gradients: weights unbatched (nil), samples batched along dim 0.
/// let perSample = vmap(grad(argnums: [0, 1]) { a in loss(w: a[0], b: a[1], x: a[2], y: a[3]) },
///                      inDims: [nil, nil, 0, 0], outDims: [0])([w, b, xs, ys])
/// ```
/// - Precondition: at least one argument is batched, and the batched ones agree on the batch size.
public func vmap(_ f: @escaping ([Tensor]) -> [Tensor], inDims: [Int?], outDims: [Int] = [0]) -> ([Tensor]) -> [Tensor] {
    { args in
        check(inDims.count == args.count, "vmap: got \(args.count) arguments but \(inDims.count) inDims")
        var batch: Int? = nil
        var dims = [Int?](repeating: nil, count: args.count)
        for (i, (a, d)) in zip(args, inDims).enumerated() {
            guard let d else { continue }
            check(a.rank >= 1, "vmap: argument \(i) is a scalar (shape \(a.shape)) but has inDim \(d); use nil for unbatched arguments")
            let nd = Shape.normalize(d, a.rank, op: "vmap")
            dims[i] = nd
            let size = a.shape[nd]
            if let b = batch {
                check(b == size, "vmap: expected all batched arguments to have batch size \(b), argument \(i) has \(size) along dim \(d) (shape \(a.shape))")
            }
            batch = size
        }
        guard let batch else { nablaFail("vmap: at least one argument must be batched, got inDims \(inDims)") }
        check(batch > 0, "vmap: the batch size is 0; there is no sample to call f on")
        var results: [[Tensor]] = []
        results.reserveCapacity(batch)
        for b in 0..<batch {
            let sample = args.enumerated().map { i, a in dims[i].map { a.select($0, b) } ?? a }
            results.append(f(sample))
        }
        let count = results[0].count
        check(outDims.count == 1 || outDims.count == count, "vmap: f returned \(count) outputs but outDims has \(outDims.count) entries")
        return (0..<count).map { j in
            let parts = results.map { r -> Tensor in
                check(r.count == count, "vmap: f returned \(r.count) outputs for one sample and \(count) for another")
                return r[j]
            }
            let rank = parts[0].rank + 1
            let d = Shape.normalize(outDims.count == 1 ? outDims[0] : outDims[j], rank, op: "vmap")
            return stack(parts, dim: d)
        }
    }
}

/// `vmap` for a function of several tensors with one output (`torch.func.vmap(f, in_dims, out_dims)`).
///
/// ```swift
/// let batched = vmap({ a in a[0].matmul(a[1]) }, inDims: [0, nil], outDims: 1)
/// let y = batched([Tensor.randn([6, 3]), Tensor.randn([3, 4])])    // [4, 6]
/// ```
public func vmap(_ f: @escaping ([Tensor]) -> Tensor, inDims: [Int?], outDims: Int = 0) -> ([Tensor]) -> Tensor {
    let g = vmap({ [f($0)] }, inDims: inDims, outDims: [outDims])
    return { g($0)[0] }
}

/// `vmap` for a function of one tensor (`torch.func.vmap(f, in_dims=inDims, out_dims=outDims)`).
///
/// ```swift
/// let norms = vmap({ $0.norm() })(Tensor.randn([8, 3]))    // [8]
/// ```
public func vmap(_ f: @escaping (Tensor) -> Tensor, inDims: Int = 0, outDims: Int = 0) -> (Tensor) -> Tensor {
    let g = vmap({ [f($0[0])] }, inDims: [inDims], outDims: [outDims])
    return { g([$0])[0] }
}

// MARK: Jacobians

/// The Jacobians of `f` with respect to the arguments at `argnums` by reverse mode, one vector-Jacobian
/// product per output element (`torch.func.jacrev(f, argnums=(...))`).
///
/// - Returns: per entry of `argnums`, a tensor of shape `f(args).shape + args[i].shape`.
public func jacrev(argnums: [Int], _ f: @escaping ([Tensor]) -> Tensor) -> ([Tensor]) -> [Tensor] {
    { args in
        checkArgnums(argnums, args.count, "jacrev")
        var inputs = args
        var nested = false
        for i in argnums {
            let (x, n) = transformInput(args[i])
            inputs[i] = x
            nested = nested || n
        }
        let y = enableGrad { f(inputs) }
        let wrt = argnums.map { inputs[$0] }
        let m = y.count
        guard y.requiresGradFlag, m > 0 else {
            return wrt.map { Tensor.zeros(y.shape + $0.shape, dtype: y.dtype.floatingResult, device: y.device) }
        }
        let flat = y.reshape([m])
        var rows = [[Tensor]](repeating: [], count: wrt.count)
        for i in 0..<m {
            let e = Tensor.zeros([m], dtype: y.dtype, device: y.device)
            e.flatIndexPut(i, 1)
            let gs = gradients(of: [flat], wrt: wrt, gradOutputs: [e], retainGraph: true, createGraph: nested, allowUnused: true)
            for k in wrt.indices { rows[k].append((gs[k] ?? Tensor.zerosLike(wrt[k])).reshape([-1])) }
        }
        return wrt.indices.map { k in
            let j = stack(rows[k], dim: 0).reshape(y.shape + wrt[k].shape)
            return nested ? j : j.detached()
        }
    }
}

/// The Jacobian of `f` by reverse mode, as a new function (`torch.func.jacrev`): shape `f(x).shape + x.shape`.
///
/// ```swift
/// let j = jacrev { x in x.sin() * x.sum() }(Tensor.randn([3]))     // [3, 3]
/// let h = jacrev(jacrev { x in (x.sin() * x).sum() })(x)          // the Hessian
/// ```
/// Prefer it to `jacfwd` when `f` has fewer outputs than inputs.
public func jacrev(_ f: @escaping (Tensor) -> Tensor) -> (Tensor) -> Tensor {
    let j = jacrev(argnums: [0]) { xs in f(xs[0]) }
    return { x in j([x])[0] }
}

/// The Jacobians of `f` with respect to the arguments at `argnums` by forward mode, one Jacobian-vector
/// product (dual tensors) per input element (`torch.func.jacfwd(f, argnums=(...))`).
///
/// Forward mode has one dual level, so `jacfwd` does not nest inside another `jacfwd`; `jacfwd(jacrev(f))`
/// (the Hessian as PyTorch computes it) works.
///
/// - Returns: per entry of `argnums`, a tensor of shape `f(args).shape + args[i].shape`.
public func jacfwd(argnums: [Int], _ f: @escaping ([Tensor]) -> Tensor) -> ([Tensor]) -> [Tensor] {
    { args in
        checkArgnums(argnums, args.count, "jacfwd")
        check(AutogradState.forwardLevel == 0 || argnums.allSatisfy { args[$0].tangent == nil },
              "jacfwd: does not nest inside another jacfwd (forward mode has one dual level); use jacrev for the inner one")
        var out: [Tensor] = []
        for k in argnums {
            let x = args[k]
            check(x.dtype.isFloatingPoint, "jacfwd: can only differentiate with respect to floating point inputs, got \(x.dtype)")
            let n = x.count
            var cols: [Tensor] = []
            var outShape: [Int] = []
            for j in 0..<n {
                let e = Tensor.zeros([n], dtype: x.dtype, device: x.device)
                e.flatIndexPut(j, 1)
                let col: Tensor = dualLevel {
                    var inputs = args
                    inputs[k] = x.makeDual(tangent: e.reshape(x.shape))
                    let y = f(inputs)
                    outShape = y.shape
                    return (y.tangent ?? Tensor.zeros(y.shape, dtype: y.dtype, device: y.device)).reshape([-1])
                }
                cols.append(col)
            }
            if n == 0 {
                let y = noGrad { f(args) }
                out.append(Tensor.zeros(y.shape + x.shape, dtype: y.dtype))
            } else {
                out.append(stack(cols, dim: 1).reshape(outShape + x.shape))
            }
        }
        return out
    }
}

/// The Jacobian of `f` by forward mode, as a new function (`torch.func.jacfwd`): shape `f(x).shape + x.shape`.
///
/// ```swift
/// let j = jacfwd { x in x.sin() * x.sum() }(Tensor.randn([3]))     // [3, 3]
/// ```
/// Prefer it to `jacrev` when `f` has more outputs than inputs.
public func jacfwd(_ f: @escaping (Tensor) -> Tensor) -> (Tensor) -> Tensor {
    let j = jacfwd(argnums: [0]) { xs in f(xs[0]) }
    return { x in j([x])[0] }
}
