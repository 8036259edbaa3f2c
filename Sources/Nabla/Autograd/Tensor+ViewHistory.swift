// In-place writes through views, as PyTorch's CopySlices and view regeneration: a view remembers its
// base (`viewBase`), an in-place op on the view gives the base a node that routes the gradient of the
// written region to the op, and a view used after its memory was written takes a fresh history from
// its base, so no gradient is computed from a history the data no longer has.

extension Tensor {
    /// The geometry of this view relative to the contiguous layout of `base`.
    private func region(in base: Tensor) -> ViewGeometry {
        ViewGeometry(shape: shape, strides: strides, offset: offset - base.offset)
    }

    /// After `value` (computed out of place from the old contents, so it carries the op's history) was
    /// written into this view: the base's history becomes "old base, with this region replaced by
    /// `value`" (CopySlices), and this view becomes a view of the new base.
    func writeThroughView(_ base: Tensor, _ value: Tensor) {
        check(base.isContiguous,
              "in-place operation on a view: its base tensor (shape \(base.shape), strides \(base.strides)) is not contiguous; take the view of base.contiguous() instead")
        let region = region(in: base), baseShape = base.shape
        let written = value.shape == shape ? value : value.expand(shape)
        let updated = base.aliased(ViewGeometry(shape: base.shape, strides: base.strides, offset: base.offset))
        record(updated, op: "CopySlices", inputs: [base, written]) { g, _ in
            let inRegion = g[0].contiguous().asStrided(region.shape, region.strides, offset: region.offset)
            return [g[0] - viewScatter(inRegion, into: baseShape, at: region), inRegion]
        }
        if let fn = updated.gradFn { base.gradFn = fn; base.outputNr = 0; base.requiresGradFlag = true }
        takeHistory(from: base)
    }

    /// `requiresGradFlag`, after a view whose memory was written took its history from its base: a view of
    /// a tensor that gained a history by an in-place write then requires grad too, as in PyTorch.
    @inline(__always) var tracksGrad: Bool {
        if viewBase != nil && viewVersion != storage.version { refreshViewHistory() }
        return requiresGradFlag
    }

    /// A view whose memory was written since its history was taken (through its base or another view
    /// of it) takes a fresh history from its base before it is used in a graph. Outside grad mode nothing
    /// changes, so the refresh happens at the view's next use that records.
    func refreshViewHistory() {
        guard let base = viewBase, viewVersion != storage.version, isGradEnabled else { return }
        if base.requiresGradFlag && base.isContiguous {
            takeHistory(from: base)
        } else {
            viewVersion = storage.version
        }
    }

    /// Makes this view's history "this region of `base`" (`AsStridedBackward`).
    private func takeHistory(from base: Tensor) {
        viewVersion = storage.version
        guard base.requiresGradFlag else { return }
        let region = region(in: base), baseShape = base.shape
        let fresh = base.aliased(ViewGeometry(shape: shape, strides: strides, offset: offset))
        record(fresh, op: "AsStridedBackward", inputs: [base]) { g, _ in [viewScatter(g[0], into: baseShape, at: region)] }
        if let fn = fresh.gradFn { gradFn = fn; outputNr = 0; requiresGradFlag = true }
    }
}
