import Nabla

// ONNX operators that move or select data without arithmetic: Reshape, Flatten, Transpose, Concat, Split, Slice,
// Gather, Squeeze, Unsqueeze, Shape, Expand, Constant, ConstantOfShape.

/// An int64 1-D tensor of `values`.
func int64Tensor(_ values: [Int]) -> Tensor { Tensor(shape: [values.count], data: values.map { Int64($0) }) }

/// Builds the kernel of a shape operator, or `nil` when `ctx.opType` is not one.
func shapeKernel(_ ctx: ONNXNodeContext, attributeTensor: (String) throws(ONNXError) -> Tensor?) throws(ONNXError) -> ONNXKernel? {
    switch ctx.opType {
    case "Reshape":
        try ctx.requireInputs(2)
        let allowZero = try ctx.int("allowzero", 0) != 0
        let fixed = try ctx.constantInts(1)
        return { xs in
            let x = try input(xs, 0, ctx)
            let spec = try fixed ?? runtimeInts(xs[1], ctx, what: "shape")
            return [x.reshape(try reshapeTarget(spec, x.shape, allowZero: allowZero, ctx))]
        }
    case "Flatten":
        try ctx.requireInputs(1)
        let axis = try ctx.int("axis", 1)
        return { xs in
            let x = try input(xs, 0, ctx)
            let a = axis < 0 ? axis + x.rank : axis
            guard a >= 0, a <= x.rank else { throw ctx.invalid("axis \(axis) is out of range for shape \(x.shape)") }
            return [x.reshape([x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])]
        }
    case "Transpose":
        try ctx.requireInputs(1)
        let perm = try ctx.ints("perm")
        return { xs in
            let x = try input(xs, 0, ctx)
            let p = perm ?? Array((0..<x.rank).reversed())
            guard p.count == x.rank, Set(p) == Set(0..<x.rank) else {
                throw ctx.invalid("perm \(p) is not a permutation of the \(x.rank) dims of shape \(x.shape)")
            }
            return [x.permute(p)]
        }
    case "Concat":
        try ctx.requireInputs(1)
        let axis = try ctx.int("axis", 0)
        return { xs in
            let parts = xs.compactMap { $0 }
            guard let first = parts.first, first.rank >= 1 else { throw ctx.invalid("needs at least one input of rank >= 1") }
            let a = try normalizeAxis(axis, rank: first.rank, ctx)
            for p in parts {
                var s1 = p.shape, s0 = first.shape
                guard p.rank == first.rank else { throw ctx.invalid("inputs of ranks \(first.rank) and \(p.rank) cannot be concatenated") }
                s1[a] = 0; s0[a] = 0
                guard s1 == s0 else { throw ctx.invalid("shapes \(first.shape) and \(p.shape) differ outside axis \(axis)") }
            }
            let dtype = parts.dropFirst().reduce(first.dtype) { $0.promoted(with: $1.dtype) }
            return [cat(parts.map { $0.dtype == dtype ? $0 : $0.to(dtype) }, dim: a)]
        }
    case "Split":
        try ctx.requireInputs(1)
        let axis = try ctx.int("axis", 0)
        let attrSplit = try ctx.ints("split")
        let constSplit = try ctx.constantInts(1)
        let numOutputs = try ctx.int("num_outputs", ctx.outputCount)
        return { xs in
            let x = try input(xs, 0, ctx)
            let a = try normalizeAxis(axis, rank: x.rank, ctx)
            let n = x.shape[a]
            var sizes: [Int]
            if let s = constSplit ?? attrSplit {
                sizes = s
            } else if xs.count > 1, let t = xs[1] {
                sizes = try runtimeInts(t, ctx, what: "split")
            } else {
                guard numOutputs > 0 else { throw ctx.invalid("no split sizes and no outputs") }
                let chunk = (n + numOutputs - 1) / numOutputs
                sizes = (0..<numOutputs).map { i in max(0, min(chunk, n - i * chunk)) }
            }
            guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == n else {
                throw ctx.invalid("split sizes \(sizes) do not add up to \(n), the size of axis \(axis) of shape \(x.shape)")
            }
            return split(x, sizes: sizes, dim: a)
        }
    case "Slice":
        try ctx.requireInputs(3)
        let consts = try (1..<5).map { i throws(ONNXError) in try ctx.constantInts(i) }
        return { xs in
            let x = try input(xs, 0, ctx)
            func ints(_ i: Int, _ what: String) throws -> [Int]? {
                if let c = consts[i - 1] { return c }
                guard i < xs.count, let t = xs[i] else { return nil }
                return try runtimeInts(t, ctx, what: what)
            }
            guard let starts = try ints(1, "starts"), let ends = try ints(2, "ends") else { throw ctx.invalid("missing starts or ends") }
            let axes = try ints(3, "axes") ?? Array(0..<starts.count)
            let steps = try ints(4, "steps") ?? Array(repeating: 1, count: starts.count)
            guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
                throw ctx.invalid("starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
            }
            var y = x
            for k in 0..<starts.count {
                let a = try normalizeAxis(axes[k], rank: x.rank, ctx), n = x.shape[a], step = steps[k]
                guard step > 0 else { throw ctx.invalid("step \(step) is not supported (only positive steps)") }
                func clampIndex(_ v: Int) -> Int { min(max(v < 0 ? v + n : v, 0), n) }
                let s = clampIndex(starts[k]), e = max(clampIndex(ends[k]), s)
                if s == 0 && e == n && step == 1 { continue }
                y = y.slice(a, start: s, end: e, step: step)
            }
            return [y]
        }
    case "Gather":
        try ctx.requireInputs(2)
        let axis = try ctx.int("axis", 0)
        let embeddingTable = ctx.constants[0].flatMap { $0.rank == 2 && axis == 0 ? $0 : nil }
        return { xs in
            let x = try input(xs, 0, ctx), idx = try input(xs, 1, ctx)
            guard idx.dtype.isInteger else { throw ctx.invalid("indices must be integers, got \(idx.dtype)") }
            let a = try normalizeAxis(axis, rank: x.rank, ctx), n = x.shape[a]
            let values = idx.toIntArray()
            for v in values where v < -n || v >= n {
                throw ctx.invalid("index \(v) is out of range for axis \(a) of size \(n) (shape \(x.shape))")
            }
            if let w = embeddingTable, idx.rank >= 1 { return [embedding(idx.dtype == .int64 ? idx : idx.to(.int64), w)] }
            let flat = int64Tensor(values.map { $0 < 0 ? $0 + n : $0 })
            let picked = indexSelect(x, dim: a, index: flat)
            return [picked.reshape(Array(x.shape[..<a]) + idx.shape + Array(x.shape[(a + 1)...]))]
        }
    case "Squeeze", "Unsqueeze":
        try ctx.requireInputs(1)
        let attrAxes = try ctx.ints("axes")
        let constAxes = try ctx.constantInts(1)
        let squeeze = ctx.opType == "Squeeze"
        return { xs in
            let x = try input(xs, 0, ctx)
            var axes = constAxes ?? attrAxes
            if axes == nil, xs.count > 1, let t = xs[1] { axes = try runtimeInts(t, ctx, what: "axes") }
            if squeeze {
                let dims = try (axes ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { a throws(ONNXError) in
                    try normalizeAxis(a, rank: x.rank, ctx)
                }
                for d in dims where x.shape[d] != 1 { throw ctx.invalid("cannot squeeze axis \(d) of size \(x.shape[d]) (shape \(x.shape))") }
                return [x.reshape(x.shape.indices.filter { !dims.contains($0) }.map { x.shape[$0] })]
            }
            guard let axes else { throw ctx.invalid("missing axes") }
            let outRank = x.rank + axes.count
            let dims = try axes.map { a throws(ONNXError) in try normalizeAxis(a, rank: outRank, ctx) }
            guard Set(dims).count == dims.count else { throw ctx.invalid("repeated axes \(axes)") }
            var shape: [Int] = [], j = 0
            for i in 0..<outRank {
                if dims.contains(i) { shape.append(1) } else { shape.append(x.shape[j]); j += 1 }
            }
            return [x.reshape(shape)]
        }
    case "Shape":
        try ctx.requireInputs(1)
        let start = try ctx.int("start", 0), end = try ctx.int("end", Int.max)
        return { xs in
            let x = try input(xs, 0, ctx), r = x.rank
            func clampDim(_ v: Int) -> Int { min(max(v < 0 ? v + r : v, 0), r) }
            let s = clampDim(start), e = max(clampDim(end), s)
            return [int64Tensor(Array(x.shape[s..<e]))]
        }
    case "Size":
        try ctx.requireInputs(1)
        return { xs in [Tensor.scalar(Double(try input(xs, 0, ctx).count), dtype: .int64)] }
    case "Expand":
        try ctx.requireInputs(2)
        let fixed = try ctx.constantInts(1)
        return { xs in
            let x = try input(xs, 0, ctx)
            let spec = try fixed ?? runtimeInts(xs[1], ctx, what: "shape")
            let target: [Int]
            do { target = try Shape.broadcastThrowing(x.shape, spec, op: "Expand") } catch {
                throw ctx.invalid("shape \(x.shape) cannot be expanded to \(spec)")
            }
            guard let n = checkedProduct(target), n <= 1 << 28 else { throw ctx.invalid("expanded shape \(target) is too large") }
            return [x.shape == target ? x : x.expand(target)]
        }
    case "Constant":
        for key in ["value", "value_float", "value_floats", "value_int", "value_ints"] where ctx.attributes[key] != nil {
            let t: Tensor
            switch key {
            case "value":
                guard let v = try attributeTensor("value") else { throw ctx.invalid("attribute 'value' is not a tensor") }
                t = v
            case "value_float": t = Tensor.scalar(try ctx.float(key, 0))
            case "value_floats": t = Tensor(shape: [try ctx.floats(key)?.count ?? 0], data: try ctx.floats(key) ?? [])
            case "value_int": t = Tensor.scalar(Double(try ctx.int(key, 0)), dtype: .int64)
            default: t = int64Tensor(try ctx.ints(key) ?? [])
            }
            return { _ in [t] }
        }
        throw ctx.invalid("no supported value attribute (sparse and string constants are not supported)")
    case "ConstantOfShape":
        try ctx.requireInputs(1)
        let value = try attributeTensor("value") ?? Tensor(shape: [1], data: [Float(0)])
        guard value.count == 1 else { throw ctx.invalid("value must hold one element, got shape \(value.shape)") }
        let v = value.reshape([]).item(), dtype = value.dtype
        return { xs in
            let shape = try runtimeInts(xs[0], ctx, what: "shape")
            guard let n = checkedProduct(shape), n <= 1 << 28 else {
                throw ctx.invalid("invalid shape \(shape)")
            }
            return [Tensor.full(shape, v, dtype: dtype)]
        }
    default:
        return nil
    }
}

/// The product of `dims`, or `nil` when it overflows or exceeds 2^40 elements (no tensor that large is real).
func checkedProduct(_ dims: [Int]) -> Int? {
    var p = 1
    for d in dims {
        guard d >= 0 else { return nil }
        let (m, o) = p.multipliedReportingOverflow(by: d)
        guard !o, m <= 1 << 40 else { return nil }
        p = m
    }
    return p
}

/// ONNX Reshape's target: 0 copies the input's dim (unless `allowZero`), -1 is inferred.
func reshapeTarget(_ spec: [Int], _ shape: [Int], allowZero: Bool, _ ctx: ONNXNodeContext) throws(ONNXError) -> [Int] {
    var out = spec
    var inferred: Int?
    for (i, d) in spec.enumerated() {
        if d == 0 && !allowZero {
            guard i < shape.count else { throw ctx.invalid("shape \(spec) copies dim \(i) of shape \(shape), which has none") }
            out[i] = shape[i]
        } else if d == -1 {
            guard inferred == nil else { throw ctx.invalid("shape \(spec) has more than one -1") }
            inferred = i
        } else if d < 0 {
            throw ctx.invalid("invalid shape \(spec)")
        }
    }
    let total = shape.reduce(1, *)
    if let i = inferred {
        guard let known = checkedProduct(out.enumerated().filter { $0.offset != i }.map(\.element)), known > 0,
              total % known == 0 else { throw ctx.invalid("cannot reshape \(shape) into \(spec)") }
        out[i] = total / known
    }
    guard checkedProduct(out) == total else { throw ctx.invalid("cannot reshape \(shape) (\(total) elements) into \(spec)") }
    return out
}
