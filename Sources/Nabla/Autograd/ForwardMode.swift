
/// Forward-mode automatic differentiation with dual tensors (primal + tangent), as
/// `torch.func.jvp` / `torch.autograd.forward_ad`.
public enum ForwardMode {
    /// The tangent of an op's outputs from its reverse rule (the double-vjp trick):
    /// `J t = d/du <vjp(u), t>` for a dummy cotangent `u`, since `vjp(u) = Jᵀu` is linear in `u`.
    static func doubleVJP(outs: [Tensor], inputs: [Tensor], tangents: [Tensor?], backward: BackwardFunction, node: Node?,
                          saving: [Tensor] = []) -> [Tensor] {
        withForwardLevel(0) {
            enableGrad {
                let us = outs.map { Tensor.zeros($0.shape, dtype: $0.dtype.floatingResult).requiresGrad_() }
                let scratch = node ?? Node(name: "jvp", next: [], outputShapes: outs.map(\.shape), dtype: outs[0].dtype, device: outs[0].device, backward: nil)
                if node == nil {
                    scratch.save(saving)  // a backward may read its operands from the node's saved slots
                    scratch.ensuredExtras.savedOutputs = outs.map { Tensor(storage: $0.storage, shape: $0.shape, strides: $0.strides, offset: $0.offset) }
                }
                let vs = backward(us, scratch)
                var total: Tensor? = nil
                for (v, t) in zip(vs, tangents) {
                    guard let v, let t else { continue }
                    let term = (v * t.detached()).sum()
                    total = total.map { $0 + term } ?? term
                }
                guard let total, total.requiresGradFlag else { return outs.map { Tensor.zeros($0.shape, dtype: $0.dtype) } }
                let gs = Engine.run(roots: [total], rootGrads: [Tensor.ones([], dtype: total.dtype)], retainGraph: false,
                                    createGraph: false, capture: us.map { $0.gradEdge })
                return zip(gs, outs).map { g, o in g?.detached() ?? Tensor.zeros(o.shape, dtype: o.dtype) }
            }
        }
    }
}

extension Tensor {
    /// The forward-mode tangent carried by this dual tensor, if any (`fwAD.unpack_dual(x).tangent`).
    public var forwardGrad: Tensor? { tangent }

    /// A dual tensor with primal `self` and tangent `tangent` (`fwAD.make_dual`). Use inside `jvp` or `dualLevel`.
    public func makeDual(tangent: Tensor) -> Tensor {
        check(tangent.shape == shape, "makeDual: tangent shape \(tangent.shape) must equal primal shape \(shape)")
        var d = Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
        if requiresGradFlag && isGradEnabled {
            // A view recorded as identity, so reverse-mode gradients reach `self` (also when it is a leaf).
            d = withForwardLevel(0) { record(d, op: "MakeDualBackward", inputs: [self]) { g, _ in [g[0]] } }
        }
        d.tangent = tangent
        return d
    }
}

/// Runs `body` with forward-mode AD active on this thread (`with fwAD.dual_level():`).
@discardableResult
public func dualLevel<R>(_ body: () throws -> R) rethrows -> R {
    let f = AutogradState.flags, previous = f.pointee.forwardLevel
    f.pointee.forwardLevel = 1
    defer { AutogradState.flags.pointee.forwardLevel = previous }
    return try body()
}

/// Jacobian-vector product by forward mode: returns `(f(primals), J·tangents)` (`torch.func.jvp`).
///
/// ```swift
/// let (y, dy) = jvp({ $0[0].sin() }, primals: [x], tangents: [Tensor.onesLike(x)])
/// ```
public func jvp(_ f: ([Tensor]) -> Tensor, primals: [Tensor], tangents: [Tensor]) -> (Tensor, Tensor) {
    check(primals.count == tangents.count, "jvp: got \(primals.count) primals and \(tangents.count) tangents")
    return dualLevel {
        let duals = zip(primals, tangents).map { p, t in p.detached().makeDual(tangent: t) }
        let y = f(duals)
        let t = y.tangent ?? Tensor.zeros(y.shape, dtype: y.dtype)
        return (y.detached(), t)
    }
}

/// Vector-Jacobian product by reverse mode: returns `(f(primals), vᵀJ)` per primal (`torch.func.vjp`).
public func vjp(_ f: ([Tensor]) -> Tensor, primals: [Tensor], v: Tensor) -> (Tensor, [Tensor]) {
    let xs = primals.map { $0.detached().requiresGrad_() }
    let y = enableGrad { f(xs) }
    let gs = gradients(of: [y], wrt: xs, gradOutputs: [v], allowUnused: true)
    return (y.detached(), zip(gs, xs).map { g, x in g ?? Tensor.zerosLike(x) })
}

/// The Jacobian of `f` at `x`, shape `f(x).shape + x.shape` (`torch.autograd.functional.jacobian`).
///
/// - Parameter forwardMode: build it column by column with `jvp` instead of row by row with reverse mode.
public func jacobian(_ f: (Tensor) -> Tensor, at x: Tensor, forwardMode: Bool = false) -> Tensor {
    let y0 = noGrad { f(x) }
    let n = x.count, m = y0.count
    if forwardMode {
        var cols: [Tensor] = []
        for j in 0..<n {
            let e = Tensor.zeros([n], dtype: x.dtype); e.flatIndexPut(j, 1)
            let (_, t) = jvp({ f($0[0]) }, primals: [x], tangents: [e.reshape(x.shape)])
            cols.append(t.reshape([m]))
        }
        return stack(cols, dim: 1).reshape(y0.shape + x.shape)
    }
    var rows: [Tensor] = []
    let xs = x.detached().requiresGrad_()
    let y = enableGrad { f(xs) }.reshape([m])
    for i in 0..<m {
        let e = Tensor.zeros([m], dtype: y.dtype); e.flatIndexPut(i, 1)
        let g = gradients(of: [y], wrt: [xs], gradOutputs: [e], retainGraph: true, allowUnused: true)[0]
        rows.append((g ?? Tensor.zerosLike(x)).reshape([n]))
    }
    return stack(rows, dim: 0).reshape(y0.shape + x.shape)
}

/// The Hessian of a scalar function at `x`, shape `x.shape + x.shape` (`torch.autograd.functional.hessian`):
/// the Jacobian of the reverse-mode gradient, taken with `createGraph: true`.
public func hessian(_ f: (Tensor) -> Tensor, at x: Tensor) -> Tensor {
    jacobian({ (z: Tensor) -> Tensor in
        let zs = z.requiresGrad ? z : z.detached().requiresGrad_()
        let y = enableGrad { f(zs) }
        check(y.count == 1, "hessian: f must return a single value, got shape \(y.shape)")
        return gradients(of: [y], wrt: [zs], createGraph: true, allowUnused: true)[0] ?? Tensor.zerosLike(zs)
    }, at: x)
}
