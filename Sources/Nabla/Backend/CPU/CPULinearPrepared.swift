import CNablaKernels

// Inference linear layers with prepared weights on the CPU (`PreparedLinear`): a float32 weight is packed once into
// the panels of Nabla's GEMM kernel, and a product with at most `NABLA_LINEAR_SMALL_ROWS` rows (batch-1 inference)
// runs `nabla_f32_linear_small` over the panels, split across the kernel threads by output columns (their spinning
// pool's workers are awake between layers), so each core reads only its share of the weight (which can then stay in
// its L2 from call to call). OpenBLAS would repack the whole weight on every call and read it on one core.
// Larger products take the `linear` op (OpenBLAS).

extension CPUBackend {
    /// The transposed float32 weight packed for `nabla_f32_linear_small` (B = Wᵀ, inFeatures x outFeatures); nil for
    /// other dtypes.
    public func packLinearWeight(_ weight: Tensor) -> Tensor? {
        guard weight.dtype == .float32, weight.rank == 2, weight.count > 0 else { return nil }
        let n = weight.shape[0], k = weight.shape[1]
        let w = weight.contiguousNoGrad()
        let packed = Tensor(empty: [Int(nabla_f32_packed_size(Int64(k), Int64(n)))], dtype: .float32, device: .cpu)
        nabla_f32_pack_b(w.storage.pointer(Float.self) + w.offset, Int64(k), 1, Int64(k), Int64(n), packed.storage.pointer(Float.self))
        return packed
    }

    /// `nabla_f32_linear_small` for a few rows of float32 with a packed weight; the `linear` op otherwise.
    public func linear(_ x: Tensor, prepared: PreparedLinear, out: Tensor) {
        let m = x.shape[0], n = prepared.weight.shape[0], k = prepared.weight.shape[1]
        guard x.dtype == .float32, let packed = prepared.packed, m <= Int(NABLA_LINEAR_SMALL_ROWS), k > 0,
              x.isContiguous, out.isContiguous else {
            return compositeLinear(x, prepared: prepared, out: out)
        }
        let panels = (n + Int(NABLA_F32_PANEL) - 1) / Int(NABLA_F32_PANEL)
        let chunks = preparedChunks(work: m * k * n, items: panels)
        let xp = UnsafePointer(x.storage.pointer(Float.self) + x.offset), pp = UnsafePointer(packed.storage.pointer(Float.self))
        let bias = prepared.bias?.contiguousNoGrad()
        let bp = bias.map { UnsafePointer($0.storage.pointer(Float.self) + $0.offset) }
        let op = out.storage.pointer(Float.self) + out.offset
        withExtendedLifetime(bias) {
            Parallel.forEach(chunks) { c in
                let p0 = panels * c / chunks, p1 = panels * (c + 1) / chunks
                if p0 < p1 { nabla_f32_linear_small(xp, Int64(k), Int64(m), Int64(k), Int64(n), pp, bp, op, Int64(n), Int64(p0), Int64(p1)) }
            }
        }
    }
}
