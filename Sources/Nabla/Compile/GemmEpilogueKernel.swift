/// Runs a GEMM-epilogue node (`OpKind.gemmEpilogue`): the epilogue one block of rows at a time, so each block is
/// still in the cache when the next epilogue op reads it. The product comes from one GEMM over all rows when one of
/// the node's writes can hold it (`productHome`: its own write, or the write of an op after the product's last
/// reader), so the right operand is packed once; else each block's bias and GEMM run just before its epilogue, into
/// scratch. A group with no epilogue op (a bias) is one block.
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
/// (DESIGN §11), so the blocks themselves are not spread over threads.
struct GemmEpilogueKernel {
    /// Product elements per block: 1 MiB of float32, so the block and the epilogue's operands stay in L2/L3.
    static let blockElements = 1 << 18
    /// Fewest rows per block: narrower GEMM calls lose speed to packing the right operand again for each call.
    static let minimumRows = 64

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

    /// Rows per block.
    var rowsPerBlock: Int { Swift.max(1, Swift.min(m, Swift.max(Self.minimumRows, Self.blockElements / Swift.max(n, 1)))) }

    /// The write that can hold the whole product, so one GEMM over all rows computes it before the epilogue runs
    /// block by block: the product's own write, else the write of the epilogue op `k` (of the product's dtype) after
    /// which no op reads the product (op `k` then overwrites each block's product only once its readers ran). Nil
    /// when neither exists: the product then goes block by block into scratch, a GEMM per block. A GEMM per block
    /// packs the right operand again for every block; a bias-only group (no epilogue op) is one block anyway.
    var productHome: Int? {
        let out = outputIndex
        if let o = out[-1] { return o }
        let lastReader = memberOperands.lastIndex { $0.contains { $0.source == .product } } ?? -1
        for k in memberDTypes.indices where k >= lastReader && memberDTypes[k] == productDType {
            if let o = out[k] { return o }
        }
        return nil
    }

    /// The node call.
    func call(_ backend: any Backend, _ args: NodeArgs) -> NodeResult {
        let inputs = args.reads.map { $0! }
        let outs = args.writes
        let rows = memberCalls.isEmpty ? m : rowsPerBlock
        let written = outputIndex
        let home = m > rows ? productHome : nil
        var scratch: [Int: Storage] = [:]
        for v in -1..<memberDTypes.count where written[v] == nil && !(v == -1 && home != nil) {
            scratch[v] = Storage.allocate(count: rows * n, dtype: v < 0 ? productDType : memberDTypes[v], backend: backend)
        }
        let a = inputs[0], b = inputs[1]
        // The whole product first when it has a home (initializer over all rows, one GEMM); the blocks below then run
        // only the epilogue.
        if let o = home {
            let product = Tensor(storage: outs[o].storage, shape: [m, n], strides: [n, 1], offset: outs[o].offset)
            if let initializerCall {
                let whole = initializerOperands.map { op -> Tensor in
                    switch op.source {
                    case .input(let k):
                        let t = inputs[k]
                        return Tensor(storage: t.storage, shape: [m, n], strides: [op.rowStride, op.colStride], offset: t.offset)
                    case .product, .member: return product
                    }
                }
                _ = initializerCall(backend, NodeArgs(reads: whole, writes: [product], context: nil, rule: nil))
            }
            let product3 = Tensor(storage: product.storage, shape: [1, m, n], strides: [m * n, n, 1], offset: product.offset)
            _ = gemmCall(backend, NodeArgs(reads: program.accumulate ? [a, b, product3] : [a, b], writes: [product3], context: nil, rule: nil))
        }
        for r0 in stride(from: 0, to: m, by: rows) {
            let len = Swift.min(rows, m - r0)
            func value(_ v: Int) -> Tensor {
                if let o = v < 0 ? home ?? written[v] : written[v] {
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
            if home == nil {
                let product = value(-1)
                if let initializerCall {
                    _ = initializerCall(backend, NodeArgs(reads: initializerOperands.map(view), writes: [product], context: nil, rule: nil))
                }
                let product3 = Tensor(storage: product.storage, shape: [1, len, n], strides: [len * n, n, 1], offset: product.offset)
                let aBlock = Tensor(storage: a.storage, shape: [1, len, a.shape[2]], strides: a.strides, offset: a.offset + r0 * a.strides[1])
                _ = gemmCall(backend, NodeArgs(reads: program.accumulate ? [aBlock, b, product3] : [aBlock, b], writes: [product3],
                                               context: nil, rule: nil))
            }
            for (k, call) in memberCalls.enumerated() {
                _ = call(backend, NodeArgs(reads: memberOperands[k].map(view), writes: [value(k)], context: nil, rule: nil))
            }
        }
        return NodeResult()
    }
}
