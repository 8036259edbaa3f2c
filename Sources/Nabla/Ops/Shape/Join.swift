// Joining tensors: cat and stack, with backward by narrowing the gradient.

/// Concatenates tensors along `dim` (`torch.cat`); all other dims must match.
public func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
    check(!tensors.isEmpty, "cat: expected a non-empty list of tensors")
    let parts = tensors.filter { !($0.rank == 1 && $0.shape[0] == 0) }
    guard let first = parts.first else { return tensors[0] }
    let d = Shape.normalize(dim, first.rank, op: "cat")
    var dt = first.dtype
    for (i, t) in parts.enumerated() {
        check(t.rank == first.rank, "cat: tensors must have the same number of dimensions: got \(first.rank) and \(t.rank) (tensor \(i), shapes \(first.shape) and \(t.shape))")
        for j in 0..<t.rank where j != d {
            check(t.shape[j] == first.shape[j], "cat: sizes of tensors must match except in dimension \(d): expected size \(first.shape[j]) but got size \(t.shape[j]) for tensor \(i) in dimension \(j) (shapes \(first.shape) and \(t.shape))")
        }
        check(t.device == first.device, "cat: all tensors must be on the same device, got \(first.device) and \(t.device)")
        dt = dt.promoted(with: t.dtype)
    }
    var outShape = first.shape
    outShape[d] = parts.reduce(0) { $0 + $1.shape[d] }
    let out = Tensor(empty: outShape, dtype: dt, device: first.device)
    var start = 0
    var sizes: [Int] = []
    for t in parts {
        let len = t.shape[d]
        var g = ViewGeometry(shape: out.shape, strides: out.strides, offset: start * out.strides[d])
        g.shape[d] = len
        first.backend.copy(t, into: out.aliased(g))
        start += len
        sizes.append(len)
    }
    guard isRecording(parts) else { return out }
    let shapes = parts.map(\.shape)
    return record(out, op: "CatBackward", inputs: parts) { g, _ in
        var s = 0
        return zip(sizes, shapes).map { len, shp in
            defer { s += len }
            return g[0].narrow(d, start: s, length: len).reshape(shp)
        }
    }
}

/// Stacks same-shaped tensors along a new `dim` (`torch.stack`).
public func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
    check(!tensors.isEmpty, "stack: expected a non-empty list of tensors")
    let s = tensors[0].shape
    for (i, t) in tensors.enumerated() {
        check(t.shape == s, "stack: expects each tensor to be equal size, but got \(s) at entry 0 and \(t.shape) at entry \(i)")
    }
    let d = Shape.normalize(dim, s.count + 1, op: "stack")
    return cat(tensors.map { $0.unsqueeze(d) }, dim: d)
}
