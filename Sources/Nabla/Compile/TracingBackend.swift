/// The recorder `Tensor.backend` hands out while a trace is installed: each call becomes a `TracedNode` (its kind as
/// data, the views it reads and writes, and how to run it again) and runs on the real backend.
final class TracingBackend: Backend, @unchecked Sendable {
    let base: any Backend
    unowned let tracer: Tracer

    init(base: any Backend, tracer: Tracer) {
        self.base = base
        self.tracer = tracer
    }

    var device: Device { base.device }
    var allocatesSmallBuffersInline: Bool { base.allocatesSmallBuffersInline }

    func allocate(byteCount: Int) -> UnsafeMutableRawPointer { base.allocate(byteCount: byteCount) }
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) { base.deallocate(pointer, byteCount: byteCount) }

    func upload(_ bytes: UnsafeRawBufferPointer, to storage: Storage, byteOffset: Int) {
        tracer.recordUpload(on: base, bytes: bytes, storage: storage, byteOffset: byteOffset)
    }

    func download(_ storage: Storage, byteOffset: Int, into bytes: UnsafeMutableRawBufferPointer) {
        tracer.noteDownload(storage)
        tracer.paused { base.download(storage, byteOffset: byteOffset, into: bytes) }
    }

    /// Records a call whose attributes are sizes or reals (`OpKind.mapSizes`) through its one lowering,
    /// `OpKind.sizedCall`, which a graph specialised for another size also runs.
    private func sized(_ kind: OpKind, _ reads: [Tensor?], _ writes: [Tensor], context: AnyObject? = nil) -> NodeResult {
        tracer.record(kind, on: base, reads: reads, writes: writes, context: context, call: kind.sizedCall!)
    }

    /// Records a call that writes `writes` and returns nothing.
    private func run(_ kind: OpKind, _ reads: [Tensor?], _ writes: [Tensor], _ call: @escaping (any Backend, [Tensor?], [Tensor]) -> Void) {
        _ = tracer.record(kind, on: base, reads: reads, writes: writes) { b, a in call(b, a.reads, a.writes); return NodeResult() }
    }

    func copy(_ src: Tensor, into dst: Tensor) { run(.copy, [src], [dst]) { b, r, w in b.copy(r[0]!, into: w[0]) } }
    func fill(_ dst: Tensor, value: Double) { _ = sized(.fill(value), [], [dst]) }
    func unary(_ op: UnaryOp, _ x: Tensor, out: Tensor) { run(.unary(op), [x], [out]) { b, r, w in b.unary(op, r[0]!, out: w[0]) } }
    func binary(_ op: BinaryOp, _ a: Tensor, _ c: Tensor, out: Tensor) {
        run(.binary(op), [a, c], [out]) { b, r, w in b.binary(op, r[0]!, r[1]!, out: w[0]) }
    }
    func binaryScalar(_ op: BinaryOp, _ a: Tensor, _ scalar: Double, reversed: Bool, out: Tensor) {
        _ = sized(.binaryScalar(op, scalar: scalar, reversed: reversed), [a], [out])
    }
    func select(_ cond: Tensor, _ a: Tensor, _ c: Tensor, out: Tensor) {
        run(.select, [cond, a, c], [out]) { b, r, w in b.select(r[0]!, r[1]!, r[2]!, out: w[0]) }
    }
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], out: Tensor) {
        run(.reduce(op, dims: dims), [x], [out]) { b, r, w in b.reduce(op, r[0]!, dims: dims, out: w[0]) }
    }
    func argReduce(max: Bool, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
        run(.argReduce(max: max, dim: dim), [x], [values, indices]) { b, r, w in
            b.argReduce(max: max, r[0]!, dim: dim, values: w[0], indices: w[1])
        }
    }
    func scan(product: Bool, _ x: Tensor, dim: Int, out: Tensor) {
        run(.scan(product: product, dim: dim), [x], [out]) { b, r, w in b.scan(product: product, r[0]!, dim: dim, out: w[0]) }
    }
    func matmul(_ a: Tensor, _ c: Tensor, out: Tensor) { run(.matmul, [a, c], [out]) { b, r, w in b.matmul(r[0]!, r[1]!, out: w[0]) } }
    func matmulAccumulate(_ a: Tensor, _ c: Tensor, out: Tensor) {
        run(.matmulAccumulate, [a, c, out], [out]) { b, r, w in b.matmulAccumulate(r[0]!, r[1]!, out: w[0]) }
    }
    func gather(_ x: Tensor, dim: Int, index: Tensor, out: Tensor) {
        run(.gather(dim: dim), [x, index], [out]) { b, r, w in b.gather(r[0]!, dim: dim, index: r[1]!, out: w[0]) }
    }
    func scatter(_ src: Tensor, dim: Int, index: Tensor, out: Tensor, accumulate: Bool) {
        run(.scatter(dim: dim, accumulate: accumulate), [src, index, out], [out]) { b, r, w in
            b.scatter(r[0]!, dim: dim, index: r[1]!, out: w[0], accumulate: accumulate)
        }
    }
    func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor) {
        run(.sort(dim: dim, descending: descending), [x], [values, indices]) { b, r, w in
            b.sort(r[0]!, dim: dim, descending: descending, values: w[0], indices: w[1])
        }
    }
    func random(_ kind: RandomKind, out: Tensor, generator: Generator) {
        run(.random(kind), [], [out]) { b, _, w in b.random(kind, out: w[0], generator: generator) }
    }
    func im2col(_ x: Tensor, geometry: ConvGeometry, out: Tensor) {
        _ = sized(.im2col(geometry), [x], [out])
    }
    func col2im(_ cols: Tensor, geometry: ConvGeometry, out: Tensor) {
        _ = sized(.col2im(geometry), [cols], [out])
    }
    func maxPool2d(_ x: Tensor, windows: PoolWindows, out: Tensor, indices: Tensor) {
        _ = sized(.maxPool2d(windows), [x], [out, indices])
    }
    func maxPool2dBackward(_ grad: Tensor, indices: Tensor, out: Tensor) {
        run(.maxPool2dBackward, [grad, indices], [out]) { b, r, w in b.maxPool2dBackward(r[0]!, indices: r[1]!, out: w[0]) }
    }
    func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor) {
        run(.swapLeadingDims(bias: bias != nil), [x, bias], [out]) { b, r, w in b.swapLeadingDims(r[0]!, bias: r[1], out: w[0]) }
    }

    // MARK: Fused ops

    func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor) {
        _ = sized(.conv2d(geometry, bias: bias != nil), [x, weight, bias], [out])
    }
    func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry,
                        input: Bool, weight needWeight: Bool, bias: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let res = sized(.conv2dBackward(geometry, input: input, weight: needWeight, bias: bias), [x, weight, grad], [])
        return (res.returned[0], res.returned[1], res.returned[2])
    }
    func softmax(_ x: Tensor, dim: Int, log: Bool, out: Tensor) {
        run(.softmax(dim: dim, log: log), [x], [out]) { b, r, w in b.softmax(r[0]!, dim: dim, log: log, out: w[0]) }
    }
    func softmaxBackward(_ grad: Tensor, output: Tensor, dim: Int, log: Bool, out: Tensor) {
        run(.softmaxBackward(dim: dim, log: log), [grad, output], [out]) { b, r, w in
            b.softmaxBackward(r[0]!, output: r[1]!, dim: dim, log: log, out: w[0])
        }
    }
    func nllLoss(_ input: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        run(.nllLoss(ignoreIndex: ignoreIndex, reduction: reduction), [input, target, weight], [out]) { b, r, w in
            b.nllLoss(r[0]!, target: r[1]!, weight: r[2], ignoreIndex: ignoreIndex, reduction: reduction, out: w[0])
        }
    }
    func nllLossBackward(_ grad: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor) {
        run(.nllLossBackward(ignoreIndex: ignoreIndex, reduction: reduction), [grad, target, weight], [out]) { b, r, w in
            b.nllLossBackward(r[0]!, target: r[1]!, weight: r[2], ignoreIndex: ignoreIndex, reduction: reduction, out: w[0])
        }
    }
    func softmaxCrossEntropy(_ x: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction,
                             logProbs: Tensor, loss: Tensor) {
        run(.softmaxCrossEntropy(ignoreIndex: ignoreIndex, reduction: reduction), [x, target, weight], [logProbs, loss]) { b, r, w in
            b.softmaxCrossEntropy(r[0]!, target: r[1]!, weight: r[2], ignoreIndex: ignoreIndex, reduction: reduction,
                                  logProbs: w[0], loss: w[1])
        }
    }
    func softmaxCrossEntropyBackward(_ grad: Tensor, logProbs: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int,
                                     reduction: LossReduction, out: Tensor) {
        run(.softmaxCrossEntropyBackward(ignoreIndex: ignoreIndex, reduction: reduction), [grad, logProbs, target, weight], [out]) { b, r, w in
            b.softmaxCrossEntropyBackward(r[0]!, logProbs: r[1]!, target: r[2]!, weight: r[3], ignoreIndex: ignoreIndex,
                                          reduction: reduction, out: w[0])
        }
    }
    func normRows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?, eps: Double,
                  out: Tensor, mean: Tensor, rstd: Tensor) {
        _ = sized(.normRows(rows: rows, rowLen: rowLen, groups: groups, inner: inner, eps: eps, weight: weight != nil, bias: bias != nil),
                  [x, weight, bias], [out, mean, rstd])
    }
    func normRowsBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                          rows: Int, rowLen: Int) -> (input: Tensor, weight: Tensor?, bias: Tensor?) {
        let res = sized(.normRowsBackward(rows: rows, rowLen: rowLen, weight: weight != nil, bias: hasBias), [x, grad, weight, mean, rstd], [])
        return (res.returned[0]!, res.returned[1], res.returned[2])
    }
    func batchNormStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor) {
        _ = sized(.batchNormStats(n: n, channels: channels, inner: inner), [x], [mean, variance])
    }
    func batchNormAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor) {
        _ = sized(.batchNormAffine(n: n, channels: channels, inner: inner), [x, scale, shift], [out])
    }
    func batchNormBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                           n: Int, channels: Int, inner: Int) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let res = sized(.batchNormBackward(n: n, channels: channels, inner: inner, weight: weight != nil), [x, grad, weight, mean, invstd], [])
        return (res.returned[0]!, res.returned[1]!, res.returned[2]!)
    }
    func attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> AttentionContext {
        let res = sized(.attention(scale: scale, mask: mask != nil), [q, k, v, mask], [out])
        return res.context as! AttentionContext
    }
    func attentionBackward(_ context: AttentionContext, grad: Tensor, scale: Double, dq: Tensor, dk: Tensor, dv: Tensor) {
        _ = sized(.attentionBackward(scale: scale), [grad], [dq, dk, dv], context: context)
    }
    func recurrentSequence(_ inputs: RecurrentSequenceInputs) -> RecurrentSequenceResult {
        let i = inputs
        let res = tracer.record(.recurrentSequence(i.mode, reverse: i.reverse, zeroState: i.zeroState), on: base,
                                reads: [i.x, i.wih, i.whh, i.bih, i.bhh, i.h0, i.c0], writes: []) { b, a in
            let r = a.reads
            let out = b.recurrentSequence(RecurrentSequenceInputs(mode: i.mode, x: r[0]!, wih: r[1]!, whh: r[2]!, bih: r[3], bhh: r[4],
                                                                  h0: r[5]!, c0: r[6], reverse: i.reverse, zeroState: i.zeroState))
            return NodeResult(returned: [out.output, out.h, out.c], context: out.context)
        }
        return RecurrentSequenceResult(output: res.returned[0]!, h: res.returned[1]!, c: res.returned[2], context: res.context as! RecurrentContext)
    }
    func recurrentSequenceBackward(_ context: RecurrentContext, gradOutput: Tensor, gradH: Tensor, gradC: Tensor?,
                                   needInput: Bool, needH0: Bool) -> RecurrentSequenceGradients {
        let res = tracer.record(.recurrentSequenceBackward(needInput: needInput, needH0: needH0), on: base,
                                reads: [gradOutput, gradH, gradC], writes: [], context: context) { b, a in
            let g = b.recurrentSequenceBackward(a.context as! RecurrentContext, gradOutput: a.reads[0]!, gradH: a.reads[1]!,
                                                gradC: a.reads[2], needInput: needInput, needH0: needH0)
            return NodeResult(returned: [g.x, g.wih, g.whh, g.bih, g.bhh, g.h0, g.c0])
        }
        let r = res.returned
        return RecurrentSequenceGradients(x: r[0], wih: r[1]!, whh: r[2]!, bih: r[3]!, bhh: r[4]!, h0: r[5]!, c0: r[6])
    }
    func lstmCell(gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tanhC: Tensor) {
        run(.lstmCell, [gates, cx], [h, c, act, tanhC]) { b, r, w in
            b.lstmCell(gates: r[0]!, cx: r[1]!, h: w[0], c: w[1], act: w[2], tanhC: w[3])
        }
    }
    func lstmCellBackward(gradH: Tensor, gradC: Tensor, act: Tensor, tanhC: Tensor, cx: Tensor, dgates: Tensor, dcx: Tensor) {
        run(.lstmCellBackward, [gradH, gradC, act, tanhC, cx], [dgates, dcx]) { b, r, w in
            b.lstmCellBackward(gradH: r[0]!, gradC: r[1]!, act: r[2]!, tanhC: r[3]!, cx: r[4]!, dgates: w[0], dcx: w[1])
        }
    }
    func optimizerStep(_ rule: OptimizerRule, param: Tensor, grad: Tensor, state: [Tensor]) {
        _ = tracer.record(.optimizerStep(rule.name), on: base, reads: [grad] + state.map { Optional($0) } + [param],
                          writes: [param] + state, rule: rule) { b, a in
            b.optimizerStep(a.rule!, param: a.writes[0], grad: a.reads[0]!, state: Array(a.writes.dropFirst()))
            return NodeResult()
        }
    }
}
