extension Tensor {
    /// The address of this view's first element as `T`, for kernels written outside `Nabla`
    /// (optimizers, data loaders). Host tensors only; `T` must match `dtype`.
    package func unsafeMutablePointer<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        check(device == .cpu, "unsafeMutablePointer: tensor is on \(device); move it to .cpu first")
        check(T.dtype == dtype || (T.self == Int.self && dtype == .int64), "unsafeMutablePointer: tensor has dtype \(dtype), requested \(T.self)")
        return storage.pointer(T.self) + offset
    }

    /// Records that the storage was written through `unsafeMutablePointer` (bumps the version counter).
    package func markModifiedInPlace() { storage.bumpVersion() }
}

extension Tensor {
    /// Makes this tensor an alias of `source`: the same storage, shape, strides and offset (`torch.Tensor.set_`), so
    /// every holder of this tensor object sees the new data (how `Module.to(_:)` moves parameters in place). Only
    /// for tensors with no autograd history; bumps the version counter.
    @discardableResult
    public func set_(_ source: Tensor) -> Tensor {
        check(gradFn == nil, "set_: only a tensor without autograd history (a leaf) can be re-pointed, got one made by \(gradFn!.name)")
        storage = source.storage
        shape = source.shape
        strides = source.strides
        offset = source.offset
        viewBase = nil
        storage.bumpVersion()
        return self
    }
}
