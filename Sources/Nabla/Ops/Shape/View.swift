// View ops: new shape/strides/offset over the same storage, never a copy. Each backward is a view or
// `viewScatter` of the gradient, so higher-order gradients flow through them.

/// The geometry of a view: shape, strides and offset (elements).
public struct ViewGeometry: Equatable, Sendable {
    /// Sizes.
    public var shape: [Int]
    /// Strides in elements.
    public var strides: [Int]
    /// Offset in elements.
    public var offset: Int
    /// Creates a geometry.
    public init(shape: [Int], strides: [Int], offset: Int) { self.shape = shape; self.strides = strides; self.offset = offset }
}

extension Tensor {
    /// A view of `self` with `geometry` (no copy, no autograd).
    @inline(__always) func aliased(_ g: ViewGeometry) -> Tensor {
        Tensor(storage: storage, shape: g.shape, strides: g.strides, offset: g.offset)
    }

    /// Records a view: `transform` maps a geometry to the view's; the backward scatters into zeros
    /// unless a cheaper `backward` is given.
    func makeView(_ op: String, _ transform: (ViewGeometry) -> ViewGeometry,
                  backward: BackwardFunction? = nil) -> Tensor {
        let out = aliased(transform(ViewGeometry(shape: shape, strides: strides, offset: offset)))
        out.viewBase = viewBase ?? self
        out.viewVersion = storage.version
        guard isRecording(self) else { return out }
        let inShape = shape
        if let backward {
            return record(out, op: op, inputs: [self], backward: backward)
        }
        let logical = transform(ViewGeometry(shape: inShape, strides: Shape.contiguousStrides(inShape), offset: 0))
        return record(out, op: op, inputs: [self]) { g, _ in [viewScatter(g[0], into: inShape, at: logical)] }
    }

    /// A view with the same data and `shape` (`view`); one dim may be -1. Traps if strides do not allow it.
    public func view(_ shape: [Int]) -> Tensor {
        let target = Tensor.inferShape(shape, count: count, op: "view")
        guard let st = Tensor.viewStrides(self.shape, strides, target) else {
            nablaFail("view: size \(self.shape) with strides \(strides) is not compatible with shape \(target): at least one dimension spans across two contiguous subspaces; use reshape() instead")
        }
        let inShape = self.shape
        return makeView("ViewBackward", { g in ViewGeometry(shape: target, strides: st, offset: g.offset) }) { g, _ in
            [g[0].reshape(inShape)]
        }
    }
    /// Variadic `view(2, 3)`.
    public func view(_ shape: Int...) -> Tensor { view(shape) }

    /// `view` when possible, else a contiguous copy reshaped (`reshape`).
    public func reshape(_ shape: [Int]) -> Tensor {
        let target = Tensor.inferShape(shape, count: count, op: "reshape")
        if target == self.shape { return self }
        if Tensor.viewStrides(self.shape, strides, target) != nil { return view(target) }
        return contiguous().view(target)
    }
    /// Variadic `reshape(2, 3)`.
    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }

    /// Flattens dims `startDim...endDim` into one (`flatten`).
    public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        if rank == 0 { return reshape([1]) }
        let s = Shape.normalize(startDim, rank, op: "flatten"), e = Shape.normalize(endDim, rank, op: "flatten")
        check(s <= e, "flatten: startDim \(startDim) must be before endDim \(endDim) for shape \(shape)")
        let merged = shape[s...e].reduce(1, *)
        return reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Reorders dims (`permute`).
    public func permute(_ dims: [Int]) -> Tensor {
        check(dims.count == rank, "permute: number of dims \(dims.count) doesn't match the tensor's \(rank) dims (shape \(shape))")
        let d = dims.map { Shape.normalize($0, rank, op: "permute") }
        check(Set(d).count == d.count, "permute: repeated dim in \(dims)")
        var inverse = [Int](repeating: 0, count: d.count)
        for (i, v) in d.enumerated() { inverse[v] = i }
        return makeView("PermuteBackward", { g in
            ViewGeometry(shape: d.map { g.shape[$0] }, strides: d.map { g.strides[$0] }, offset: g.offset)
        }) { g, _ in [g[0].permute(inverse)] }
    }
    /// Variadic `permute(0, 2, 1)`.
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }

    /// Swaps two dims (`transpose`).
    public func transpose(_ dim0: Int, _ dim1: Int) -> Tensor {
        let a = Shape.normalize(dim0, rank, op: "transpose"), b = Shape.normalize(dim1, rank, op: "transpose")
        if a == b || rank < 2 { return self }
        var p = Array(0..<rank); p.swapAt(a, b)
        return permute(p)
    }

    /// Transpose of a matrix, or `self` for 0-d and 1-d tensors (`t()`).
    public func t() -> Tensor {
        check(rank <= 2, "t: expects a tensor with <= 2 dimensions, but self is \(rank)D (shape \(shape))")
        return rank < 2 ? self : transpose(0, 1)
    }

    /// The matrix transpose of the last two dims (`mT`).
    public var mT: Tensor { transpose(-2, -1) }

    /// Broadcasts to `shape` without copying (`expand`); -1 keeps a dim.
    public func expand(_ shape: [Int]) -> Tensor {
        check(shape.count >= rank, "expand: the number of sizes provided (\(shape.count)) must be greater or equal to the number of dimensions in the tensor (\(rank))")
        let lead = shape.count - rank
        var target = shape
        for i in 0..<shape.count {
            if i >= lead {
                let s = self.shape[i - lead]
                if target[i] == -1 { target[i] = s }
                check(s == target[i] || s == 1, "expand: the expanded size of the tensor (\(target[i])) must match the existing size (\(s)) at non-singleton dimension \(i); target sizes \(shape), tensor sizes \(self.shape)")
            } else {
                check(target[i] >= 0, "expand: the expanded size \(target[i]) is not allowed in a leading, non-existing dimension \(i)")
            }
        }
        if target == self.shape { return self }
        let inShape = self.shape
        return makeView("ExpandBackward", { g in
            ViewGeometry(shape: target, strides: Shape.broadcastStrides(g.shape, g.strides, to: target), offset: g.offset)
        }) { g, _ in [g[0].sumTo(inShape)] }
    }
    /// Variadic `expand(3, 4)`.
    public func expand(_ shape: Int...) -> Tensor { expand(shape) }
    /// Expands to `other`'s shape (`expand_as`).
    public func expandAs(_ other: Tensor) -> Tensor { expand(other.shape) }

    /// Removes all size-1 dims, or only `dim` if it has size 1 (`squeeze`).
    public func squeeze(_ dim: Int? = nil) -> Tensor {
        var keep: [Int]
        if let dim {
            let d = Shape.normalize(dim, rank, op: "squeeze")
            if rank == 0 || shape[d] != 1 { return self }
            keep = Array(0..<rank); keep.remove(at: d)
        } else {
            keep = (0..<rank).filter { shape[$0] != 1 }
            if keep.count == rank { return self }
        }
        let inShape = shape
        return makeView("SqueezeBackward", { g in
            ViewGeometry(shape: keep.map { g.shape[$0] }, strides: keep.map { g.strides[$0] }, offset: g.offset)
        }) { g, _ in [g[0].reshape(inShape)] }
    }

    /// Inserts a size-1 dim at `dim` (`unsqueeze`).
    public func unsqueeze(_ dim: Int) -> Tensor {
        let d = Shape.normalize(dim, rank + 1, op: "unsqueeze")
        let inShape = shape
        return makeView("UnsqueezeBackward", { g in
            var sh = g.shape, st = g.strides
            let s = d < st.count ? st[d] * sh[d] : 1
            sh.insert(1, at: d); st.insert(s, at: d)
            return ViewGeometry(shape: sh, strides: st, offset: g.offset)
        }) { g, _ in [g[0].reshape(inShape)] }
    }

    /// The `length` elements from `start` along `dim` (`narrow`).
    public func narrow(_ dim: Int, start: Int, length: Int) -> Tensor {
        let d = Shape.normalize(dim, rank, op: "narrow")
        let st = start < 0 ? start + shape[d] : start
        check(st >= 0 && length >= 0 && st + length <= shape[d], "narrow: start (\(start)) + length (\(length)) exceeds dimension size (\(shape[d])) of dim \(d) for shape \(shape)")
        return makeView("NarrowBackward", { g in
            var sh = g.shape; sh[d] = length
            return ViewGeometry(shape: sh, strides: g.strides, offset: g.offset + st * g.strides[d])
        })
    }

    /// Element `index` along `dim`, removing the dim (`select`).
    public func select(_ dim: Int, _ index: Int) -> Tensor {
        let d = Shape.normalize(dim, rank, op: "select")
        let i = index < 0 ? index + shape[d] : index
        check(i >= 0 && i < shape[d], "select: index \(index) out of range for dimension \(d) with size \(shape[d])")
        return makeView("SelectBackward", { g in
            var sh = g.shape, stv = g.strides
            let off = g.offset + i * stv[d]
            sh.remove(at: d); stv.remove(at: d)
            return ViewGeometry(shape: sh, strides: stv, offset: off)
        })
    }

    /// Every `step`-th element of `start..<end` along `dim` (the slicing primitive).
    public func slice(_ dim: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let d = Shape.normalize(dim, rank, op: "slice")
        check(step > 0, "slice: step must be positive, got \(step)")
        let n = shape[d]
        func clampIndex(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + n : v, 0), n) }
        let s = clampIndex(start), e = Swift.max(clampIndex(end ?? n), s)
        let len = (e - s + step - 1) / step
        if s == 0 && len == n && step == 1 { return self }
        return makeView("SliceBackward", { g in
            var sh = g.shape, stv = g.strides
            let off = g.offset + s * stv[d]
            sh[d] = len; stv[d] *= step
            return ViewGeometry(shape: sh, strides: stv, offset: off)
        })
    }

    /// The diagonal of the last two dims... of `dim1`/`dim2` with `offset` (`diagonal`), as a view.
    public func diagonal(offset diagOffset: Int = 0, dim1: Int = 0, dim2: Int = 1) -> Tensor {
        let a = Shape.normalize(dim1, rank, op: "diagonal"), b = Shape.normalize(dim2, rank, op: "diagonal")
        check(a != b, "diagonal: dim1 and dim2 cannot be identical, got \(dim1) and \(dim2)")
        return makeView("DiagonalBackward", { g in
            var sh: [Int] = [], st: [Int] = []
            for i in 0..<g.shape.count where i != a && i != b { sh.append(g.shape[i]); st.append(g.strides[i]) }
            var off = g.offset
            let len: Int
            if diagOffset >= 0 { len = Swift.max(0, Swift.min(g.shape[a], g.shape[b] - diagOffset)); if len > 0 { off += diagOffset * g.strides[b] } }
            else { len = Swift.max(0, Swift.min(g.shape[a] + diagOffset, g.shape[b])); if len > 0 { off -= diagOffset * g.strides[a] } }
            sh.append(len); st.append(g.strides[a] + g.strides[b])
            return ViewGeometry(shape: sh, strides: st, offset: off)
        })
    }

    /// A contiguous tensor with the same values: `self` when already contiguous, else a copy (`contiguous`).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = contiguousCopy()
        guard isRecording(self) else { return out }
        return record(out, op: "CloneBackward", inputs: [self], jvp: { $0[0]! }) { g, _ in [g[0]] }
    }

    /// A copy with its own storage (`clone`), differentiable.
    public func clone() -> Tensor {
        let out = contiguousCopy()
        guard isRecording(self) else { return out }
        return record(out, op: "CloneBackward", inputs: [self], jvp: { $0[0]! }) { g, _ in [g[0]] }
    }

    // MARK: geometry helpers

    /// Resolves one -1 in `shape` for `count` elements; traps on an impossible shape.
    static func inferShape(_ shape: [Int], count: Int, op: StaticString) -> [Int] {
        var out = shape
        let unknown = shape.indices.filter { shape[$0] == -1 }
        check(unknown.count <= 1, "\(op): only one dimension can be inferred, got shape \(shape)")
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let u = unknown.first {
            check(known != 0 && count % known == 0, "\(op): shape \(shape) is invalid for input of size \(count)")
            out[u] = count / known
        }
        check(out.reduce(1, *) == count && !out.contains { $0 < 0 }, "\(op): shape \(shape) is invalid for input of size \(count)")
        return out
    }

    /// Strides for viewing `shape`/`strides` as `target` without copying, or nil (PyTorch's `computeStride`).
    static func viewStrides(_ shape: [Int], _ strides: [Int], _ target: [Int]) -> [Int]? {
        if shape.reduce(1, *) == 0 || shape == target { return shape == target ? strides : Shape.contiguousStrides(target) }
        if Shape.isContiguous(shape, strides) { return Shape.contiguousStrides(target) }
        var newStrides = [Int](repeating: 0, count: target.count)
        var viewD = target.count - 1
        var chunkBase = strides.last ?? 1
        var tensorNumel = 1, viewNumel = 1
        var d = shape.count - 1
        while d >= 0 {
            tensorNumel *= shape[d]
            if d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase) {
                while viewD >= 0 && (viewNumel < tensorNumel || target[viewD] == 1) {
                    newStrides[viewD] = viewNumel * chunkBase
                    viewNumel *= target[viewD]
                    viewD -= 1
                }
                if viewNumel != tensorNumel { return nil }
                if d > 0 { chunkBase = strides[d - 1]; tensorNumel = 1; viewNumel = 1 }
            }
            d -= 1
        }
        if viewD != -1 { return nil }
        return newStrides
    }

    /// A general view given explicit geometry relative to a contiguous layout of `self` (`as_strided`).
    public func asStrided(_ shape: [Int], _ strides: [Int], offset: Int = 0) -> Tensor {
        let base = contiguous()
        let inShape = base.shape
        let geom = ViewGeometry(shape: shape, strides: strides, offset: offset)
        let out = base.aliased(ViewGeometry(shape: shape, strides: strides, offset: base.offset + offset))
        out.viewBase = base.viewBase ?? base
        out.viewVersion = storage.version
        guard isRecording(base) else { return out }
        return record(out, op: "AsStridedBackward", inputs: [base]) { g, _ in [viewScatter(g[0], into: inShape, at: geom)] }
    }
}

/// Zeros of `shape` with `grad` added into the view `geometry` of a contiguous layout: the backward of a view.
/// Differentiable: its own backward reads the same view of the incoming gradient.
public func viewScatter(_ grad: Tensor, into shape: [Int], at geometry: ViewGeometry) -> Tensor {
    let out = Tensor.zeros(shape, dtype: grad.dtype, device: grad.device)
    let region = out.aliased(ViewGeometry(shape: geometry.shape, strides: geometry.strides, offset: geometry.offset))
    if geometry.strides.contains(0) {
        // Overlapping view: accumulate element by element.
        let idx = Tensor.arange(shape.reduce(1, *)).aliased(ViewGeometry(shape: geometry.shape, strides: geometry.strides, offset: geometry.offset))
        let flat = out.aliased(ViewGeometry(shape: [out.count], strides: [1], offset: 0))
        grad.backend.scatter(OpSupport.cast(grad, grad.dtype).contiguousNoGrad().reshapeNoGrad([grad.count]), dim: 0,
                             index: idx.contiguousCopy().reshapeNoGrad([grad.count]), out: flat, accumulate: true)
    } else {
        grad.backend.copy(grad, into: region)
    }
    guard isRecording(grad) else { return out }
    return record(out, op: "ViewScatterBackward", inputs: [grad]) { g, _ in
        [g[0].contiguous().asStrided(geometry.shape, geometry.strides, offset: geometry.offset)]
    }
}

extension Tensor {
    /// Reshape of a contiguous tensor without recording.
    func reshapeNoGrad(_ shape: [Int]) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: offset)
    }
}
