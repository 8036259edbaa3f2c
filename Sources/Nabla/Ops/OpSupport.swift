/// Shared plumbing of the op definitions: type promotion, output allocation, kernel calls without autograd.
enum OpSupport {
    /// The dtype category order PyTorch promotes by: bool < integer < floating.
    @inline(__always) static func category(_ d: DType) -> Int { d == .bool ? 0 : (d.isFloatingPoint ? 2 : 1) }

    /// `torch.result_type` for two tensors: 0-d tensors only raise the category, not the width.
    static func resultType(_ a: Tensor, _ b: Tensor) -> DType {
        let da = a.dtype, db = b.dtype
        if da == db { return da }
        let aDim = a.rank == 0, bDim = b.rank == 0
        if aDim != bDim {
            let (dimmed, zero) = aDim ? (db, da) : (da, db)
            if category(zero) <= category(dimmed) { return dimmed }
            return zero.isFloatingPoint ? .float32 : .int64
        }
        return da.promoted(with: db)
    }

    /// The dtype of `t op scalar`: integral scalars keep integer tensors integral, as Python ints do.
    @inline(__always) static func scalarResultType(_ t: DType, _ s: Double) -> DType {
        if t.isFloatingPoint { return t }
        if s == s.rounded() && Swift.abs(s) < 9.0e18 { return t == .bool ? .int64 : t }
        return .float32
    }

    /// `t` converted to `dtype` without recording.
    @inline(__always) static func cast(_ t: Tensor, _ dtype: DType) -> Tensor {
        if t.dtype == dtype { return t }
        let out = Tensor(empty: t.shape, dtype: dtype, device: t.device)
        t.backend.copy(t, into: out)
        return out
    }

    /// Runs a broadcasting binary kernel with promotion; no autograd.
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: StaticString) -> Tensor {
        let storageBackend = a.storage.backend
        check(storageBackend === b.storage.backend || a.device == b.device,
              "\(name): expected both tensors on the same device, got \(a.device) and \(b.device)")
        // Fast path: same dtype, same shape, `a` contiguous: the output shares a's shape and stride arrays.
        if a.dtype == b.dtype && Shape.same(a.shape, b.shape) && !op.returnsBool && a.isContiguous
            && !((op == .div || op == .atan2) && !a.dtype.isFloatingPoint) {
            // `a.backend` from the backend already read: one look-up for the storage and the kernel.
            let backend = AutogradState.flags.pointee.tracer.map { Tracer.recording($0, storageBackend) } ?? storageBackend
            let out = Tensor(storage: Storage.allocate(count: a.count, dtype: a.dtype, backend: backend), shape: a.shape, strides: a.strides)
            backend.binary(op, a, b, out: out)
            return out
        }
        let shape = Shape.broadcast(a.shape, b.shape, op: name)
        var dt = resultType(a, b)
        if (op == .div || op == .atan2) && !dt.isFloatingPoint { dt = .float32 }
        if op == .pow && !dt.isFloatingPoint && dt != .bool { /* integer pow stays integral */ }
        let compute = (op == .logicalAnd || op == .logicalOr || op == .logicalXor) && dt == .bool ? .bool : dt
        let out = Tensor(empty: shape, dtype: op.returnsBool ? .bool : compute, device: a.device)
        a.backend.binary(op, cast(a, compute), cast(b, compute), out: out)
        return out
    }

    /// Runs a scalar binary kernel; no autograd.
    @inline(__always)
    static func binaryScalar(_ op: BinaryOp, _ a: Tensor, _ s: Double, reversed: Bool, name: StaticString) -> Tensor {
        var dt = scalarResultType(a.dtype, s)
        if (op == .div || op == .atan2) && !dt.isFloatingPoint { dt = .float32 }
        let out: Tensor
        let backend = a.backend
        if dt == a.dtype && a.isContiguous && !op.returnsBool {
            out = Tensor(storage: Storage.allocate(count: a.count, dtype: dt, backend: backend), shape: a.shape, strides: a.strides)
        } else {
            out = Tensor(empty: a.shape, dtype: op.returnsBool ? .bool : dt, device: a.device)
        }
        backend.binaryScalar(op, cast(a, dt), s, reversed: reversed, out: out)
        return out
    }

    /// Runs a unary kernel (promoting integers for float-only ops); no autograd.
    static func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let compute = op.needsFloat ? x.dtype.floatingResult : x.dtype
        let out = Tensor(empty: x.shape, dtype: op.returnsBool ? .bool : compute, device: x.device)
        x.backend.unary(op, cast(x, compute), out: out)
        return out
    }
}

extension Tensor {
    /// Sums a broadcast gradient back to `shape` (the reverse of broadcasting).
    public func sumTo(_ shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        let (dims, lead) = Shape.reducedDims(from: self.shape, to: shape)
        var r = dims.isEmpty ? self : sum(dims: dims, keepDim: true)
        if lead > 0 || r.shape != shape { r = r.reshape(shape) }
        return r
    }
}
