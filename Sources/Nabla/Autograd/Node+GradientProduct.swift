// A multiplication's gradient added straight into the gradient autograd gathers, without a tensor for the product.

/// How many gradient products (`Node.gradientProduct`) the calling thread's backward passes have added straight into
/// a gathered gradient, without a tensor for the product: the proof, in tests, that the fast path runs.
package func gradientProductsFused() -> Int { AutogradState.flags.pointee.gradientProductsFused }

extension Node {
    /// The gradient `grad * factor` of input `k`, summed to `shape` (the input's shape): the term a multiplication's
    /// backward returns for each operand.
    ///
    /// While the engine runs this node's pair backward on its fast path, and the gradient already gathered for
    /// input `k` may be updated in place (the conditions of `accumulate(into:_:)`: nothing but the engine sees it),
    /// the product is added into it with one `mulAccumulate` kernel and nil is returned: the engine has nothing more
    /// to deliver on that edge, and no tensor is made for the product. In a scalar graph that is most of the
    /// gradients of every `mul`, since a weight or an activation used by many products gathers all their terms.
    /// Otherwise (a first gradient, broadcasting, `createGraph`, forward mode, `compile` tracing, hooks or captures
    /// on this node) it returns `(grad * factor).sumTo(shape)`, recorded when grad mode is on.
    @inline(__always)
    func gradientProduct(_ grad: Tensor, _ factor: Tensor, input k: Int, shape: [Int]) -> Tensor? {
        if fusesGradients && addProductToGathered(k, grad, factor, shape) { return nil }
        return (grad * factor).sumTo(shape)
    }

    /// Adds `a * b` into the gradient gathered for output 0 of edge `k`'s node when that is safe; false otherwise.
    private func addProductToGathered(_ k: Int, _ a: Tensor, _ b: Tensor, _ shape: [Int]) -> Bool {
        let f = AutogradState.flags.pointee
        // No `compile` trace (it must see every kernel through `Tensor.backend`), no recording, no forward mode.
        guard f.tracer == nil && f.gradDisabled != 0 && f.forwardLevel == 0 else { return false }
        guard (k == 0 ? edge0.outputNr : edge1.outputNr) == 0, let m = k == 0 ? edge0.node : edge1.node else { return false }
        // The gathered gradient only the engine holds, its storage unshared (so it aliases neither operand).
        guard isKnownUniquelyReferenced(&m.pending0) else { return false }
        let acc = m.pending0.unsafelyUnwrapped
        guard Shape.same(acc.shape, shape) && Shape.same(a.shape, shape) && Shape.same(b.shape, shape)
            && acc.dtype == a.dtype && a.dtype == b.dtype
            && !acc.requiresGradFlag && acc.meta == nil && acc.viewBase == nil
            && acc.isContiguous && a.isContiguous && b.isContiguous
            && isKnownUniquelyReferenced(&acc.storage) else { return false }
        let backend = acc.storage.backend
        guard a.storage.backend === backend && b.storage.backend === backend else { return false }
        backend.mulAccumulate(a, b, out: acc)
        AutogradState.flags.pointee.gradientProductsFused &+= 1
        return true
    }
}
