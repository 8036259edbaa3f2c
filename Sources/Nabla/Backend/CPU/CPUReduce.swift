import CNablaKernels

extension CPUBackend {
    /// Calls `body(offsets)` once per line along `dim`, with each operand's element offset of the
    /// line's first element. Operands must share `shape` (their strides given in `strides`).
    @inline(__always)
    func forEachLine(shape: [Int], dim: Int, strides: [[Int]], offsets: [Int], _ body: (UnsafeMutableBufferPointer<Int>) -> Void) {
        var outer = shape
        outer[dim] = 1
        let loop = StridedLoop(shape: outer, strides: strides, offsets: offsets)
        var cur = [Int](repeating: 0, count: strides.count)
        cur.withUnsafeMutableBufferPointer { cp in
            loop.forRows(0..<loop.rows) { off, inc, n in
                for k in 0..<cp.count { cp[k] = off[k] }
                for _ in 0..<n {
                    body(cp)
                    for k in 0..<cp.count { cp[k] += inc[k] }
                }
                for k in 0..<cp.count { cp[k] -= inc[k] * n }
            }
        }
    }

    /// Reduces `x` over `dims` into `out` (keep-dim shape).
    public func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], out: Tensor) {
        if op == .sum && x.isContiguous && out.count == 1 {
            let n = Int64(x.count)
            switch x.dtype {
            case .float32:
                out.storage.pointer(Float.self)[out.offset] = Float(nabla_f32_sum(x.storage.pointer(Float.self) + x.offset, n)); return
            case .float64:
                out.storage.pointer(Double.self)[out.offset] = nabla_f64_sum(x.storage.pointer(Double.self) + x.offset, n); return
            default: break
            }
        }
        if op == .sum && x.dtype.isFloatingPoint && out.dtype.isFloatingPoint && x.isContiguous && out.isContiguous
            && !dims.isEmpty && dims.count < x.rank && dims.sorted() == Array(0..<dims.count) {
            columnSums(x, leading: dims.count, out: out); return
        }
        switch x.dtype {
        case .float32:
            switch op {
            case .sum: reduceLoop(x, out, Float.self, Double.self, 0, { $0 + Double($1) }, { $0 + $1 }, { Float($0) })
            case .prod: reduceLoop(x, out, Float.self, Double.self, 1, { $0 * Double($1) }, { $0 * $1 }, { Float($0) })
            case .max: reduceLoop(x, out, Float.self, Float.self, -.infinity, { $1 > $0 || $1.isNaN ? $1 : $0 }, { $1 > $0 || $1.isNaN ? $1 : $0 }, { $0 })
            case .min: reduceLoop(x, out, Float.self, Float.self, .infinity, { $1 < $0 || $1.isNaN ? $1 : $0 }, { $1 < $0 || $1.isNaN ? $1 : $0 }, { $0 })
            case .all: reduceLoop(x, out, Float.self, Bool.self, true, { $0 && $1 != 0 }, { $0 && $1 }, { $0 })
            case .any: reduceLoop(x, out, Float.self, Bool.self, false, { $0 || $1 != 0 }, { $0 || $1 }, { $0 })
            }
        case .float64:
            switch op {
            case .sum: reduceLoop(x, out, Double.self, Double.self, 0, { $0 + $1 }, { $0 + $1 }, { $0 })
            case .prod: reduceLoop(x, out, Double.self, Double.self, 1, { $0 * $1 }, { $0 * $1 }, { $0 })
            case .max: reduceLoop(x, out, Double.self, Double.self, -.infinity, { $1 > $0 || $1.isNaN ? $1 : $0 }, { $1 > $0 || $1.isNaN ? $1 : $0 }, { $0 })
            case .min: reduceLoop(x, out, Double.self, Double.self, .infinity, { $1 < $0 || $1.isNaN ? $1 : $0 }, { $1 < $0 || $1.isNaN ? $1 : $0 }, { $0 })
            case .all: reduceLoop(x, out, Double.self, Bool.self, true, { $0 && $1 != 0 }, { $0 && $1 }, { $0 })
            case .any: reduceLoop(x, out, Double.self, Bool.self, false, { $0 || $1 != 0 }, { $0 || $1 }, { $0 })
            }
        case .int32: reduceInt(op, x, out, Int32.self)
        case .int64: reduceInt(op, x, out, Int64.self)
        case .bool:
            switch op {
            case .sum: reduceLoop(x, out, Bool.self, Int64.self, 0, { $0 + ($1 ? 1 : 0) }, { $0 + $1 }, { $0 })
            case .prod, .min, .all: reduceLoop(x, out, Bool.self, Bool.self, true, { $0 && $1 }, { $0 && $1 }, { $0 })
            case .max, .any: reduceLoop(x, out, Bool.self, Bool.self, false, { $0 || $1 }, { $0 || $1 }, { $0 })
            }
        }
    }

    private func reduceInt<T: IntElement>(_ op: ReduceOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .sum: reduceLoop(x, out, T.self, Int64.self, 0, { $0 &+ Int64($1) }, { $0 &+ $1 }, { $0 })
        case .prod: reduceLoop(x, out, T.self, Int64.self, 1, { $0 &* Int64($1) }, { $0 &* $1 }, { $0 })
        case .max: reduceLoop(x, out, T.self, T.self, T.min, { Swift.max($0, $1) }, { Swift.max($0, $1) }, { $0 })
        case .min: reduceLoop(x, out, T.self, T.self, T.max, { Swift.min($0, $1) }, { Swift.min($0, $1) }, { $0 })
        case .all: reduceLoop(x, out, T.self, Bool.self, true, { $0 && $1 != 0 }, { $0 && $1 }, { $0 })
        case .any: reduceLoop(x, out, T.self, Bool.self, false, { $0 || $1 != 0 }, { $0 || $1 }, { $0 })
        }
    }

    /// Sum over the leading `leading` dims of a contiguous float tensor (the bias gradient of a linear layer):
    /// the tensor read as rows added into one row of double accumulators, row ranges on separate threads
    /// merged in order (reproducible, as `reduceLoop`).
    private func columnSums(_ x: Tensor, leading: Int, out: Tensor) {
        let rows = x.shape[..<leading].reduce(1, *), cols = x.count / max(rows, 1)
        let chunks = Parallel.chunks(work: x.count, items: rows)
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: max(cols, 1) * chunks)
        acc.initialize(repeating: 0, count: max(cols, 1) * chunks)
        defer { acc.deallocate() }
        let box = UncheckedBox(acc)
        Parallel.forEach(chunks) { c in
            let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
            if x.dtype == .float32 {
                nabla_f32_colsum_acc(x.storage.pointer(Float.self) + x.offset + lo * cols, Int64(hi - lo), Int64(cols), box.value + c * cols)
            } else {
                nabla_f64_colsum_acc(x.storage.pointer(Double.self) + x.offset + lo * cols, Int64(hi - lo), Int64(cols), box.value + c * cols)
            }
        }
        for c in 1..<max(chunks, 1) { for k in 0..<cols { acc[k] += acc[c * cols + k] } }
        if out.dtype == .float32 {
            let op = out.storage.pointer(Float.self) + out.offset
            for k in 0..<cols { op[k] = Float(acc[k]) }
        } else {
            let op = out.storage.pointer(Double.self) + out.offset
            for k in 0..<cols { op[k] = acc[k] }
        }
    }

    /// One pass over `x`; each element is combined into its output slot (stride 0 on reduced dims).
    /// Rows whose output slot is fixed accumulate in a register; the output is written in `O`.
    ///
    /// Large inputs are split into row ranges reduced on separate threads, each into its own accumulators,
    /// which are then merged in range order with `merge`: the split depends only on the sizes and the thread
    /// count, never on timing, so results are reproducible.
    @inline(__always)
    private func reduceLoop<T, A, O>(_ x: Tensor, _ out: Tensor, _: T.Type, _: A.Type, _ identity: A,
                                     _ combine: (A, T) -> A, _ merge: (A, A) -> A, _ finish: (A) -> O) {
        let n = out.count
        let xp = x.storage.pointer(T.self), op = out.storage.pointer(O.self)
        let accStrides = Shape.broadcastStrides(out.shape, Shape.contiguousStrides(out.shape), to: x.shape)
        let loop = StridedLoop(shape: x.shape, strides: [accStrides, x.strides], offsets: [0, x.offset])
        let rows = loop.rows
        let chunks = Parallel.chunks(work: x.count, items: rows)
        // Accumulators in A, contiguous over the output's elements, one set per chunk.
        let width = max(n, 1)
        let acc = UnsafeMutablePointer<A>.allocate(capacity: width * chunks)
        acc.initialize(repeating: identity, count: width * chunks)
        defer { acc.deinitialize(count: width * chunks); acc.deallocate() }
        let accBox = UncheckedBox(acc)
        Parallel.forEach(chunks) { c in
            let mine = accBox.value + c * width
            let range = (rows * c / chunks)..<(rows * (c + 1) / chunks)
            loop.forRows(range) { off, inc, len in
                var i = off[1]
                let ii = inc[1]
                if inc[0] == 0 {
                    var a = mine[off[0]]
                    for _ in 0..<len { a = combine(a, xp[i]); i += ii }
                    mine[off[0]] = a
                } else {
                    var o = off[0]
                    let io = inc[0]
                    for _ in 0..<len { mine[o] = combine(mine[o], xp[i]); o += io; i += ii }
                }
            }
        }
        for c in 1..<max(chunks, 1) { for k in 0..<n { acc[k] = merge(acc[k], acc[c * width + k]) } }
        // Write results into out (which may be strided).
        let outStrides = out.strides
        StridedLoop(shape: out.shape, strides: [outStrides, Shape.contiguousStrides(out.shape)], offsets: [out.offset, 0])
            .forRows(0..<StridedLoop(shape: out.shape, strides: [outStrides, Shape.contiguousStrides(out.shape)], offsets: [out.offset, 0]).rows) { off, inc, len in
                var o = off[0], a = off[1]
                for _ in 0..<len { op[o] = finish(acc[a]); o += inc[0]; a += inc[1] }
            }
    }

    /// Max/min along `dim` with first-occurrence int64 indices (NaN propagates, as PyTorch).
    public func argReduce(max isMax: Bool, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
        switch x.dtype {
        case .float32: argLoop(isMax, x, dim, values, indices, Float.self) { $0.isNaN }
        case .float64: argLoop(isMax, x, dim, values, indices, Double.self) { $0.isNaN }
        case .int32: argLoop(isMax, x, dim, values, indices, Int32.self) { _ in false }
        case .int64: argLoop(isMax, x, dim, values, indices, Int64.self) { _ in false }
        case .bool:
            let xi = Tensor(empty: x.shape, dtype: .int32, device: .cpu); copy(x, into: xi)
            let vi = Tensor(empty: values.shape, dtype: .int32, device: .cpu)
            argLoop(isMax, xi, dim, vi, indices, Int32.self) { _ in false }
            copy(vi, into: values)
        }
    }

    private func argLoop<T: Comparable>(_ isMax: Bool, _ x: Tensor, _ dim: Int, _ values: Tensor, _ indices: Tensor,
                                        _: T.Type, _ isNaN: (T) -> Bool) {
        let xp = x.storage.pointer(T.self), vp = values.storage.pointer(T.self), ip = indices.storage.pointer(Int64.self)
        let len = x.shape[dim], st = x.strides[dim]
        forEachLine(shape: x.shape, dim: dim,
                    strides: [x.strides, Shape.broadcastStrides(values.shape, values.strides, to: x.shape),
                              Shape.broadcastStrides(indices.shape, indices.strides, to: x.shape)],
                    offsets: [x.offset, values.offset, indices.offset]) { off in
            var best = xp[off[0]], bi = 0
            var p = off[0]
            if !isNaN(best) {
                for k in 1..<max(len, 1) {
                    p += st
                    let v = xp[p]
                    if isNaN(v) { best = v; bi = k; break }
                    if isMax ? v > best : v < best { best = v; bi = k }
                }
            }
            vp[off[1]] = best
            ip[off[2]] = Int64(bi)
        }
    }

    /// Cumulative sum or product along `dim`.
    public func scan(product: Bool, _ x: Tensor, dim: Int, out: Tensor) {
        switch x.dtype {
        case .float32: scanLoop(product, x, dim, out, Float.self)
        case .float64: scanLoop(product, x, dim, out, Double.self)
        case .int32: scanLoop(product, x, dim, out, Int32.self)
        case .int64: scanLoop(product, x, dim, out, Int64.self)
        case .bool: nablaFail("cumsum: bool input must be converted first")
        }
    }

    private func scanLoop<T: Numeric>(_ product: Bool, _ x: Tensor, _ dim: Int, _ out: Tensor, _: T.Type) {
        let xp = x.storage.pointer(T.self), op = out.storage.pointer(T.self)
        let len = x.shape[dim], xs = x.strides[dim], os = out.strides[dim]
        guard len > 0 else { return }
        forEachLine(shape: x.shape, dim: dim, strides: [x.strides, out.strides], offsets: [x.offset, out.offset]) { off in
            var acc: T = product ? 1 : 0
            var i = off[0], o = off[1]
            for _ in 0..<len {
                acc = product ? acc * xp[i] : acc + xp[i]
                op[o] = acc
                i += xs; o += os
            }
        }
    }

    /// Stable sort along `dim` (NaN sorts as the largest value, as PyTorch).
    public func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor) {
        switch x.dtype {
        case .float32: sortLoop(x, dim, descending, values, indices, Float.self) { $0.isNaN }
        case .float64: sortLoop(x, dim, descending, values, indices, Double.self) { $0.isNaN }
        case .int32: sortLoop(x, dim, descending, values, indices, Int32.self) { _ in false }
        case .int64: sortLoop(x, dim, descending, values, indices, Int64.self) { _ in false }
        case .bool:
            let xi = Tensor(empty: x.shape, dtype: .int32, device: .cpu); copy(x, into: xi)
            let vi = Tensor(empty: values.shape, dtype: .int32, device: .cpu)
            sortLoop(xi, dim, descending, vi, indices, Int32.self) { _ in false }
            copy(vi, into: values)
        }
    }

    private func sortLoop<T: Comparable>(_ x: Tensor, _ dim: Int, _ descending: Bool, _ values: Tensor, _ indices: Tensor,
                                         _: T.Type, _ isNaN: @escaping (T) -> Bool) {
        let xp = x.storage.pointer(T.self), vp = values.storage.pointer(T.self), ip = indices.storage.pointer(Int64.self)
        let len = x.shape[dim]
        let xs = x.strides[dim], vs = values.strides[dim], iS = indices.strides[dim]
        var idx = [Int](repeating: 0, count: len)
        var buf = [T]()
        buf.reserveCapacity(len)
        forEachLine(shape: x.shape, dim: dim, strides: [x.strides, values.strides, indices.strides],
                    offsets: [x.offset, values.offset, indices.offset]) { off in
            buf.removeAll(keepingCapacity: true)
            for k in 0..<len { buf.append(xp[off[0] + k * xs]); idx[k] = k }
            let less: (Int, Int) -> Bool = { a, b in
                let va = buf[a], vb = buf[b]
                let na = isNaN(va), nb = isNaN(vb)
                let lt: Bool
                if descending { lt = na ? !nb : (nb ? false : va > vb) }
                else { lt = na ? false : (nb ? true : va < vb) }
                if lt { return true }
                let gt: Bool
                if descending { gt = nb ? !na : (na ? false : vb > va) }
                else { gt = nb ? false : (na ? true : vb < va) }
                return gt ? false : a < b
            }
            idx.sort(by: less)
            for k in 0..<len {
                vp[off[1] + k * vs] = buf[idx[k]]
                ip[off[2] + k * iS] = Int64(idx[k])
            }
        }
    }
}
