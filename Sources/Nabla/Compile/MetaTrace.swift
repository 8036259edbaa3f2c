import Foundation

// Symbolic ("meta") tracing: the Swift code of every op runs (its shape rule, its checks, its allocations), every
// backend call it makes is recorded as an `OpKind` node, and no kernel runs: PyTorch's meta device and FakeTensor
// mode. Graphs built from placeholders (`Graph`, Keras functional models) infer their shapes and record the ops they
// compute this way, on probe tensors whose free dimensions take small sizes.

/// One symbolic trace of a function: the ops it calls as a graph of `OpKind` nodes, and its outputs' shapes.
public struct MetaTrace {
    /// The ops in the order the code called them (no pass has run), over buffers of the probe sizes.
    public let graph: CompiledGraph
    /// The outputs as the trace made them: their shapes and dtypes are the function's; their elements mean nothing.
    public let outputs: [Tensor]
    /// Why the trace is not a faithful graph of the function (it read a computed value on the host, whose value a
    /// symbolic trace does not know), if it is not.
    public let graphBreak: GraphBreak?
    /// For each span the body marked (see `trace`), the range of `graph.nodes` it recorded, in mark order.
    public let spans: [Range<Int>]
    /// For each span, the views of the tensors given to its mark (the values that span computed).
    public let spanOutputs: [[TensorRef]]
}

extension MetaTrace {
    /// Traces `body` on `inputs` symbolically: each op's Swift code runs (shape rules, checks, allocations), each
    /// backend call is recorded and none is executed, so no kernel runs and the outputs hold zeros. Runs without
    /// grad. New storages are zero-filled, so host code reading an index or checking a range reads zeros.
    ///
    /// `body` gets a `mark` function: calling it with the tensors a step computed closes the current span of
    /// recorded nodes (a graph marks one span per node it runs, for listings grouped by layer).
    public static func trace(_ inputs: [Tensor], _ body: (_ inputs: [Tensor], _ mark: ([Tensor]) -> Void) -> [Tensor]) -> MetaTrace {
        let tracer = Tracer()
        tracer.isMeta = true
        let inputRefs = inputs.enumerated().map { tracer.registerInput($0.element, index: $0.offset) }
        var spans: [Range<Int>] = []
        var spanOutputs: [[TensorRef]] = []
        var start = 0
        let mark = { (outs: [Tensor]) in
            let end = tracer.nodes.count
            spans.append(start..<end)
            spanOutputs.append(outs.map { o in tracer.existingRef(o) ?? tracer.ref(o, writing: false) })
            start = end
        }
        let outs = noGrad { tracer.recording { body(inputs, mark) } }
        let outputRefs = outs.map { o in tracer.existingRef(o) ?? tracer.ref(o, writing: false) }
        let graph = CompiledGraph(buffers: tracer.buffers, nodes: tracer.nodes, inputs: inputRefs, outputs: outputRefs,
                                  gradSinks: [], ruleSources: tracer.ruleSources, ruleCounts: tracer.ruleCounts)
        return MetaTrace(graph: graph, outputs: outs, graphBreak: tracer.graphBreak, spans: spans, spanOutputs: spanOutputs)
    }

    /// Zero-filled probe tensors for `specs`, with every free dimension (`-1`) set to `size`; made outside any trace.
    public static func probes(_ specs: [TensorSpec], freeSize size: Int) -> [Tensor] {
        specs.map { s in
            let shape = s.shape.map { $0 < 0 ? size : $0 }
            let t = Tensor(storage: Storage.allocate(count: Shape.count(shape, op: "probe"), dtype: s.dtype, backend: Device.cpu.backend),
                           shape: shape, strides: Shape.contiguousStrides(shape))
            memset(t.storage.data, 0, t.storage.byteCount)
            return t
        }
    }

    /// The output specs of `fn` for input specs `inputs`, from two symbolic traces: free dims take size 2 in the
    /// first and 3 in the second, and output dims that differ between the two are free in the result. No kernel runs.
    public static func inferSpecs(_ inputs: [TensorSpec], _ fn: ([Tensor]) -> [Tensor]) -> [TensorSpec] {
        let a = trace(probes(inputs, freeSize: 2)) { xs, _ in fn(xs) }.outputs
        guard inputs.contains(where: { $0.shape.contains(-1) }) else { return a.map { TensorSpec(shape: $0.shape, dtype: $0.dtype) } }
        let b = trace(probes(inputs, freeSize: 3)) { xs, _ in fn(xs) }.outputs
        return zip(a, b).map { x, y in
            if x.rank != y.rank { return TensorSpec(shape: [Int](repeating: -1, count: x.rank), dtype: x.dtype) }
            return TensorSpec(shape: zip(x.shape, y.shape).map { $0 == $1 ? $0 : -1 }, dtype: x.dtype)
        }
    }
}

extension Tracer {
    /// Zero-fills a host storage made during a meta trace (device storages are left as they are: no kernel runs).
    ///
    /// A trace allocates every intermediate of the function and no kernel ever writes them, so a large storage's
    /// whole pages are not written but given back to the system (`MADV_DONTNEED`: private anonymous memory then reads
    /// as zeros, faulted in only where the host reads it); only the partial pages at its ends are cleared. A
    /// memset would fault in and clear every page of the trace's intermediates (hundreds of MiB for a BERT batch).
    func zeroMetaStorage(_ s: Storage) {
        switch s.device {
        case .cpu, .reference: Self.zeroWithoutTouching(s.data, s.byteCount)
        case .cuda: break
        }
    }

    /// Makes `byteCount` bytes at `p` (heap memory: private and anonymous) read as zeros, clearing whole pages by
    /// giving them back to the system and the rest with `memset`.
    static func zeroWithoutTouching(_ p: UnsafeMutableRawPointer, _ byteCount: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: p), end = start + byteCount
        let first = (start + page - 1) / page * page, last = end / page * page
        guard page > 0, last - first >= 16 * page,
              madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_DONTNEED) == 0 else {
            memset(p, 0, byteCount)
            return
        }
        memset(p, 0, first - start)
        memset(UnsafeMutableRawPointer(bitPattern: last)!, 0, end - last)
    }

    /// What a backend call returns, without running it (a meta trace): calls that write preallocated outputs
    /// return nothing; calls that allocate their results (fused backwards, recurrent sequences) get zero-filled
    /// tensors of the shapes their shape rules give; calls that return a context for a backward get one that holds
    /// their inputs.
    func metaResult(_ kind: OpKind, on base: any Backend, reads: [Tensor?], context: AnyObject?) -> NodeResult {
        func make(_ shape: [Int], _ dtype: DType) -> Tensor {
            Tensor(storage: Storage.allocate(count: Shape.count(shape, op: "meta"), dtype: dtype, backend: base),
                   shape: shape, strides: Shape.contiguousStrides(shape))
        }
        switch kind {
        case .conv2dBackward(_, let input, let weight, let bias):
            let x = reads[0]!, w = reads[1]!
            return NodeResult(returned: [input ? make(x.shape, x.dtype) : nil, weight ? make(w.shape, w.dtype) : nil,
                                         bias ? make([w.shape[0]], w.dtype) : nil])
        case .normRowsBackward(_, let rowLen, let hasWeight, let hasBias):
            let x = reads[0]!
            let wShape = reads[2]?.shape ?? [rowLen]
            return NodeResult(returned: [make(x.shape, x.dtype), hasWeight ? make(wShape, x.dtype) : nil,
                                         hasBias ? make(wShape, x.dtype) : nil])
        case .batchNormBackward(_, let channels, _, _):
            let x = reads[0]!
            return NodeResult(returned: [make(x.shape, x.dtype), make([channels], x.dtype), make([channels], x.dtype)])
        case .attention:
            let q = reads[0]!, k = reads[1]!
            let weights = make(Array(q.shape.dropLast()) + [k.shape[k.rank - 2]], q.dtype)
            return NodeResult(context: AttentionContext(q: q, k: k, v: reads[2]!, mask: reads[3], weights: weights))
        case .recurrentSequence(let mode, let reverse, let zeroState):
            let x = reads[0]!, whh = reads[2]!, h0 = reads[5]!
            let hidden = whh.shape[1]
            let inputs = RecurrentSequenceInputs(mode: mode, x: x, wih: reads[1]!, whh: whh, bih: reads[3], bhh: reads[4], h0: h0,
                                                 c0: reads[6], reverse: reverse, zeroState: zeroState)
            let out = make([x.shape[0], x.shape[1], hidden], x.dtype)
            return NodeResult(returned: [out, make(h0.shape, x.dtype), mode == .lstm ? make(h0.shape, x.dtype) : nil],
                              context: RecurrentContext(inputs))
        case .recurrentSequenceBackward(let needInput, let needH0):
            guard let i = (context as? RecurrentContext)?.inputs else { return NodeResult(returned: Array(repeating: nil, count: 7)) }
            func like(_ t: Tensor?) -> Tensor? { t.map { make($0.shape, $0.dtype) } }
            let bias = make([i.whh.shape[0]], i.whh.dtype)
            return NodeResult(returned: [needInput ? like(i.x) : nil, like(i.wih), like(i.whh), bias, like(bias),
                                         like(i.h0), needH0 ? like(i.c0) : nil])
        default:
            return NodeResult()
        }
    }
}
