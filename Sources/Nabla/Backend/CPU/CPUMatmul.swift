extension CPUBackend {
    /// How BLAS should read one matrix operand: transposed or not, and its leading dimension.
    struct MatrixLayout { var trans: Bool; var ld: Int }

    /// The BLAS layout of a `rows` × `cols` matrix with these strides: row-major with row stride `ld`, or (`trans`)
    /// column-major with column stride `ld`; nil when neither dim has unit stride.
    static func layout(rowStride rs: Int, colStride cs: Int, rows: Int, cols: Int) -> MatrixLayout? {
        if cs == 1 || cols == 1, rs >= max(1, cols) || rows == 1 { return MatrixLayout(trans: false, ld: rows == 1 ? max(1, cols) : rs) }
        if rs == 1 || rows == 1, cs >= max(1, rows) || cols == 1 { return MatrixLayout(trans: true, ld: cols == 1 ? max(1, rows) : cs) }
        return nil
    }

    /// The BLAS layout of the last two dims of `t` (rows x cols), or nil when neither is unit-stride.
    private static func layout(_ t: Tensor, rows: Int, cols: Int) -> MatrixLayout? {
        layout(rowStride: t.strides[1], colStride: t.strides[2], rows: rows, cols: cols)
    }

    /// Batched product of 3-D tensors: `out[i] = a[i] @ b[i]` (out contiguous; batch strides may be 0).
    public func matmul(_ a: Tensor, _ b: Tensor, out: Tensor) { gemm(a, b, out: out, beta: 0) }

    /// `out[i] += a[i] @ b[i]`: the GEMM reads `out` as its C operand (beta = 1), so a bias written into `out`
    /// beforehand costs no extra pass.
    public func matmulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor) { gemm(a, b, out: out, beta: 1) }

    /// `out[i] = a[i] @ b[i] + beta * out[i]` on BLAS for floats (beta 0 or 1).
    private func gemm(_ a: Tensor, _ b: Tensor, out: Tensor, beta: Double) {
        let batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2]
        if m == 0 || n == 0 || batch == 0 { return }
        if k == 0 { if beta == 0 { fill(out, value: 0) }; return }
        switch a.dtype {
        case .float32, .float64:
            var a = a, b = b
            var la = Self.layout(a, rows: m, cols: k)
            if la == nil { a = a.contiguousCopy(); la = Self.layout(a, rows: m, cols: k) }
            var lb = Self.layout(b, rows: k, cols: n)
            if lb == nil { b = b.contiguousCopy(); lb = Self.layout(b, rows: k, cols: n) }
            guard let la, let lb else { nablaFail("matmul: internal layout error") }
            // Fold the batch into M when b is shared and a's batches are stacked rows.
            var mm = m, bb = batch
            if batch > 1 && b.strides[0] == 0 && !la.trans && a.strides[0] == m * la.ld {
                mm = m * batch; bb = 1
            }
            if a.dtype == .float32 { blasBatch(Float.self, a, la, b, lb, out, m: mm, n: n, k: k, batches: bb, beta: beta) }
            else { blasBatch(Double.self, a, la, b, lb, out, m: mm, n: n, k: k, batches: bb, beta: beta) }
        case .int32: intMatmul(a, b, out, beta: beta, Int32.self)
        case .int64: intMatmul(a, b, out, beta: beta, Int64.self)
        case .bool: nablaFail("matmul: bool tensors are not supported; convert with .to(.int64) or .to(.float32)")
        }
    }

    /// `batches` BLAS products `out[i] = a[i] @ b[i] + beta * out[i]` of `m`×`k` by `k`×`n`, the operands read as
    /// `la` and `lb` say.
    private func blasBatch<T: BLASScalar>(_: T.Type, _ a: Tensor, _ la: MatrixLayout, _ b: Tensor, _ lb: MatrixLayout,
                                          _ out: Tensor, m: Int, n: Int, k: Int, batches: Int, beta: Double) {
        let ap = a.storage.pointer(T.self), bp = b.storage.pointer(T.self), op = out.storage.pointer(T.self)
        for i in 0..<batches {
            BLAS.gemm(transA: la.trans, transB: lb.trans, m: m, n: n, k: k, alpha: 1,
                      a: ap + a.offset + i * a.strides[0], lda: la.ld, b: bp + b.offset + i * b.strides[0], ldb: lb.ld,
                      beta: T(beta), c: op + out.offset + i * out.strides[0], ldc: n)
        }
    }

    private func intMatmul<T: IntElement>(_ a: Tensor, _ b: Tensor, _ out: Tensor, beta: Double, _: T.Type) {
        let ap = a.storage.pointer(T.self), bp = b.storage.pointer(T.self), op = out.storage.pointer(T.self)
        let batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2]
        for bi in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    let o = out.offset + bi * out.strides[0] + i * out.strides[1] + j * out.strides[2]
                    var s: T = beta == 0 ? 0 : op[o]
                    for p in 0..<k {
                        s &+= ap[a.offset + bi * a.strides[0] + i * a.strides[1] + p * a.strides[2]]
                            &* bp[b.offset + bi * b.strides[0] + p * b.strides[1] + j * b.strides[2]]
                    }
                    op[o] = s
                }
            }
        }
    }
}

extension Tensor {
    /// A contiguous copy made directly by the backend (no autograd).
    func contiguousCopy() -> Tensor {
        let out = Tensor(empty: shape, dtype: dtype, device: device)
        backend.copy(self, into: out)
        return out
    }
}
