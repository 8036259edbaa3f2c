extension CPUBackend {
    /// `Backend.linearEpilogue` on Nabla's own GEMM where it runs (`BlockedGemm`: float32 on AMD CPUs, the
    /// products it is measured faster on): one product whose register tiles add the bias to their sums on the first
    /// block of k and the residual and ReLU on the last, as they store them. That saves the passes over memory for
    /// the bias rows, the residual and the ReLU, and packs the weight once where the blocked default packed it again
    /// for every block of rows. Elsewhere the default (`EagerEpilogue`).
    public func linearEpilogue(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool, out: Tensor) {
        counter.bump(.linearEpilogue)
        let m = input.shape[0], k = input.shape[1], n = weight.shape[0]
        let threads = BLAS.threads
        guard input.dtype == .float32, weight.dtype == .float32, m > 0, n > 0, k > 0,
              bias.map({ $0.dtype == .float32 && ($0.strides[0] == 1 || n == 1) }) ?? true,
              residual.map({ $0.dtype == .float32 && ($0.strides[1] == 1 || n == 1) }) ?? true,
              let a = Self.layout(rowStride: input.strides[0], colStride: input.strides[1], rows: m, cols: k),
              // op(B) = weightᵀ, [k, n]: weight's rows read as columns.
              let b = Self.layout(rowStride: weight.strides[0], colStride: weight.strides[1], rows: n, cols: k)
                .map({ MatrixLayout(trans: !$0.trans, ld: $0.ld) }),
              BlockedGemm.takes(transA: a.trans, m: m, n: n, k: k, lda: a.ld, threads: threads)
        else {
            EagerEpilogue.linear(input, weight: weight, bias: bias, residual: residual, relu: relu, out: out)
            return
        }
        let f = Float.self
        let epilogue = BlockedGemm.Epilogue(bias: bias.map { UnsafePointer($0.storage.pointer(f) + $0.offset) },
                                            residual: residual.map { UnsafePointer($0.storage.pointer(f) + $0.offset) },
                                            ldr: residual?.strides[0] ?? 0, relu: relu)
        BlockedGemm.gemm(transA: a.trans, transB: b.trans, m: m, n: n, k: k, alpha: 1,
                         a: input.storage.pointer(f) + input.offset, lda: a.ld, b: weight.storage.pointer(f) + weight.offset,
                         ldb: b.ld, c: out.storage.pointer(f) + out.offset, ldc: n, epilogue: epilogue, threads: threads)
    }
}
