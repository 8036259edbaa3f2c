// Sum and mean over dims, with their backward. Other reductions live in Reductions*.swift.

extension Tensor {
    /// Normalised, sorted, de-duplicated reduction dims (all dims when `dims` is nil or empty).
    func reductionDims(_ dims: [Int]?, op: StaticString) -> [Int] {
        guard let dims, !dims.isEmpty else { return Array(0..<rank) }
        let d = Set(dims.map { Shape.normalize($0, rank, op: op) }).sorted()
        check(d.count == dims.count, "\(op): dim appears multiple times in the list of dims \(dims)")
        return d
    }

    /// The keep-dim shape of reducing `dims`.
    func keptShape(_ dims: [Int]) -> [Int] {
        var s = shape
        for d in dims where d < s.count { s[d] = 1 }
        return s
    }

    /// Runs a reduce kernel into a keep-dim output, then drops the dims unless `keepDim`; no autograd.
    func reduceKernel(_ op: ReduceOp, dims: [Int], keepDim: Bool, dtype outDType: DType) -> Tensor {
        let kept = keptShape(dims)
        let out = Tensor(empty: kept, dtype: outDType, device: device)
        if count == 0 { backend.fill(out, value: op == .prod || op == .all ? 1 : 0) }
        else { backend.reduce(op, self, dims: dims, out: out) }
        if keepDim { return out }
        var finalShape: [Int] = []
        for i in 0..<rank where !dims.contains(i) { finalShape.append(shape[i]) }
        return out.reshapeNoGrad(finalShape)
    }

    /// Sum over `dims` (all when empty), `torch.sum(x, dim, keepdim)`; integers and bools sum to int64.
    public func sum(dims: [Int]? = nil, keepDim: Bool = false, dtype: DType? = nil) -> Tensor {
        let src = dtype.map { self.to($0) } ?? self
        let d = src.reductionDims(dims, op: "sum")
        let outType: DType = src.dtype.isFloatingPoint ? src.dtype : .int64
        let out = src.reduceKernel(.sum, dims: d, keepDim: keepDim, dtype: outType)
        guard isRecording(src) else { return out }
        let inShape = src.shape, kept = src.keptShape(d)
        return record(out, op: "SumBackward", inputs: [src], jvp: { t in t[0]!.sum(dims: d, keepDim: keepDim) }) { g, _ in
            [g[0].reshape(kept).expand(inShape)]
        }
    }
    /// Sum over one dim.
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum(dims: [dim], keepDim: keepDim) }

    /// Mean over `dims` (all when empty), `torch.mean`; integer inputs are an error as in PyTorch.
    public func mean(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        check(dtype.isFloatingPoint, "mean: could not infer output dtype: input dtype should be floating point, got \(dtype)")
        let d = reductionDims(dims, op: "mean")
        let n = d.reduce(1) { $0 * shape[$1] }
        return sum(dims: d, keepDim: keepDim) / Double(Swift.max(n, 1)) * (n == 0 ? .nan : 1)
    }
    /// Mean over one dim.
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean(dims: [dim], keepDim: keepDim) }
}

/// Sum of all elements or over `dims` (`torch.sum`).
public func sum(_ x: Tensor, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { x.sum(dims: dims, keepDim: keepDim) }
/// Mean of all elements or over `dims` (`torch.mean`).
public func mean(_ x: Tensor, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor { x.mean(dims: dims, keepDim: keepDim) }
