// Subscripts: PyTorch/NumPy basic indexing as one view (integers, ranges, steps, ellipsis, new axes)
// and advanced indexing with int64 index tensors and bool masks (a gather), with index assignment.

/// One entry of a tensor subscript (`x[0, 1..<3, .newAxis, ...]`), PyTorch's indexing vocabulary.
public enum TensorIndex {
    /// One position, removing the dim (negative counts from the end).
    case index(Int)
    /// Every `step`-th position of `start..<end` (nil: the dim's start or end; negative counts from the end).
    case range(start: Int?, end: Int?, step: Int)
    /// The whole dim (Python's `:`).
    case all
    /// As many `.all` as needed to cover the unnamed dims (Python's `...`).
    case ellipsis
    /// A new dim of size 1 (Python's `None`).
    case newAxis
    /// An integer (int64) index tensor: advanced indexing along one dim.
    case tensor(Tensor)
    /// A bool mask covering `mask.rank` dims: the positions where it is true.
    case mask(Tensor)

    /// `start..<end` every `step` positions, as Python's `start:end:step`.
    public static func range(_ start: Int?, _ end: Int?, step: Int = 1) -> TensorIndex {
        .range(start: start, end: end, step: step)
    }
}

extension TensorIndex: ExpressibleByIntegerLiteral {
    /// An integer literal is `.index`.
    public init(integerLiteral value: Int) { self = .index(value) }
}

/// Types usable inside a tensor subscript: `Int`, Swift ranges, `Tensor` (int64 indices or bool mask) and `TensorIndex`.
public protocol TensorIndexConvertible {
    /// This value as a `TensorIndex`.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndexConvertible where Self == TensorIndex {
    /// The whole dim (Python's `:`), spelled `.all` inside a subscript.
    @_disfavoredOverload public static var all: TensorIndex { TensorIndex.all }
    /// As many `.all` as needed (Python's `...`), spelled `.ellipsis` inside a subscript.
    @_disfavoredOverload public static var ellipsis: TensorIndex { TensorIndex.ellipsis }
    /// A new dim of size 1 (Python's `None`), spelled `.newAxis` inside a subscript.
    @_disfavoredOverload public static var newAxis: TensorIndex { TensorIndex.newAxis }
    /// `start..<end` every `step` (Python's `start:end:step`), spelled `.range(0, 10, step: 2)` inside a subscript.
    @_disfavoredOverload public static func range(_ start: Int?, _ end: Int?, step: Int = 1) -> TensorIndex {
        TensorIndex.range(start: start, end: end, step: step)
    }
}

extension TensorIndex: TensorIndexConvertible {
    /// `self`.
    public var tensorIndex: TensorIndex { self }
}
extension Int: TensorIndexConvertible {
    /// `.index(self)`.
    public var tensorIndex: TensorIndex { .index(self) }
}
extension Range: TensorIndexConvertible where Bound == Int {
    /// `lowerBound..<upperBound`.
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: TensorIndexConvertible where Bound == Int {
    /// `lowerBound...upperBound` (a negative `upperBound` of -1 reaches the last element).
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    /// `lowerBound...`.
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    /// `..<upperBound`.
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    /// `...upperBound`.
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension Tensor: TensorIndexConvertible {
    /// `.mask(self)` for bool tensors, else `.tensor(self)`.
    public var tensorIndex: TensorIndex { dtype == .bool ? .mask(self) : .tensor(self) }
}

/// The resolved form of an index list: per-dim steps of the basic view, then the advanced (tensor) indices.
struct ResolvedIndex {
    enum Step { case keep, select(Int), slice(start: Int, length: Int, step: Int), newAxis }
    var steps: [Step] = []
    /// Output dim of the basic view, source dim, and the int64 index tensor.
    var advanced: [(dim: Int, source: Int, index: Tensor)] = []
    var isIdentity: Bool { advanced.isEmpty && steps.allSatisfy { if case .keep = $0 { return true } else { return false } } }

    /// The view geometry the basic steps make of `g`.
    func apply(_ g: ViewGeometry) -> ViewGeometry {
        var sh: [Int] = [], st: [Int] = []
        var off = g.offset, src = 0
        for step in steps {
            switch step {
            case .keep: sh.append(g.shape[src]); st.append(g.strides[src]); src += 1
            case .select(let i): off += i * g.strides[src]; src += 1
            case .slice(let s, let len, let k):
                if len > 0 { off += s * g.strides[src] }
                sh.append(len); st.append(g.strides[src] * k); src += 1
            case .newAxis: sh.append(1); st.append(src < g.shape.count ? g.strides[src] * g.shape[src] : 1)
            }
        }
        while src < g.shape.count { sh.append(g.shape[src]); st.append(g.strides[src]); src += 1 }
        return ViewGeometry(shape: sh, strides: st, offset: off)
    }
}

extension Tensor {
    /// Resolves `indices` against this tensor's shape: normalises, checks bounds, expands masks and the ellipsis.
    func resolveIndices(_ indices: [TensorIndex]) -> ResolvedIndex {
        var list: [TensorIndex] = []
        var consumed = 0, ellipses = 0
        for idx in indices {
            switch idx {
            case .index, .range, .all, .tensor: consumed += 1
            case .mask(let m): consumed += m.rank
            case .ellipsis: ellipses += 1
            case .newAxis: break
            }
        }
        check(ellipses <= 1, "index: an index can only have a single ellipsis ('...'), got \(ellipses)")
        check(consumed <= rank, "index: too many indices for tensor of dimension \(rank) (got \(consumed)), shape \(shape)")
        for idx in indices {
            if case .ellipsis = idx { list += Array(repeating: .all, count: rank - consumed) } else { list.append(idx) }
        }
        var r = ResolvedIndex()
        var src = 0
        for idx in list {
            switch idx {
            case .index(let i):
                let n = shape[src]
                check(i >= -n && i < n, "index: index \(i) is out of bounds for dimension \(src) with size \(n)")
                r.steps.append(.select(i < 0 ? i + n : i)); src += 1
            case .range(let start, let end, let step):
                check(step > 0, "index: step must be greater than zero, got \(step) for dimension \(src)")
                let n = shape[src]
                func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + n : v, 0), n) }
                let s = clamp(start ?? 0), e = Swift.max(clamp(end ?? n), s)
                r.steps.append(.slice(start: s, length: (e - s + step - 1) / step, step: step)); src += 1
            case .all: r.steps.append(.keep); src += 1
            case .newAxis: r.steps.append(.newAxis)
            case .ellipsis: break
            case .tensor(let t):
                check(t.dtype == .int64 || t.dtype == .int32, "index: tensors used as indices must be int64 or bool, got \(t.dtype)")
                r.advanced.append((r.outputRank, src, t)); r.steps.append(.keep); src += 1
            case .mask(let m):
                check(m.rank >= 1, "index: a 0-d bool mask is not supported as an index, use a mask of shape \(shape)")
                let covered = Array(shape[src..<(src + m.rank)])
                check(m.shape == covered, "index: the shape of the mask \(m.shape) at index \(src) does not match the shape of the indexed tensor \(shape) (dims \(src)..<\(src + m.rank) are \(covered))")
                let nz = Nabla.nonzero(m)
                for k in 0..<m.rank {
                    r.advanced.append((r.outputRank, src, nz.select(1, k).contiguousNoGrad()))
                    r.steps.append(.keep); src += 1
                }
            }
        }
        return r
    }
}

extension ResolvedIndex {
    /// Number of dims of the basic view produced so far.
    var outputRank: Int { steps.reduce(0) { n, s in if case .select = s { return n } else { return n + 1 } } }
}

extension Tensor {
    /// `self[indices]`: one view for the basic part, then a gather for the advanced part.
    func indexed(_ indices: [TensorIndex]) -> Tensor {
        let r = resolveIndices(indices)
        let v = makeView("IndexBackward", { r.apply($0) })
        if r.advanced.isEmpty { return v }
        return v.advancedIndexed(r.advanced)
    }

    /// Gathers `view` at the broadcast index tensors (PyTorch's placement: in place when adjacent, else first).
    func advancedIndexed(_ adv: [(dim: Int, source: Int, index: Tensor)]) -> Tensor {
        if adv.count == 1 {
            let (d, source, t) = adv[0]
            let values = normalizedIndices(t, size: shape[d], dim: source, op: "index")
            let out = Nabla.indexSelect(self, dim: d, index: Tensor(shape: [values.count], data: values, device: device))
            if t.rank == 1 { return out }
            return out.reshape(Array(shape[..<d]) + t.shape + Array(shape[(d + 1)...]))
        }
        var b: [Int] = adv[0].index.shape
        for a in adv.dropFirst() { b = Shape.broadcast(b, a.index.shape, op: "index") }
        let bcount = b.reduce(1, *)
        // Linear index over the advanced dims, row-major.
        var linear = [Int64](repeating: 0, count: bcount)
        for a in adv {
            let size = shape[a.dim]
            let vals = normalizedIndices(a.index.shape == b ? a.index : a.index.expand(b), size: size, dim: a.source, op: "index")
            for k in 0..<bcount { linear[k] = linear[k] * Int64(size) + vals[k] }
        }
        let dims = adv.map(\.dim)
        let rest = (0..<rank).filter { !dims.contains($0) }
        let moved = permute(dims + rest)
        let flat = moved.reshape([dims.reduce(1) { $0 * shape[$1] }] + rest.map { shape[$0] })
        let picked = Nabla.indexSelect(flat, dim: 0, index: Tensor(shape: [bcount], data: linear, device: device))
        let out = picked.reshape(b + rest.map { shape[$0] })
        let adjacent = zip(dims, dims.dropFirst()).allSatisfy { $1 == $0 + 1 }
        guard adjacent && dims[0] > 0 else { return out }
        let nb = b.count, p = dims[0]
        var order: [Int] = Array(nb..<(nb + p))
        order += Array(0..<nb)
        order += Array((nb + p)..<(nb + rest.count))
        return out.permute(order)
    }

    /// `self[indices] = value` in place (PyTorch's `index_put_` / `copy_` into a view), differentiable when recording.
    func indexAssign(_ indices: [TensorIndex], _ value: Tensor) {
        let rec = prepareInPlace("index assignment", inputs: [value])
        check(value.device == device, "index assignment: value is on \(value.device) but the tensor is on \(device)")
        if !rec, indices.count == 1, case .mask(let m) = indices[0], m.shape == shape, value.count == 1 {
            // x[mask] = scalar: one select kernel, in place.
            backend.select(m, OpSupport.cast(value, dtype).reshapeNoGrad([]), self, out: self)
            storage.bumpVersion()
            return
        }
        let r = resolveIndices(indices)
        if !rec && r.advanced.isEmpty {
            let region = aliased(r.apply(ViewGeometry(shape: shape, strides: strides, offset: offset)))
            let v = value.assignable(to: region.shape)
            backend.copy(OpSupport.cast(v, dtype), into: region)
            storage.bumpVersion()
            return
        }
        // Flat positions of the selected elements: index an arange with the same indices.
        let positions = noGrad { Tensor.arange(count).reshapeNoGrad(shape).indexed(indices) }
        let v = value.assignable(to: positions.shape)
        let flatIndex = positions.contiguousNoGrad().reshapeNoGrad([positions.count])
        if !rec {
            let src = OpSupport.cast(v, dtype).expand(positions.shape).contiguousNoGrad().reshapeNoGrad([positions.count])
            let target = isContiguous ? reshapeNoGrad([count]) : contiguousCopy().reshapeNoGrad([count])
            if positions.count > 0 { backend.scatter(src, dim: 0, index: flatIndex, out: target, accumulate: false) }
            if !isContiguous { backend.copy(target.reshapeNoGrad(shape), into: self) }
            storage.bumpVersion()
            return
        }
        let src = v.to(dtype).expand(positions.shape).reshape([positions.count])
        let updated = Nabla.scatter(reshape([count]), dim: 0, index: flatIndex, src: src).reshape(shape)
        assignInPlace(updated, recording: true)
    }
}

extension Tensor {
    /// `self` without extra leading size-1 dims (as PyTorch drops them), checked to broadcast to `target`.
    func assignable(to target: [Int]) -> Tensor {
        var v = shape
        while v.count > target.count && v.first == 1 { v.removeFirst() }
        check(v.count <= target.count && (try? Shape.broadcastThrowing(v, target, op: "index")) == target,
              "index assignment: shape mismatch: value tensor of shape \(shape) cannot be broadcast to indexing result of shape \(target)")
        return v == shape ? self : reshape(v)
    }
}

extension Tensor {
    /// Indexing as PyTorch's `x[i, j:k, None, ...]`: integers, ranges, `.all`, `.newAxis`, `.ellipsis`,
    /// `.range(start, end, step:)`, int64 index tensors and bool masks. Basic indices give a view sharing storage;
    /// tensor indices and masks give a copy. Setting writes in place (broadcasting the value).
    ///
    /// ```swift
    /// let x = Tensor.arange(24).reshape(2, 3, 4)
    /// x[0, 1..<3]             // shape [2, 4], a view
    /// x[.all, .range(0, 4, step: 2)]
    /// x[x.gt(10.0)] = Tensor(0)
    /// ```
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        get { indexed(indices.map(\.tensorIndex)) }
        set { indexAssign(indices.map(\.tensorIndex), newValue) }
    }
    /// `x[...]`, `x[..., 0]`: a leading ellipsis (Swift's `...`) then more indices.
    public subscript(_: UnboundedRange, _ rest: any TensorIndexConvertible...) -> Tensor {
        get { indexed([.ellipsis] + rest.map(\.tensorIndex)) }
        set { indexAssign([.ellipsis] + rest.map(\.tensorIndex), newValue) }
    }
    /// `x[0, ...]`, `x[0, ..., 1]`: an ellipsis in second position.
    public subscript(_ first: any TensorIndexConvertible, _: UnboundedRange, _ rest: any TensorIndexConvertible...) -> Tensor {
        get { indexed([first.tensorIndex, .ellipsis] + rest.map(\.tensorIndex)) }
        set { indexAssign([first.tensorIndex, .ellipsis] + rest.map(\.tensorIndex), newValue) }
    }
    /// `x[0, 1..<3, ...]`: an ellipsis in third position.
    public subscript(_ first: any TensorIndexConvertible, _ second: any TensorIndexConvertible, _: UnboundedRange,
                     _ rest: any TensorIndexConvertible...) -> Tensor {
        get { indexed([first.tensorIndex, second.tensorIndex, .ellipsis] + rest.map(\.tensorIndex)) }
        set { indexAssign([first.tensorIndex, second.tensorIndex, .ellipsis] + rest.map(\.tensorIndex), newValue) }
    }

    /// Scalar form: reads one element as `Double` (`x[0, 1].item()`), or assigns a scalar (`x[mask] = 0`).
    @_disfavoredOverload
    public subscript(_ indices: any TensorIndexConvertible...) -> Double {
        get { indexed(indices.map(\.tensorIndex)).item() }
        set { indexAssign(indices.map(\.tensorIndex), Tensor.scalar(newValue, dtype: dtype, device: device)) }
    }
    /// Scalar form with a leading ellipsis (`x[..., 0] = 1`).
    @_disfavoredOverload
    public subscript(_: UnboundedRange, _ rest: any TensorIndexConvertible...) -> Double {
        get { indexed([.ellipsis] + rest.map(\.tensorIndex)).item() }
        set { indexAssign([.ellipsis] + rest.map(\.tensorIndex), Tensor.scalar(newValue, dtype: dtype, device: device)) }
    }
    /// Scalar form with an ellipsis in second position (`x[0, ...] = 1`).
    @_disfavoredOverload
    public subscript(_ first: any TensorIndexConvertible, _: UnboundedRange, _ rest: any TensorIndexConvertible...) -> Double {
        get { indexed([first.tensorIndex, .ellipsis] + rest.map(\.tensorIndex)).item() }
        set { indexAssign([first.tensorIndex, .ellipsis] + rest.map(\.tensorIndex), Tensor.scalar(newValue, dtype: dtype, device: device)) }
    }

    /// `self[indices]` from an array of indices (`x.index(indices)`), for index lists built at run time.
    public func index(_ indices: [TensorIndex]) -> Tensor { indexed(indices) }
    /// Writes `value` into `self[indices]` in place (`Tensor.index_put_` / `x[indices] = value`).
    @discardableResult
    public func indexPut_(_ indices: [TensorIndex], _ value: Tensor) -> Tensor { indexAssign(indices, value); return self }
}
