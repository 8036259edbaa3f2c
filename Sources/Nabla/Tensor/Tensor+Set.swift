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
