// The default `Backend.linearEpilogue`: a linear layer's GEMM with its bias, residual and ReLU, run through the
// backend's plain ops in blocks of rows (`EagerEpilogue`), so that every backend has the fused linear ops.

extension Backend {
    /// Default: with neither residual nor ReLU, the bias written into `out` and one GEMM adding the product onto it
    /// (beta = 1); otherwise `EagerEpilogue.product` in blocks of rows, each block's residual add and ReLU right after
    /// its GEMM, while the block is in the cache.
    public func linearEpilogue(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool, out: Tensor) {
        EagerEpilogue.linear(input, weight: weight, bias: bias, residual: residual, relu: relu, out: out)
    }
}

/// The blocked product behind the fused linear ops, in the row blocks of the compiled `GemmEpilogueKernel`
/// (`GemmEpilogueKernel.rowsPerBlock`).
package enum EagerEpilogue {
    /// Whether a trace (`compile`, ONNX export) is recording backend calls.
    package static var tracing: Bool { AutogradState.flags.pointee.tracer != nil }

    /// `bias` (`[n]`) viewed as `[rows, n]` (a row stride of 0).
    package static func broadcastRows(_ bias: Tensor, _ rows: Int) -> Tensor {
        bias.aliased(ViewGeometry(shape: [rows, bias.shape[0]], strides: [0, bias.strides[0]], offset: bias.offset))
    }

    /// Writes `bias` into every row of `block`.
    package static func copyRows(_ bias: Tensor, into block: Tensor) {
        block.backend.copy(broadcastRows(bias, block.shape[0]), into: block)
    }

    /// `Backend.linearEpilogue` on the backend's plain ops (its default, and the CPU backend's where its own GEMM
    /// does not run).
    package static func linear(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool, out: Tensor) {
        let backend = out.backend
        guard residual != nil || relu else {
            let m = input.shape[0], k = input.shape[1], n = weight.shape[0]
            guard m > 0 && n > 0 else { return }
            let a = input.aliased(ViewGeometry(shape: [1, m, k], strides: [0] + input.strides, offset: input.offset))
            let wt = transposed(weight)
            let c = out.aliased(ViewGeometry(shape: [1, m, n], strides: [0, n, 1], offset: out.offset))
            if let bias {
                copyRows(bias, into: out)
                backend.matmulAccumulate(a, wt, out: c)
            } else {
                backend.matmul(a, wt, out: c)
            }
            return
        }
        let outF = weight.shape[0]
        product(input, weight, out: out, base: bias.map { b in { block, _ in copyRows(b, into: block) } }, epilogue: { block, rows in
            if let residual {
                let r = residual.aliased(ViewGeometry(shape: [rows.count, outF], strides: residual.strides,
                                                      offset: residual.offset + rows.lowerBound * residual.strides[0]))
                backend.binary(.add, block, r, out: block)
            }
            if relu { backend.unary(.relu, block, out: block) }
        })
    }

    /// `weight` (`[n, k]`) as the GEMM's right operand `[1, k, n]`, a view.
    static func transposed(_ weight: Tensor) -> Tensor {
        weight.aliased(ViewGeometry(shape: [1, weight.shape[1], weight.shape[0]], strides: [0, weight.strides[1], weight.strides[0]],
                                    offset: weight.offset))
    }

    /// `out = base + input @ weightᵀ`, then `epilogue(out)`, over blocks of rows: for each block, `base(block, rows)`
    /// writes its starting value and the GEMM adds the product onto it (beta = 1; without `base` the GEMM writes
    /// over it), then `epilogue(block, rows)` runs in place while the block is in the cache. `input` is `[m, k]` (any
    /// strides), `weight` `[n, k]`, `out` a new contiguous `[m, n]`; one floating dtype, no autograd.
    static func product(_ input: Tensor, _ weight: Tensor, out: Tensor, base: ((Tensor, Range<Int>) -> Void)?,
                        epilogue: (Tensor, Range<Int>) -> Void) {
        let m = input.shape[0], k = input.shape[1], n = weight.shape[0]
        guard m > 0 && n > 0 else { return }
        let backend = out.backend
        let wt = transposed(weight)
        let rows = GemmEpilogueKernel.rowsPerBlock(m: m, n: n)
        for r0 in stride(from: 0, to: m, by: rows) {
            let len = Swift.min(rows, m - r0)
            let block = out.aliased(ViewGeometry(shape: [len, n], strides: [n, 1], offset: out.offset + r0 * n))
            let a = input.aliased(ViewGeometry(shape: [1, len, k], strides: [0, input.strides[0], input.strides[1]],
                                               offset: input.offset + r0 * input.strides[0]))
            let c = out.aliased(ViewGeometry(shape: [1, len, n], strides: [0, n, 1], offset: out.offset + r0 * n))
            if let base {
                base(block, r0..<(r0 + len))
                backend.matmulAccumulate(a, wt, out: c)
            } else {
                backend.matmul(a, wt, out: c)
            }
            epilogue(block, r0..<(r0 + len))
        }
    }
}
