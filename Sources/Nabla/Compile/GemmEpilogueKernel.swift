/// Runs a GEMM-epilogue node (`OpKind.gemmEpilogue`): the product one block of rows at a time, each block's bias,
/// GEMM and epilogue ops back to back, so the block is still in the cache when the epilogue reads it.
///
/// Every participant runs the backend call its node made in eager mode (the lowering the trace recorded), on views
/// of the block: the GEMM's left operand narrowed to the block's rows, the product and the epilogue's values as
/// `[rows, n]` matrices, other operands with their (broadcast) strides as `[rows, n]` matrices. Results therefore
/// equal eager's up to the GEMM's own rounding on a block of rows (identical where BLAS sums each dot product in the
/// same order, which it does when the block is the whole product). Values the node does not write out live in one
/// scratch block each.
///
/// The blocks run one after another: each GEMM call uses BLAS's own threads, and the element-wise calls split a
/// block over the kernel threads above their grain. BLAS is never called from inside the kernel thread pool
/// (a fork-join nested there runs on one thread), so the blocks themselves are not spread over threads. A group with no epilogue op is one block.
///
/// Each block's GEMM packs the right operand again (OpenBLAS's `sgemm_incopy`), a cost per block proportional to
/// `k·n` against the block's `rows·k·n` multiply-adds: the fraction of time spent repacking is about `c / rows`
/// whatever the shapes. Blocks therefore have at least `minimumRows` rows, and the rows are split evenly between
/// them (no thin last block). With blocks of 170 rows (a 1536-wide product at the old 64-row floor) repacking was
/// 6.3 % of a compiled BERT run against 1.8 % in eager mode. One GEMM over all rows into an output that can hold the
/// product (the ReLU's output, then the ReLU in place block by block) was tried and measured slower on W7's step
/// (139–142 against 128–130 ms per step, AMD EPYC under load): the epilogue's extra pass over a product that left
/// the cache cost more than the repacking it saved.
///
/// A group that is a linear layer's forward (`GemmEpilogue.linearLayerForm`: the bias, then a residual add, then a
/// ReLU) runs as one `Backend.linearEpilogue` call instead, as eager mode does: its default is these row blocks, and
/// the CPU backend does the epilogue in its own GEMM's store with the weight packed once, where that GEMM runs.
struct GemmEpilogueKernel {
    /// Product elements per block: 1 MiB of float32, so the block and the epilogue's operands stay in L2/L3.
    static let blockElements = 1 << 18
    /// Fewest rows per block (unless the product has fewer): narrower GEMM calls lose speed to packing the right
    /// operand again for each call.
    static let minimumRows = 512

    /// How one operand of the initializer or an epilogue op is viewed as a `[rows, n]` matrix.
    struct BlockOperand {
        /// Which value or input.
        var source: GemmEpilogue.Operand
        /// Elements between rows (0 when broadcast over rows).
        var rowStride: Int
        /// Elements between columns.
        var colStride: Int
    }

    let program: GemmEpilogue
    /// Rows and columns of the product.
    let m: Int, n: Int
    let initializerCall: NodeCall?
    let initializerOperands: [BlockOperand]
    let gemmCall: NodeCall
    let memberCalls: [NodeCall]
    let memberOperands: [[BlockOperand]]
    /// Element type of the product and of each epilogue op's result.
    let productDType: DType
    let memberDTypes: [DType]

    /// Value (`-1` the product, `k` epilogue op `k`) → index of the node's write holding it.
    private var outputIndex: [Int: Int] {
        var out: [Int: Int] = [:]
        for (i, o) in program.outputs.enumerated() {
            switch o {
            case .product: out[-1] = i
            case .member(let k): out[k] = i
            case .input: break
            }
        }
        return out
    }

    /// Rows per block of an `[m, n]` product: about `blockElements / n`, at least `minimumRows`, the `m` rows split
    /// evenly between blocks. The eager fused linear ops (`EagerEpilogue`) block their products the same way.
    static func rowsPerBlock(m: Int, n: Int) -> Int {
        let target = Swift.max(minimumRows, blockElements / Swift.max(n, 1))
        guard m > target else { return Swift.max(1, m) }
        let blocks = m / target                     // rounded down: every block has at least `target` rows
        return (m + blocks - 1) / blocks
    }

    /// Rows per block of this node's product.
    var rowsPerBlock: Int { Self.rowsPerBlock(m: m, n: n) }

    /// The node call.
    func call(_ backend: any Backend, _ args: NodeArgs) -> NodeResult {
        let inputs = args.reads.map { $0! }
        let outs = args.writes
        if let linear = linearLayer(inputs, outs) {
            backend.linearEpilogue(linear.input, weight: linear.weight, bias: linear.bias, residual: linear.residual,
                                   relu: linear.relu, out: outs[0])
            return NodeResult()
        }
        // A group with no epilogue op (a linear layer's bias alone) is one block: one GEMM accumulating onto the bias.
        let rows = memberCalls.isEmpty ? m : rowsPerBlock
        let written = outputIndex
        var scratch: [Int: Storage] = [:]
        for v in -1..<memberDTypes.count where written[v] == nil {
            scratch[v] = Storage.allocate(count: rows * n, dtype: v < 0 ? productDType : memberDTypes[v], backend: backend)
        }
        let a = inputs[0], b = inputs[1]
        for r0 in stride(from: 0, to: m, by: rows) {
            let len = Swift.min(rows, m - r0)
            func value(_ v: Int) -> Tensor {
                if let o = written[v] {
                    return Tensor(storage: outs[o].storage, shape: [len, n], strides: [n, 1], offset: outs[o].offset + r0 * n)
                }
                return Tensor(storage: scratch[v]!, shape: [len, n], strides: [n, 1], offset: 0)
            }
            func view(_ op: BlockOperand) -> Tensor {
                switch op.source {
                case .input(let k):
                    let t = inputs[k]
                    return Tensor(storage: t.storage, shape: [len, n], strides: [op.rowStride, op.colStride],
                                  offset: t.offset + r0 * op.rowStride)
                case .product: return value(-1)
                case .member(let k): return value(k)
                }
            }
            let product = value(-1)
            if let initializerCall {
                _ = initializerCall(backend, NodeArgs(reads: initializerOperands.map(view), writes: [product], context: nil, rule: nil))
            }
            let product3 = Tensor(storage: product.storage, shape: [1, len, n], strides: [len * n, n, 1], offset: product.offset)
            let aBlock = Tensor(storage: a.storage, shape: [1, len, a.shape[2]], strides: a.strides, offset: a.offset + r0 * a.strides[1])
            _ = gemmCall(backend, NodeArgs(reads: program.accumulate ? [aBlock, b, product3] : [aBlock, b], writes: [product3],
                                           context: nil, rule: nil))
            for (k, call) in memberCalls.enumerated() {
                _ = call(backend, NodeArgs(reads: memberOperands[k].map(view), writes: [value(k)], context: nil, rule: nil))
            }
        }
        return NodeResult()
    }

    /// The operands of `Backend.linearEpilogue` when this group is a linear layer's forward
    /// (`GemmEpilogue.linearLayerForm`) with a bias broadcast over the rows, so that a backend with a GEMM of its own
    /// runs it as one product with the epilogue in its store, as eager mode does; nil for any other group.
    private func linearLayer(_ inputs: [Tensor], _ outs: [Tensor])
        -> (input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool)? {
        guard let form = program.linearLayerForm, outs.count == 1, productDType.isFloatingPoint,
              memberDTypes.allSatisfy({ $0 == productDType }) else { return nil }
        let a = inputs[0], b = inputs[1]
        guard a.rank == 3, b.rank == 3, a.shape[0] == 1, b.shape[0] == 1, a.dtype == productDType, b.dtype == productDType
        else { return nil }
        /// Input operand `op` as a tensor of `shape` with the operand's strides.
        func view(_ op: BlockOperand, _ shape: [Int], _ strides: [Int]) -> Tensor? {
            guard case .input(let k) = op.source else { return nil }
            return Tensor(storage: inputs[k].storage, shape: shape, strides: strides, offset: inputs[k].offset)
        }
        var bias: Tensor?
        if program.initializer != nil {
            let op = initializerOperands[0]
            guard op.rowStride == 0, let t = view(op, [n], [op.colStride]) else { return nil }
            bias = t
        }
        var residual: Tensor?
        if form.residual {
            let args = memberOperands[0]
            let op = args[args[0].source == .product ? 1 : 0]
            residual = view(op, [m, n], [op.rowStride, op.colStride])
        }
        return (Tensor(storage: a.storage, shape: [m, a.shape[2]], strides: [a.strides[1], a.strides[2]], offset: a.offset),
                Tensor(storage: b.storage, shape: [n, b.shape[1]], strides: [b.strides[2], b.strides[1]], offset: b.offset),
                bias, residual, form.relu)
    }
}
