// Sorting and selection along one dim: sort, argsort, msort, topk, kthvalue, median. The gradient of
// the selected values is scattered back to the positions they came from.

extension Tensor {
    /// Sorts along `dim` (stable), returning the values and their int64 indices in `self` (`torch.sort`).
    ///
    /// NaN sorts as the largest value, as in PyTorch.
    /// ```swift
    /// let (values, indices) = Tensor([3.0, 1, 2]).sort()   // [1, 2, 3], [1, 2, 0]
    /// ```
    public func sort(dim: Int = -1, descending: Bool = false, stable: Bool = true) -> (values: Tensor, indices: Tensor) {
        if rank == 0 {
            _ = Shape.normalize(dim, 0, op: "sort")
            return (self, Tensor.zeros([], dtype: .int64, device: device))
        }
        let d = Shape.normalize(dim, rank, op: "sort")
        let (values, indices) = sortKernel(d, descending: descending)
        guard isRecording(self) else { return (values, indices) }
        return (recordSelection(values, dim: d, indices: indices, op: "SortBackward"), indices)
    }

    /// Indices that sort `self` along `dim` (`torch.argsort`).
    public func argsort(dim: Int = -1, descending: Bool = false, stable: Bool = true) -> Tensor {
        detached().sort(dim: dim, descending: descending).indices
    }

    /// Sorted along the first dim (`torch.msort`).
    public func msort() -> Tensor { sort(dim: 0).values }

    /// The `k` largest (or smallest) elements along `dim` and their indices (`torch.topk`).
    ///
    /// Results are always in sorted order (largest first when `largest`); `sorted: false` is accepted
    /// for PyTorch compatibility. Ties keep their original order.
    /// ```swift
    /// let (values, indices) = x.topk(2)          // two largest along the last dim
    /// ```
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Tensor, indices: Tensor) {
        let base = rank == 0 ? reshape([1]) : self
        let d = Shape.normalize(dim, base.rank, op: "topk")
        check(k >= 0 && k <= base.shape[d], "topk: k (\(k)) out of range for dimension \(d) of size \(base.shape[d]) (shape \(shape))")
        let (_, all) = base.sortKernel(d, descending: largest)
        let indices = all.narrow(d, start: 0, length: k).contiguousNoGrad()
        var values = gatherForGradient(base, dim: d, index: indices)
        if rank == 0 { values = values.reshape([]); return (values, indices.reshapeNoGrad([])) }
        return (values, indices)
    }

    /// The `k`-th smallest element (1-based) along `dim` and its index (`torch.kthvalue`).
    public func kthvalue(_ k: Int, dim: Int = -1, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        let base = rank == 0 ? reshape([1]) : self
        let d = Shape.normalize(dim, base.rank, op: "kthvalue")
        check(k >= 1 && k <= base.shape[d], "kthvalue: k (\(k)) out of range for dimension \(d) of size \(base.shape[d]) (shape \(shape))")
        let (_, all) = base.sortKernel(d, descending: false)
        let index = all.narrow(d, start: k - 1, length: 1).contiguousNoGrad()
        return selectedAlong(base, dim: d, index: index, keepDim: keepDim)
    }

    /// The lower median of all elements, a 0-d tensor (`torch.median(x)`); NaN propagates.
    /// The gradient is shared evenly among elements equal to the median.
    public func median() -> Tensor {
        check(count > 0, "median(): expected a non-empty tensor, got shape \(shape)")
        let flat = detached().reshape([count])
        let (sorted, _) = flat.sortKernel(0, descending: false)
        let nanCount = OpSupport.unary(.isnan, flat).reduceKernel(.sum, dims: [0], keepDim: false, dtype: .int64).item()
        let pick = nanCount > 0 ? count - 1 : (count - 1) / 2
        let out = sorted.narrow(0, start: pick, length: 1).contiguousCopy().reshapeNoGrad([])
        guard isRecording(self) else { return out }
        let x = self
        return record(out, op: "MedianBackward", inputs: [x], saveOutput: true) { g, node in
            let y = node.output().detached()
            let mask = OpSupport.cast(x.eq(y).logicalOr(x.isnan().logicalAnd(y.isnan())), g[0].dtype)
            return [mask * (g[0] / mask.sum())]
        }
    }

    /// The lower median along `dim` and its index (`torch.median(x, dim)`); NaN propagates.
    public func median(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        let base = rank == 0 ? reshape([1]) : self
        let d = Shape.normalize(dim, base.rank, op: "median")
        let n = base.shape[d]
        check(n > 0, "median: cannot compute the median of dimension \(d) of size 0 (shape \(shape))")
        let (_, all) = base.sortKernel(d, descending: false)
        // A line holding NaN picks its (last-sorted) NaN, as PyTorch.
        let hasNaN = OpSupport.unary(.isnan, base).reduceKernel(.any, dims: [d], keepDim: true, dtype: .bool)
        let lower = all.narrow(d, start: (n - 1) / 2, length: 1)
        let last = all.narrow(d, start: n - 1, length: 1)
        let index = ReductionMath.selectNoGrad(hasNaN, last, lower).contiguousNoGrad()
        return selectedAlong(base, dim: d, index: index, keepDim: keepDim)
    }

    /// Runs the sort kernel along normalised `d` (no autograd).
    func sortKernel(_ d: Int, descending: Bool) -> (Tensor, Tensor) {
        let values = Tensor(empty: shape, dtype: dtype, device: device)
        let indices = Tensor(empty: shape, dtype: .int64, device: device)
        if count > 0 { backend.sort(self, dim: d, descending: descending, values: values, indices: indices) }
        return (values, indices)
    }

    /// Records `values` (taken from `self` at `indices` along `d`) so their gradient scatters back.
    private func recordSelection(_ values: Tensor, dim d: Int, indices: Tensor, op: String) -> Tensor {
        let inShape = shape
        return record(values, op: op, inputs: [self]) { g, _ in
            [scatterGradient(g[0], dim: d, index: indices, into: inShape)]
        }
    }
}

/// Sorts along `dim` (`torch.sort`).
public func sort(_ x: Tensor, dim: Int = -1, descending: Bool = false, stable: Bool = true) -> (values: Tensor, indices: Tensor) {
    x.sort(dim: dim, descending: descending, stable: stable)
}
/// Indices that sort `x` along `dim` (`torch.argsort`).
public func argsort(_ x: Tensor, dim: Int = -1, descending: Bool = false, stable: Bool = true) -> Tensor {
    x.argsort(dim: dim, descending: descending, stable: stable)
}
/// The `k` largest (or smallest) elements along `dim` (`torch.topk`).
public func topk(_ x: Tensor, _ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Tensor, indices: Tensor) {
    x.topk(k, dim: dim, largest: largest, sorted: sorted)
}
/// The `k`-th smallest element along `dim` (`torch.kthvalue`).
public func kthvalue(_ x: Tensor, _ k: Int, dim: Int = -1, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
    x.kthvalue(k, dim: dim, keepDim: keepDim)
}
/// The lower median of all elements (`torch.median`).
public func median(_ x: Tensor) -> Tensor { x.median() }
/// The lower median along `dim` with its index (`torch.median(x, dim)`).
public func median(_ x: Tensor, dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { x.median(dim: dim, keepDim: keepDim) }

extension Tensor {
    /// The values of `base` at `index` (keep-dim shape along `dim`) with their indices, the dim dropped
    /// unless `keepDim` and 0-d results for 0-d `self`: the common tail of `kthvalue` and `median(dim:)`.
    fileprivate func selectedAlong(_ base: Tensor, dim d: Int, index: Tensor, keepDim: Bool) -> (values: Tensor, indices: Tensor) {
        var values = gatherForGradient(base, dim: d, index: index)
        var indices = index
        if !keepDim || rank == 0 {
            values = values.squeeze(d)
            indices = indices.reshapeNoGrad(values.shape)
            if rank == 0 { values = values.reshape([]); indices = indices.reshapeNoGrad([]) }
        }
        return (values, indices)
    }
}
