// Index-based ops: indexSelect, gather, scatter, scatterAdd, indexAdd, take, oneHot, maskedSelect, nonzero.
// Forwards run the backend's gather/scatter kernels; each backward is another gather/scatter, so
// higher-order gradients flow.

/// Reads an integer index tensor on the host, normalises negative entries and checks bounds,
/// naming `op`, the dim and its size when one is out of range.
func normalizedIndices(_ index: Tensor, size: Int, dim: Int, op: StaticString) -> [Int64] {
    check(index.dtype == .int64 || index.dtype == .int32,
          "\(op): index must be an integer (int64) tensor, got \(index.dtype)")
    var values = index.toArray(Int64.self)
    let n = Int64(size)
    for k in values.indices {
        let v = values[k]
        check(v >= -n && v < n, "\(op): index \(v) is out of bounds for dimension \(dim) with size \(size)")
        if v < 0 { values[k] = v + n }
    }
    return values
}

/// `index` viewed with `shape`: its 1-D values laid along `dim`, stride 0 on every other dim.
func indexAlong(_ index: Tensor, dim: Int, shape: [Int]) -> Tensor {
    var strides = [Int](repeating: 0, count: shape.count)
    strides[dim] = index.strides.first ?? 1
    return index.aliased(ViewGeometry(shape: shape, strides: strides, offset: index.offset))
}

/// Zeros of `shape` with `t` written into its leading corner (`t.shape` fits inside `shape`), differentiable.
func padCorner(_ t: Tensor, to shape: [Int]) -> Tensor {
    if t.shape == shape { return t }
    return viewScatter(t, into: shape, at: ViewGeometry(shape: t.shape, strides: Shape.contiguousStrides(shape), offset: 0))
}

/// The entries of `input` at `index` along `dim` (`torch.index_select`); `index` is a 1-D int64 tensor.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4], [5, 6]])
/// indexSelect(x, dim: 0, index: Tensor([2, 0]))   // [[5, 6], [1, 2]]
/// ```
public func indexSelect(_ input: Tensor, dim: Int, index: Tensor) -> Tensor {
    check(input.rank >= 1, "indexSelect: expects a tensor with at least 1 dimension, got shape \(input.shape)")
    check(index.rank <= 1, "indexSelect: index must be 0-d or 1-d, got shape \(index.shape)")
    let d = Shape.normalize(dim, input.rank, op: "indexSelect")
    let values = normalizedIndices(index, size: input.shape[d], dim: d, op: "indexSelect")
    let idx = Tensor(shape: [values.count], data: values, device: input.device)
    var outShape = input.shape
    outShape[d] = values.count
    let out = Tensor(empty: outShape, dtype: input.dtype, device: input.device)
    let along = indexAlong(idx, dim: d, shape: outShape)
    if out.count > 0 { input.backend.gather(input, dim: d, index: along, out: out) }
    guard isRecording(input) else { return out }
    let inShape = input.shape
    return record(out, op: "IndexSelectBackward", inputs: [input]) { g, _ in
        [Nabla.scatterAdd(Tensor.zeros(inShape, dtype: g[0].dtype, device: g[0].device), dim: d, index: along, src: g[0])]
    }
}

/// Gathers values along `dim` at `index` (`torch.gather`): `out[i][j] = input[i][index[i][j]]` for `dim == 1`.
///
/// `index` has the rank of `input`, and no larger size than `input` on the other dims; the output has `index`'s shape.
public func gather(_ input: Tensor, dim: Int, index: Tensor) -> Tensor {
    let d = Shape.normalize(dim, input.rank, op: "gather")
    checkScatterShapes("gather", input, dim: d, index: index, src: nil)
    let out = Tensor(empty: index.shape, dtype: input.dtype, device: input.device)
    let idx = OpSupport.cast(index, .int64)
    if out.count > 0 { input.backend.gather(input.rank == 0 ? input.reshapeNoGrad([1]) : input, dim: d,
                                            index: idx.rank == 0 ? idx.reshapeNoGrad([1]) : idx,
                                            out: out.rank == 0 ? out.reshapeNoGrad([1]) : out) }
    guard isRecording(input) else { return out }
    let inShape = input.shape
    return record(out, op: "GatherBackward", inputs: [input]) { g, _ in
        [Nabla.scatterAdd(Tensor.zeros(inShape, dtype: g[0].dtype, device: g[0].device), dim: d, index: idx, src: g[0])]
    }
}

/// Checks the shape rule shared by gather and scatter: same rank, index no larger than src (all dims) and input (other dims).
private func checkScatterShapes(_ op: StaticString, _ input: Tensor, dim: Int, index: Tensor, src: Tensor?) {
    check(index.dtype == .int64 || index.dtype == .int32, "\(op): index must be an int64 tensor, got \(index.dtype)")
    check(index.rank == input.rank || (index.rank <= 1 && input.rank <= 1),
          "\(op): index tensor must have the same number of dimensions as the input tensor, shapes \(index.shape) and \(input.shape)")
    for i in 0..<index.rank where i != dim {
        check(index.shape[i] <= input.shape[i], "\(op): size of index \(index.shape) does not match the input \(input.shape) at dimension \(i): expected index.size(\(i)) <= input.size(\(i))")
    }
    if let src {
        check(src.rank == index.rank, "\(op): index tensor must have the same number of dimensions as the src tensor, shapes \(index.shape) and \(src.shape)")
        for i in 0..<index.rank {
            check(index.shape[i] <= src.shape[i], "\(op): expected index \(index.shape) to be smaller than src \(src.shape) apart from dimension \(dim)... at dimension \(i)")
        }
    }
}

/// Runs the scatter kernel into `out` (which holds the initial values); no autograd.
private func scatterKernel(dim: Int, index: Tensor, src: Tensor, accumulate: Bool, into out: Tensor) {
    guard index.count > 0 else { return }
    let idx = OpSupport.cast(index, .int64)
    let s = OpSupport.cast(src, out.dtype)
    if out.rank == 0 {
        out.backend.scatter(s.reshapeNoGrad([1]), dim: 0, index: idx.reshapeNoGrad([1]), out: out.reshapeNoGrad([1]), accumulate: accumulate)
    } else {
        out.backend.scatter(s, dim: dim, index: idx, out: out, accumulate: accumulate)
    }
}

/// A copy of `input` with `src` written at `index` along `dim` (`torch.scatter`): `out[i][index[i][j]] = src[i][j]` for `dim == 1`.
public func scatter(_ input: Tensor, dim: Int, index: Tensor, src: Tensor) -> Tensor {
    let d = Shape.normalize(dim, input.rank, op: "scatter")
    checkScatterShapes("scatter", input, dim: d, index: index, src: src)
    let out = input.contiguousCopy()
    scatterKernel(dim: d, index: index, src: src, accumulate: false, into: out)
    guard isRecording(input, src) else { return out }
    let srcShape = src.shape, idx = OpSupport.cast(index, .int64)
    return record(out, op: "ScatterBackward", inputs: [input, src]) { g, _ in
        [Nabla.scatter(g[0], dim: d, index: idx, value: 0),
         src.requiresGradFlag || src.tangent != nil ? padCorner(Nabla.gather(g[0], dim: d, index: idx), to: srcShape) : nil]
    }
}

/// A copy of `input` with `value` written at `index` along `dim` (`torch.scatter` with a scalar).
public func scatter(_ input: Tensor, dim: Int, index: Tensor, value: Double) -> Tensor {
    let src = Tensor.scalar(value, dtype: input.dtype, device: input.device).expand(index.shape)
    let d = Shape.normalize(dim, input.rank, op: "scatter")
    checkScatterShapes("scatter", input, dim: d, index: index, src: nil)
    let out = input.contiguousCopy()
    scatterKernel(dim: d, index: index, src: src, accumulate: false, into: out)
    guard isRecording(input) else { return out }
    let idx = OpSupport.cast(index, .int64)
    return record(out, op: "ScatterBackward", inputs: [input]) { g, _ in [Nabla.scatter(g[0], dim: d, index: idx, value: 0)] }
}

/// A copy of `input` with `src` added at `index` along `dim` (`torch.scatter_add`); repeated indices accumulate.
public func scatterAdd(_ input: Tensor, dim: Int, index: Tensor, src: Tensor) -> Tensor {
    let d = Shape.normalize(dim, input.rank, op: "scatterAdd")
    checkScatterShapes("scatterAdd", input, dim: d, index: index, src: src)
    let out = input.contiguousCopy()
    scatterKernel(dim: d, index: index, src: src, accumulate: true, into: out)
    guard isRecording(input, src) else { return out }
    let srcShape = src.shape, idx = OpSupport.cast(index, .int64)
    return record(out, op: "ScatterAddBackward", inputs: [input, src]) { g, _ in
        [g[0], src.requiresGradFlag || src.tangent != nil ? padCorner(Nabla.gather(g[0], dim: d, index: idx), to: srcShape) : nil]
    }
}

/// A copy of `input` with `alpha * source` added at the 1-D `index` along `dim` (`torch.index_add`).
public func indexAdd(_ input: Tensor, dim: Int, index: Tensor, source: Tensor, alpha: Double = 1) -> Tensor {
    let d = Shape.normalize(dim, input.rank, op: "indexAdd")
    check(index.rank <= 1, "indexAdd: index must be 0-d or 1-d, got shape \(index.shape)")
    let values = normalizedIndices(index, size: input.shape[d], dim: d, op: "indexAdd")
    check(source.rank == input.rank && source.shape[d] == values.count,
          "indexAdd: source \(source.shape) must have the shape of input \(input.shape) with dim \(d) of size \(values.count) (the index length)")
    let idx = Tensor(shape: [values.count], data: values, device: input.device)
    return scatterAdd(input, dim: d, index: indexAlong(idx, dim: d, shape: source.shape), src: alpha == 1 ? source : source * alpha)
}

/// Elements of `input` treated as 1-D at `index` (`torch.take`); the result has `index`'s shape.
public func take(_ input: Tensor, index: Tensor) -> Tensor {
    let flat = input.reshape([-1])
    return indexSelect(flat, dim: 0, index: index.reshape([-1])).reshape(index.shape)
}

/// One-hot encoding of an integer tensor (`torch.nn.functional.one_hot`): int64 of shape `tensor.shape + [numClasses]`.
///
/// `numClasses == -1` uses the largest value plus one.
public func oneHot(_ tensor: Tensor, numClasses: Int = -1) -> Tensor {
    check(!tensor.dtype.isFloatingPoint && tensor.dtype != .bool, "oneHot: expects an integer (int64) tensor, got \(tensor.dtype)")
    // With numClasses given, the values are only checked (no graph break under compile); without, they set the size.
    let values = numClasses < 0 ? tensor.toArray(Int64.self) : checkingOnHost { tensor.toArray(Int64.self) }
    let maxValue = Int(values.max() ?? -1)
    let n = numClasses < 0 ? maxValue + 1 : numClasses
    check(values.allSatisfy { $0 >= 0 }, "oneHot: class values must be non-negative, got shape \(tensor.shape)")
    check(maxValue < n, "oneHot: class value \(maxValue) is out of range for numClasses \(n)")
    let out = Tensor.zeros(tensor.shape + [n], dtype: .int64, device: tensor.device)
    let idx = OpSupport.cast(tensor, .int64).contiguousNoGrad().reshapeNoGrad(tensor.shape + [1])
    let one = Tensor.scalar(1, dtype: .int64, device: tensor.device).expand(idx.shape)
    if idx.count > 0 { out.backend.scatter(one, dim: tensor.rank, index: idx, out: out, accumulate: false) }
    return out
}

/// The elements of `input` where the (broadcast) bool `mask` is true, as a 1-D tensor (`torch.masked_select`).
public func maskedSelect(_ input: Tensor, _ mask: Tensor) -> Tensor {
    check(mask.dtype == .bool, "maskedSelect: expected a bool mask, got \(mask.dtype)")
    let shape = Shape.broadcast(input.shape, mask.shape, op: "maskedSelect")
    let m = mask.shape == shape ? mask : mask.expand(shape)
    let flags = m.toBoolArray()
    var positions: [Int64] = []
    positions.reserveCapacity(flags.count)
    for (i, f) in flags.enumerated() where f { positions.append(Int64(i)) }
    let flat = (input.shape == shape ? input : input.expand(shape)).reshape([-1])
    return indexSelect(flat, dim: 0, index: Tensor(shape: [positions.count], data: positions, device: input.device))
}

/// Indices of the non-zero elements (`torch.nonzero`): int64 of shape `[n, rank]`, in row-major order.
public func nonzero(_ input: Tensor) -> Tensor {
    let flags = input.dtype == .bool ? input.toBoolArray() : input.toDoubleArray().map { $0 != 0 }
    let r = input.rank
    let strides = Shape.contiguousStrides(input.shape)
    var coords: [Int64] = []
    for (i, f) in flags.enumerated() where f {
        var rem = i
        for d in 0..<r { coords.append(Int64(rem / strides[d])); rem %= strides[d] }
    }
    let n = r == 0 ? coords.count : coords.count / r
    return Tensor(shape: [r == 0 ? (flags.first == true ? 1 : 0) : n, r], data: coords, device: input.device)
}

extension Tensor {
    /// Entries at `index` along `dim` (`Tensor.index_select`).
    public func indexSelect(dim: Int, index: Tensor) -> Tensor { Nabla.indexSelect(self, dim: dim, index: index) }
    /// Values along `dim` at `index` (`Tensor.gather`).
    public func gather(dim: Int, index: Tensor) -> Tensor { Nabla.gather(self, dim: dim, index: index) }
    /// A copy with `src` written at `index` along `dim` (`Tensor.scatter`).
    public func scatter(dim: Int, index: Tensor, src: Tensor) -> Tensor { Nabla.scatter(self, dim: dim, index: index, src: src) }
    /// A copy with `value` written at `index` along `dim` (`Tensor.scatter` with a scalar).
    public func scatter(dim: Int, index: Tensor, value: Double) -> Tensor { Nabla.scatter(self, dim: dim, index: index, value: value) }
    /// A copy with `src` added at `index` along `dim` (`Tensor.scatter_add`).
    public func scatterAdd(dim: Int, index: Tensor, src: Tensor) -> Tensor { Nabla.scatterAdd(self, dim: dim, index: index, src: src) }
    /// A copy with `alpha * source` added at `index` along `dim` (`Tensor.index_add`).
    public func indexAdd(dim: Int, index: Tensor, source: Tensor, alpha: Double = 1) -> Tensor {
        Nabla.indexAdd(self, dim: dim, index: index, source: source, alpha: alpha)
    }
    /// Elements of `self` treated as 1-D at `index` (`Tensor.take`).
    public func take(_ index: Tensor) -> Tensor { Nabla.take(self, index: index) }
    /// Elements where `mask` is true, as 1-D (`Tensor.masked_select`).
    public func maskedSelect(_ mask: Tensor) -> Tensor { Nabla.maskedSelect(self, mask) }
    /// Indices of the non-zero elements, int64 `[n, rank]` (`Tensor.nonzero`).
    public func nonzero() -> Tensor { Nabla.nonzero(self) }

    /// Writes `src` at `index` along `dim` in place (`Tensor.scatter_`).
    @discardableResult
    public func scatter_(dim: Int, index: Tensor, src: Tensor) -> Tensor {
        scatterInPlace("scatter_", dim: dim, index: index, src: src, accumulate: false)
    }
    /// Writes `value` at `index` along `dim` in place (`Tensor.scatter_` with a scalar).
    @discardableResult
    public func scatter_(dim: Int, index: Tensor, value: Double) -> Tensor {
        scatter_(dim: dim, index: index, src: Tensor.scalar(value, dtype: dtype, device: device).expand(index.shape))
    }
    /// Adds `src` at `index` along `dim` in place (`Tensor.scatter_add_`).
    @discardableResult
    public func scatterAdd_(dim: Int, index: Tensor, src: Tensor) -> Tensor {
        scatterInPlace("scatterAdd_", dim: dim, index: index, src: src, accumulate: true)
    }

    /// The body of `scatter_` and `scatterAdd_`: out of place with history when recording, else the kernel in place.
    private func scatterInPlace(_ op: StaticString, dim: Int, index: Tensor, src: Tensor, accumulate: Bool) -> Tensor {
        if prepareInPlace(op, inputs: [src]) {
            let value = accumulate ? Nabla.scatterAdd(self, dim: dim, index: index, src: src)
                                   : Nabla.scatter(self, dim: dim, index: index, src: src)
            return assignInPlace(value, recording: true)
        }
        let d = Shape.normalize(dim, rank, op: op)
        checkScatterShapes(op, self, dim: d, index: index, src: src)
        scatterKernel(dim: d, index: index, src: src, accumulate: accumulate, into: self)
        storage.bumpVersion()
        return self
    }
}
