// Reductions beyond sum/mean: prod, max/min (with indices), amax/amin, argmax/argmin, all/any,
// countNonzero and logsumexp, with their backward. Scans (cumsum/cumprod) live in Scan.swift,
// var/std/norm in Statistics.swift. Inside `extension Tensor`, Swift's two-argument `max`/`min` must be
// written `Swift.max`/`Swift.min` (the methods below shadow them).

extension Tensor {
    /// Drops the reduced `dims` from a keep-dim shaped `t` unless `keepDim` (no autograd: kernel outputs only).
    func squeezedKernelOutput(_ t: Tensor, dims: [Int], keepDim: Bool) -> Tensor {
        if keepDim { return t }
        var s: [Int] = []
        for i in 0..<rank where !dims.contains(i) { s.append(shape[i]) }
        return t.reshapeNoGrad(s)
    }

    /// A gradient of a reduction over `dims` (keep-dim or not) reshaped to the keep-dim shape.
    func keptGradient(_ g: Tensor, dims: [Int]) -> Tensor {
        let kept = keptShape(dims)
        return g.shape == kept ? g : g.reshape(kept)
    }

    /// Whether any element is exactly zero (data-dependent choice of a backward formula).
    func containsZero() -> Bool {
        OpSupport.binaryScalar(.eq, self, 0, reversed: false, name: "prod").reduceKernel(.any, dims: Array(0..<rank), keepDim: false, dtype: .bool).item() != 0
    }

    // MARK: prod

    /// Product of all elements (`torch.prod`); integers and bools multiply in int64.
    ///
    /// ```swift
    /// Tensor([1.0, 2, 3]).prod()   // tensor(6.)
    /// ```
    public func prod(dtype: DType? = nil) -> Tensor {
        let src = dtype.map { self.to($0) } ?? self
        return src.prodOver(Array(0..<src.rank), keepDim: false)
    }

    /// Product over one dim (`torch.prod(x, dim, keepdim)`).
    public func prod(dim: Int, keepDim: Bool = false, dtype: DType? = nil) -> Tensor {
        let src = dtype.map { self.to($0) } ?? self
        return src.prodOver([Shape.normalize(dim, src.rank, op: "prod")].filter { $0 < src.rank }, keepDim: keepDim)
    }

    /// Product over sorted, normalised `dims`; the gradient is `g * out / x`, or the product of the
    /// other elements when `x` holds zeros (as PyTorch's `prod_backward`).
    func prodOver(_ d: [Int], keepDim: Bool) -> Tensor {
        let outType: DType = dtype.isFloatingPoint ? dtype : .int64
        let out = reduceKernel(.prod, dims: d, keepDim: keepDim, dtype: outType)
        guard isRecording(self) else { return out }
        let x = self
        return record(out, op: "ProdBackward", inputs: [x], saving: [x], saveOutput: true) { g, node in
            let gk = x.keptGradient(g[0], dims: d)
            if !x.containsZero() { return [gk * x.keptGradient(node.output(), dims: d) / x] }
            return [gk * x.productOfOthers(d)]
        }
    }

    /// For every element, the product of the other elements of its reduction group over `dims` (zero-safe).
    func productOfOthers(_ dims: [Int]) -> Tensor {
        let keep = (0..<rank).filter { !dims.contains($0) }
        let perm = keep + dims
        let keepSizes = keep.map { shape[$0] }, redSizes = dims.map { shape[$0] }
        let n = redSizes.reduce(1, *)
        if n <= 1 { return Tensor.onesLike(self) }
        let xt = permute(perm).reshape(keepSizes + [n])
        let one = Tensor.ones(keepSizes + [1], dtype: dtype, device: device)
        let prefix = Nabla.cat([one, xt.narrow(-1, start: 0, length: n - 1)], dim: -1).cumprod(dim: -1)
        let reversed = xt.flip([-1])
        let suffix = Nabla.cat([one, reversed.narrow(-1, start: 0, length: n - 1)], dim: -1).cumprod(dim: -1).flip([-1])
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return (prefix * suffix).reshape(keepSizes + redSizes).permute(inverse)
    }

    // MARK: max / min

    /// Largest element, a 0-d tensor (`torch.max(x)`); NaN propagates. The gradient is shared evenly among ties.
    public func max() -> Tensor { extremum(.max, name: "max") }

    /// Smallest element, a 0-d tensor (`torch.min(x)`); NaN propagates.
    public func min() -> Tensor { extremum(.min, name: "min") }

    private func extremum(_ op: ReduceOp, name: StaticString) -> Tensor {
        check(count > 0, "\(name)(): expected a non-empty tensor to reduce over all elements, got shape \(shape); specify dim")
        let out = reduceKernel(op, dims: Array(0..<rank), keepDim: false, dtype: dtype)
        guard isRecording(self) else { return out }
        let x = self
        return record(out, op: op == .max ? "MaxBackward" : "MinBackward", inputs: [x], saveOutput: true) { g, node in
            let y = node.output().detached()
            let mask = OpSupport.cast(x.eq(y).logicalOr(x.isnan().logicalAnd(y.isnan())), g[0].dtype)
            return [mask * (g[0] / mask.sum())]
        }
    }

    /// Largest values along `dim` and their first indices (`torch.max(x, dim, keepdim)`).
    ///
    /// ```swift
    /// let (values, indices) = x.max(dim: 1)
    /// ```
    /// The gradient flows to the selected element only, as in PyTorch.
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        selectAlong(max: true, dim: dim, keepDim: keepDim, name: "max")
    }

    /// Smallest values along `dim` and their first indices (`torch.min(x, dim, keepdim)`).
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        selectAlong(max: false, dim: dim, keepDim: keepDim, name: "min")
    }

    private func selectAlong(max isMax: Bool, dim: Int, keepDim: Bool, name: StaticString) -> (values: Tensor, indices: Tensor) {
        if rank == 0 {
            _ = Shape.normalize(dim, 0, op: name)
            let r = reshape([1]).selectAlong(max: isMax, dim: 0, keepDim: false, name: name)
            return (r.values.reshape([]), r.indices.reshapeNoGrad([]))
        }
        let d = Shape.normalize(dim, rank, op: name)
        check(shape[d] > 0, "\(name): cannot reduce over dimension \(d) of size 0 (shape \(shape))")
        let kept = keptShape([d])
        let values = Tensor(empty: kept, dtype: dtype, device: device)
        let indices = Tensor(empty: kept, dtype: .int64, device: device)
        backend.argReduce(max: isMax, self, dim: d, values: values, indices: indices)
        let v = squeezedKernelOutput(values, dims: [d], keepDim: keepDim)
        let i = squeezedKernelOutput(indices, dims: [d], keepDim: keepDim)
        guard isRecording(self) else { return (v, i) }
        let x = self
        record(v, op: isMax ? "MaxBackward" : "MinBackward", inputs: [x]) { g, _ in
            [scatterGradient(x.keptGradient(g[0], dims: [d]), dim: d, index: indices, into: x.shape)]
        }
        return (v, i)
    }

    /// Maximum over `dims` (all when nil), `torch.amax`; the gradient is shared evenly among ties.
    public func amax(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { extremum(.max, dims: dims, keepDim: keepDim, name: "amax") }
    /// Maximum over one dim (`torch.amax(x, dim)`).
    public func amax(dim: Int, keepDim: Bool = false) -> Tensor { amax(dims: [dim], keepDim: keepDim) }
    /// Minimum over `dims` (all when nil), `torch.amin`; the gradient is shared evenly among ties.
    public func amin(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { extremum(.min, dims: dims, keepDim: keepDim, name: "amin") }
    /// Minimum over one dim (`torch.amin(x, dim)`).
    public func amin(dim: Int, keepDim: Bool = false) -> Tensor { amin(dims: [dim], keepDim: keepDim) }

    private func extremum(_ op: ReduceOp, dims: [Int]?, keepDim: Bool, name: StaticString) -> Tensor {
        let d = reductionDims(dims, op: name)
        for i in d where i < rank {
            check(shape[i] > 0, "\(name): expected reduction dim \(i) to have non-zero size, got shape \(shape)")
        }
        let out = reduceKernel(op, dims: d, keepDim: keepDim, dtype: dtype)
        guard isRecording(self) else { return out }
        let x = self
        return record(out, op: op == .max ? "AmaxBackward" : "AminBackward", inputs: [x], saveOutput: true) { g, node in
            let y = x.keptGradient(node.output().detached(), dims: d)
            let mask = OpSupport.cast(x.eq(y), g[0].dtype)
            return [x.keptGradient(g[0], dims: d) / mask.sum(dims: d, keepDim: true) * mask]
        }
    }

    /// Index of the largest element along `dim`, or of the flattened tensor when `dim` is nil (`torch.argmax`).
    public func argmax(dim: Int? = nil, keepDim: Bool = false) -> Tensor { argExtremum(max: true, dim: dim, keepDim: keepDim, name: "argmax") }
    /// Index of the smallest element along `dim`, or of the flattened tensor when `dim` is nil (`torch.argmin`).
    public func argmin(dim: Int? = nil, keepDim: Bool = false) -> Tensor { argExtremum(max: false, dim: dim, keepDim: keepDim, name: "argmin") }

    private func argExtremum(max isMax: Bool, dim: Int?, keepDim: Bool, name: StaticString) -> Tensor {
        guard let dim else {
            check(count > 0, "\(name)(): expected a non-empty tensor, got shape \(shape)")
            let i = detached().reshape([count]).selectAlong(max: isMax, dim: 0, keepDim: false, name: name).indices
            return keepDim ? i.reshapeNoGrad([Int](repeating: 1, count: rank)) : i
        }
        return detached().selectAlong(max: isMax, dim: dim, keepDim: keepDim, name: name).indices
    }

    // MARK: all / any / countNonzero

    /// Whether every element is non-zero, over `dims` (all when nil), `torch.all`; a bool tensor.
    public func all(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        reduceKernel(.all, dims: reductionDims(dims, op: "all"), keepDim: keepDim, dtype: .bool)
    }
    /// Whether every element along `dim` is non-zero (`torch.all(x, dim)`).
    public func all(dim: Int, keepDim: Bool = false) -> Tensor { all(dims: [dim], keepDim: keepDim) }

    /// Whether any element is non-zero, over `dims` (all when nil), `torch.any`; a bool tensor.
    public func any(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        reduceKernel(.any, dims: reductionDims(dims, op: "any"), keepDim: keepDim, dtype: .bool)
    }
    /// Whether any element along `dim` is non-zero (`torch.any(x, dim)`).
    public func any(dim: Int, keepDim: Bool = false) -> Tensor { any(dims: [dim], keepDim: keepDim) }

    /// Number of non-zero elements over `dims` (all when nil), int64 (`torch.count_nonzero`).
    public func countNonzero(dims: [Int]? = nil) -> Tensor {
        OpSupport.binaryScalar(.ne, self, 0, reversed: false, name: "countNonzero")
            .reduceKernel(.sum, dims: reductionDims(dims, op: "countNonzero"), keepDim: false, dtype: .int64)
    }
    /// Number of non-zero elements along `dim` (`torch.count_nonzero(x, dim)`).
    public func countNonzero(dim: Int) -> Tensor { countNonzero(dims: [dim]) }

    // MARK: logsumexp

    /// `log(sum(exp(x)))` over `dims`, computed stably by subtracting the maximum (`torch.logsumexp`).
    ///
    /// ```swift
    /// Tensor([1000.0, 1000]).logsumexp(dims: [0])   // tensor(1000.6931)
    /// ```
    public func logsumexp(dims: [Int], keepDim: Bool = false) -> Tensor {
        let x = dtype.isFloatingPoint ? self : to(dtype.floatingResult)
        let d = x.reductionDims(dims, op: "logsumexp")
        if x.count == 0 { return Nabla.log(x.sum(dims: d, keepDim: keepDim)) }
        let m = x.reduceKernel(.max, dims: d, keepDim: true, dtype: x.dtype)
        let shift = ReductionMath.selectNoGrad(m.isinf(), Tensor.zeros([], dtype: x.dtype, device: x.device), m)
        let s = Nabla.exp(x - shift).sum(dims: d, keepDim: keepDim)
        return Nabla.log(s) + x.squeezedKernelOutput(shift, dims: d, keepDim: keepDim)
    }
    /// `logsumexp` over one dim.
    public func logsumexp(dim: Int, keepDim: Bool = false) -> Tensor { logsumexp(dims: [dim], keepDim: keepDim) }
}

/// Product of all elements (`torch.prod`).
public func prod(_ x: Tensor, dtype: DType? = nil) -> Tensor { x.prod(dtype: dtype) }
/// Product over one dim (`torch.prod(x, dim)`).
public func prod(_ x: Tensor, dim: Int, keepDim: Bool = false, dtype: DType? = nil) -> Tensor { x.prod(dim: dim, keepDim: keepDim, dtype: dtype) }
/// Largest element (`torch.max(x)`).
public func max(_ x: Tensor) -> Tensor { x.max() }
/// Largest values along `dim` with their indices (`torch.max(x, dim)`).
public func max(_ x: Tensor, dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { x.max(dim: dim, keepDim: keepDim) }
/// Smallest element (`torch.min(x)`).
public func min(_ x: Tensor) -> Tensor { x.min() }
/// Smallest values along `dim` with their indices (`torch.min(x, dim)`).
public func min(_ x: Tensor, dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { x.min(dim: dim, keepDim: keepDim) }
/// Maximum over `dims` (`torch.amax`).
public func amax(_ x: Tensor, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { x.amax(dims: dims, keepDim: keepDim) }
/// Minimum over `dims` (`torch.amin`).
public func amin(_ x: Tensor, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { x.amin(dims: dims, keepDim: keepDim) }
/// Index of the maximum (`torch.argmax`).
public func argmax(_ x: Tensor, dim: Int? = nil, keepDim: Bool = false) -> Tensor { x.argmax(dim: dim, keepDim: keepDim) }
/// Index of the minimum (`torch.argmin`).
public func argmin(_ x: Tensor, dim: Int? = nil, keepDim: Bool = false) -> Tensor { x.argmin(dim: dim, keepDim: keepDim) }
/// Whether all elements are non-zero (`torch.all`).
public func all(_ x: Tensor, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { x.all(dims: dims, keepDim: keepDim) }
/// Whether any element is non-zero (`torch.any`).
public func any(_ x: Tensor, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { x.any(dims: dims, keepDim: keepDim) }
/// Number of non-zero elements (`torch.count_nonzero`).
public func countNonzero(_ x: Tensor, dims: [Int]? = nil) -> Tensor { x.countNonzero(dims: dims) }
/// Stable `log(sum(exp(x)))` over `dims` (`torch.logsumexp`).
public func logsumexp(_ x: Tensor, dims: [Int], keepDim: Bool = false) -> Tensor { x.logsumexp(dims: dims, keepDim: keepDim) }
/// Stable `log(sum(exp(x)))` over one dim (`torch.logsumexp(x, dim)`).
public func logsumexp(_ x: Tensor, dim: Int, keepDim: Bool = false) -> Tensor { x.logsumexp(dim: dim, keepDim: keepDim) }
