// Matrix products: matmul for 1-D...N-D with batch broadcasting, on BLAS sgemm/dgemm.

/// Matrix product with NumPy/PyTorch semantics (`torch.matmul`, Python's `@`).
///
/// 1-D × 1-D is a dot product; a 1-D operand gets a dim prepended/appended and removed after;
/// batch dims broadcast. Shape mismatches stop with a message naming both shapes.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    check(a.rank >= 1 && b.rank >= 1, "matmul: both arguments need at least 1 dimension, got shapes \(a.shape) and \(b.shape)")
    if a.rank > 2 && b.rank == 2 {
        // `[..., m, k] @ [k, n]` (a Linear layer on a sequence): fold the batch dims into the rows, so that the forward
        // and both gradients are single 2-D products instead of one product per batch entry.
        check(a.shape[a.rank - 1] == b.shape[0],
              "matmul: shapes \(a.shape) and \(b.shape) cannot be multiplied (\(a.shape[a.rank - 2])x\(a.shape[a.rank - 1]) and \(b.shape[0])x\(b.shape[1]))")
        let lead = Array(a.shape.dropLast())
        let flat = a.reshape([lead.reduce(1, *), a.shape[a.rank - 1]])
        return matmul(flat, b).reshape(lead + [b.shape[1]])
    }
    let a2 = a.rank == 1 ? a.unsqueeze(0) : a
    let b2 = b.rank == 1 ? b.unsqueeze(1) : b
    let k = a2.shape[a2.rank - 1]
    check(k == b2.shape[b2.rank - 2],
          "matmul: shapes \(a.shape) and \(b.shape) cannot be multiplied (\(a2.shape[a2.rank - 2])x\(k) and \(b2.shape[b2.rank - 2])x\(b2.shape[b2.rank - 1]))")
    var out = batchedMatmul(a2, b2)
    if a.rank == 1 { out = out.squeeze(-2) }
    if b.rank == 1 { out = out.squeeze(-1) }
    return out
}

/// `[..., m, k] @ [..., k, n]` with broadcast batch dims; the one recorded op behind `matmul`.
func batchedMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    check(a.device == b.device, "matmul: expected both tensors on the same device, got \(a.device) and \(b.device)")
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let batch = Shape.broadcast(batchA, batchB, op: "matmul")
    let nb = batch.reduce(1, *)
    let dt = OpSupport.resultType(a, b)
    let ac = OpSupport.cast(a, dt), bc = OpSupport.cast(b, dt)
    // View both as 3-D [nb, rows, cols] (broadcast batches get stride 0 when possible).
    func as3D(_ t: Tensor, _ rows: Int, _ cols: Int) -> Tensor {
        let full = batch + [rows, cols]
        let st = Shape.broadcastStrides(t.shape, t.strides, to: full)
        let batchStrides = Array(st.dropLast(2))
        if batch.isEmpty { return t.aliased(ViewGeometry(shape: [1, rows, cols], strides: [0, st[st.count - 2], st[st.count - 1]], offset: t.offset)) }
        if let bs = Tensor.viewStrides(batch, batchStrides, [nb]) {
            return t.aliased(ViewGeometry(shape: [nb, rows, cols], strides: [bs[0], st[st.count - 2], st[st.count - 1]], offset: t.offset))
        }
        let e = t.aliased(ViewGeometry(shape: full, strides: st, offset: t.offset)).contiguousCopy()
        return e.reshapeNoGrad([nb, rows, cols])
    }
    let out = Tensor(empty: [nb, m, n], dtype: dt, device: a.device)
    a.backend.matmul(as3D(ac, m, k), as3D(bc, k, n), out: out)
    let result = out.reshapeNoGrad(batch + [m, n])
    guard isRecording(a, b) else { return result }
    let sa = a.shape, sb = b.shape
    return record(result, op: "MmBackward", inputs: [a, b], saving: [a, b], jvp: { t in
        var r: Tensor? = nil
        if let ta = t[0] { r = batchedMatmul(ta, b.detached()) }
        if let tb = t[1] { let q = batchedMatmul(a.detached(), tb); r = r.map { $0 + q } ?? q }
        return r!
    }) { g, _ in
        [a.requiresGradFlag || a.tangent != nil ? batchedMatmul(g[0], b.mT).sumTo(sa) : nil,
         b.requiresGradFlag || b.tangent != nil ? batchedMatmul(a.mT, g[0]).sumTo(sb) : nil]
    }
}

extension Tensor {
    /// `matmul(self, other)`.
    public func matmul(_ other: Tensor) -> Tensor { Nabla.matmul(self, other) }
    /// 2-D matrix product (`mm`).
    public func mm(_ other: Tensor) -> Tensor {
        check(rank == 2 && other.rank == 2, "mm: expected 2-D tensors, got shapes \(shape) and \(other.shape)")
        return Nabla.matmul(self, other)
    }
}

/// Batched matrix product of 3-D tensors (`torch.bmm`).
public func bmm(_ a: Tensor, _ b: Tensor) -> Tensor {
    check(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0],
          "bmm: expected 3-D tensors with equal batch sizes, got shapes \(a.shape) and \(b.shape)")
    return matmul(a, b)
}

/// 2-D matrix product (`torch.mm`).
public func mm(_ a: Tensor, _ b: Tensor) -> Tensor { a.mm(b) }

/// Inner product of two 1-D tensors (`torch.dot`).
public func dot(_ a: Tensor, _ b: Tensor) -> Tensor {
    check(a.rank == 1 && b.rank == 1 && a.shape == b.shape,
          "dot: expected two 1-D tensors of the same size, got shapes \(a.shape) and \(b.shape)")
    return matmul(a, b)
}

/// Outer product of two 1-D tensors (`torch.outer`).
public func outer(_ a: Tensor, _ b: Tensor) -> Tensor {
    check(a.rank == 1 && b.rank == 1, "outer: expected two 1-D tensors, got shapes \(a.shape) and \(b.shape)")
    return a.unsqueeze(1) * b.unsqueeze(0)
}

/// `beta * input + alpha * (mat1 @ mat2)` (`torch.addmm`).
///
/// With `beta == alpha == 1` and one floating dtype (a dense layer's `bias + x @ kernel`), `input` is broadcast
/// into the output first and the GEMM adds the product onto it: one pass less than a product and an add.
public func addmm(_ input: Tensor, _ mat1: Tensor, _ mat2: Tensor, beta: Double = 1, alpha: Double = 1) -> Tensor {
    check(mat1.rank == 2 && mat2.rank == 2, "addmm: expected 2-D matrices, got shapes \(mat1.shape) and \(mat2.shape)")
    let fused = beta == 1 && alpha == 1 && mat1.dtype.isFloatingPoint && mat1.dtype == mat2.dtype && input.dtype == mat1.dtype
        && mat1.device == mat2.device && input.device == mat1.device && input.rank <= 2
    guard fused else {
        let p = matmul(mat1, mat2)
        let scaledP = alpha == 1 ? p : p * alpha
        let scaledI = beta == 1 ? input : input * beta
        return scaledI + scaledP
    }
    let m = mat1.shape[0], k = mat1.shape[1], n = mat2.shape[1]
    check(k == mat2.shape[0], "addmm: shapes \(mat1.shape) and \(mat2.shape) cannot be multiplied (\(m)x\(k) and \(mat2.shape[0])x\(n))")
    check(Shape.broadcast(input.shape, [m, n], op: "addmm") == [m, n],
          "addmm: input of shape \(input.shape) cannot be broadcast to the product's shape [\(m), \(n)]")
    let out = addProductNoGrad(input, mat1, mat2)
    guard isRecording([input, mat1, mat2]) else { return out }
    let si = input.shape
    return record(out, op: "AddmmBackward", inputs: [input, mat1, mat2], saving: [mat1, mat2]) { g, _ in
        [input.requiresGradFlag || input.tangent != nil ? g[0].sumTo(si) : nil,
         mat1.requiresGradFlag || mat1.tangent != nil ? matmul(g[0], mat2.mT) : nil,
         mat2.requiresGradFlag || mat2.tangent != nil ? matmul(mat1.mT, g[0]) : nil]
    }
}

/// `base + a @ b` for 2-D `a [m, k]`, `b [k, n]` (any strides) and `base` broadcastable to `[m, n]` (or nil for
/// zeros), one floating dtype, no autograd: `base` is written into a new `[m, n]` tensor and the GEMM adds the
/// product onto it (beta = 1), so the sum costs no pass of its own. The forward of `addmm` and `linear`.
func addProductNoGrad(_ base: Tensor?, _ a: Tensor, _ b: Tensor) -> Tensor {
    let m = a.shape[0], n = b.shape[1]
    let out = Tensor(empty: [m, n], dtype: a.dtype, device: a.device)
    if m == 0 || n == 0 { return out }
    func as3D(_ t: Tensor) -> Tensor {
        t.aliased(ViewGeometry(shape: [1] + t.shape, strides: [0] + t.strides, offset: t.offset))
    }
    if let base {
        let strides = Shape.broadcastStrides(base.shape, base.strides, to: [m, n])
        out.backend.copy(base.aliased(ViewGeometry(shape: [m, n], strides: strides, offset: base.offset)), into: out)
        out.backend.matmulAccumulate(as3D(a), as3D(b), out: as3D(out))
    } else {
        out.backend.matmul(as3D(a), as3D(b), out: as3D(out))
    }
    return out
}
