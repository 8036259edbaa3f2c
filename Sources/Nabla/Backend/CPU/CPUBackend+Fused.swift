import CNablaKernels

// The CPU's fused ops: the requirements of `Backend` that the CPU runs with its own kernels instead of the
// composites (C kernels with AVX2/AVX-512 clones, packed GEMMs, OpenBLAS). Each counts its calls.

/// The CPU kernels that compute a groups-1 convolution.
package enum ConvAlgorithm: Equatable {
    /// The direct kernel for a small reduction C·kh·kw (at most `smallConvMaxK`).
    case smallK
    /// Winograd F(2x2, 3x3): float32, 3x3, stride 1, no dilation, padding at most 2.
    case winograd
    /// im2col + GEMM over chunks of the batch.
    case chunked

    /// The algorithm for a convolution of `dtype` with geometry `g`.
    package init(_ g: ConvGeometry, dtype: DType) {
        if g.columnsShape[0] <= smallConvMaxK { self = .smallK }
        else if dtype == .float32 && g.winogradApplies { self = .winograd }
        else { self = .chunked }
    }
}

/// The largest reduction size C·kh·kw for which a convolution runs the direct kernel instead of im2col + GEMM.
let smallConvMaxK = 32

extension CPUBackend {
    // MARK: Convolution

    /// The direct small-K kernel, Winograd or the chunked im2col + GEMM driver (`ConvAlgorithm`), each writing NCHW
    /// with the bias.
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, out: Tensor) {
        counter.bump(.conv2d)
        switch ConvAlgorithm(g, dtype: x.dtype) {
        case .smallK: convSmallK(x, weight: weight, bias: bias, geometry: g, out: out)
        case .winograd: convWinograd(x, weight: weight, bias: bias, geometry: g, out: out)
        case .chunked: convChunked(x, weight: weight, bias: bias, geometry: g, out: out)
        }
    }

    /// The fused backward of the algorithm the forward ran.
    public func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry g: ConvGeometry,
                               input needX: Bool, weight needW: Bool, bias needB: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        counter.bump(.conv2dBackward)
        let oc = weight.shape[0], l = g.outH * g.outW
        switch ConvAlgorithm(g, dtype: x.dtype) {
        case .winograd:
            let r = convWinogradBackward(x, weight: weight, grad: grad, geometry: g, input: needX, weight: needW, bias: needB)
            return (r.0, r.1, r.2)
        case .chunked:
            let r = convChunkedBackward(x, weight: weight, grad: grad.reshapeNoGrad([g.batch, oc, l]), geometry: g,
                                        input: needX, weight: needW, bias: needB)
            return (r.0, r.1?.reshapeNoGrad(weight.shape), r.2)
        case .smallK:
            var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
            if needX {
                gx = compositeConv2dBackward(x, weight: weight, grad: grad, geometry: g, input: true, weight: false, bias: false).input
            }
            if needW || needB {
                let (wg, bg) = convSmallKWeightGrad(x, grad: grad.reshapeNoGrad([g.batch, oc, l]), geometry: g, outChannels: oc)
                if needW { gw = wg.reshapeNoGrad(weight.shape) }
                if needB { gb = bg }
            }
            return (gx, gw, gb)
        }
    }

    // MARK: Softmax

    /// Whether the fused row kernel applies: a contiguous, non-empty float tensor, softmax over the last dim.
    private func softmaxRowsApply(_ x: Tensor, _ d: Int) -> Bool {
        (x.dtype == .float32 || x.dtype == .float64) && d == x.rank - 1 && x.isContiguous && x.count > 0 && x.shape[d] > 0
    }

    /// softmax or logSoftmax in one pass per row over the last dim of contiguous input; the composite elsewhere.
    public func softmax(_ x: Tensor, dim d: Int, log: Bool, out: Tensor) {
        counter.bump(.softmax)
        guard softmaxRowsApply(x, d) && out.isContiguous else { return compositeSoftmax(x, dim: d, log: log, out: out) }
        let cols = x.shape[d]
        CPUAttention.softmaxLastDim(x, out: out, rows: x.count / cols, cols: cols, log: log)
    }

    /// `y * (g - rowsum(g * y))`, or `g - exp(y) * rowsum(g)` for logSoftmax, in one pass per row; the composite
    /// elsewhere.
    public func softmaxBackward(_ grad: Tensor, output y: Tensor, dim d: Int, log: Bool, out: Tensor) {
        counter.bump(.softmaxBackward)
        guard softmaxRowsApply(y, d) && grad.dtype == y.dtype && out.isContiguous else {
            return compositeSoftmaxBackward(grad, output: y, dim: d, log: log, out: out)
        }
        let cols = y.shape[d]
        CPUAttention.softmaxBackwardLastDim(grad.contiguousNoGrad(), y, out: out, rows: y.count / cols, cols: cols, log: log)
    }

    // MARK: Normalisation

    /// One fused pass per row.
    public func normRows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?,
                         eps: Double, out: Tensor, mean: Tensor, rstd: Tensor) {
        counter.bump(.normRows)
        CPUNorm.rows(x, rows: rows, rowLen: rowLen, groups: groups, inner: inner, weight: weight, bias: bias, eps: eps,
                     out: out, mean: mean, rstd: rstd)
    }

    /// One fused pass per row.
    public func normRowsBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                                 rows: Int, rowLen: Int) -> (input: Tensor, weight: Tensor?, bias: Tensor?) {
        counter.bump(.normRowsBackward)
        let r = CPUNorm.rowsBackward(x, grad, weight: weight, hasBias: hasBias, mean: mean, rstd: rstd, rows: rows, rowLen: rowLen)
        return (r.dx, r.dw, r.db)
    }

    /// One fused pass per channel.
    public func batchNormStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor) {
        counter.bump(.batchNormStats)
        CPUNorm.channelStats(x, n: n, channels: channels, inner: inner, mean: mean, variance: variance)
    }

    /// One fused pass.
    public func batchNormAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor) {
        counter.bump(.batchNormAffine)
        CPUNorm.channelAffine(x, n: n, channels: channels, inner: inner, scale: scale, shift: shift, out: out)
    }

    /// One fused pass per channel.
    public func batchNormBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                                  n: Int, channels: Int, inner: Int) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        counter.bump(.batchNormBackward)
        let r = CPUNorm.channelsBackward(x, grad, weight: weight, mean: mean, invstd: invstd, n: n, channels: channels, inner: inner)
        return (r.dx, r.dw, r.db)
    }

    // MARK: Attention

    /// One kernel per (batch, head) pair: BLAS products around a row softmax (inputs BLAS cannot read are copied).
    public func attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> AttentionContext {
        counter.bump(.attention)
        let qc = blasReady(q), kc = blasReady(k), vc = blasReady(v)
        let w = CPUAttention.forward(q: qc, k: kc, v: vc, mask: mask, scale: scale, out: out)
        return AttentionContext(q: qc, k: kc, v: vc, mask: mask, weights: w)
    }

    /// The fused backward per (batch, head) pair.
    public func attentionBackward(_ c: AttentionContext, grad: Tensor, scale: Double, dq: Tensor, dk: Tensor, dv: Tensor) {
        counter.bump(.attentionBackward)
        CPUAttention.backward(q: c.q, k: c.k, v: c.v, weights: c.weights, g: blasReady(grad), scale: scale, dq: dq, dk: dk, dv: dv)
    }

    /// `t` itself when BLAS can read its matrices in place, else a contiguous copy.
    private func blasReady(_ t: Tensor) -> Tensor { CPUAttention.blasReady(t) ? t : t.contiguousCopy() }

    // MARK: Recurrent

    /// The fused whole-sequence drivers (row blocks per core, weights packed once) for float32 and float64.
    public func recurrentSequence(_ i: RecurrentSequenceInputs) -> RecurrentSequenceResult {
        counter.bump(.recurrentSequence)
        let f32 = i.x.dtype == .float32
        switch i.mode {
        case .lstm:
            let r = f32 ? lstmSequenceForward(Float.self, i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0, c0: i.c0!,
                                              reverse: i.reverse, zeroState: i.zeroState)
                        : lstmSequenceForward(Double.self, i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0, c0: i.c0!,
                                              reverse: i.reverse, zeroState: i.zeroState)
            return RecurrentSequenceResult(output: r.out, h: r.h, c: r.c, context: CPURecurrentContext(i, saved: .lstm(r.saved)))
        case .gru:
            let r = f32 ? gruSequenceForward(Float.self, i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0,
                                             reverse: i.reverse, zeroState: i.zeroState)
                        : gruSequenceForward(Double.self, i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0,
                                             reverse: i.reverse, zeroState: i.zeroState)
            return RecurrentSequenceResult(output: r.out, h: r.h, c: nil, context: CPURecurrentContext(i, saved: .gru(r.saved)))
        case .rnnTanh, .rnnRelu:
            let relu = i.mode == .rnnRelu
            let r = f32 ? rnnSequenceForward(Float.self, i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0, relu: relu,
                                             reverse: i.reverse, zeroState: i.zeroState)
                        : rnnSequenceForward(Double.self, i.x, wih: i.wih, whh: i.whh, bih: i.bih, bhh: i.bhh, h0: i.h0, relu: relu,
                                             reverse: i.reverse, zeroState: i.zeroState)
            return RecurrentSequenceResult(output: r.out, h: r.h, c: nil, context: CPURecurrentContext(i, saved: .rnn(r.saved)))
        }
    }

    /// The fused BPTT over the buffers the forward kept.
    public func recurrentSequenceBackward(_ context: RecurrentContext, gradOutput: Tensor, gradH: Tensor, gradC: Tensor?,
                                          needInput: Bool, needH0: Bool) -> RecurrentSequenceGradients {
        counter.bump(.recurrentSequenceBackward)
        guard let c = context as? CPURecurrentContext else {
            return compositeRecurrentSequenceBackward(context, gradOutput: gradOutput, gradH: gradH, gradC: gradC)
        }
        let f32 = context.inputs.x.dtype == .float32
        switch c.saved {
        case .lstm(let s):
            let g = f32 ? lstmSequenceBackwardFused(Float.self, s, gOut: gradOutput, gH: gradH, gC: gradC!, needX: needInput, needH0: needH0)
                        : lstmSequenceBackwardFused(Double.self, s, gOut: gradOutput, gH: gradH, gC: gradC!, needX: needInput, needH0: needH0)
            return RecurrentSequenceGradients(x: g.dx, wih: g.dwih, whh: g.dwhh, bih: g.db, bhh: g.db, h0: g.dh0, c0: g.dc0)
        case .gru(let s):
            let g = f32 ? gruSequenceBackwardFused(Float.self, s, gOut: gradOutput, gH: gradH, needX: needInput, needH0: needH0)
                        : gruSequenceBackwardFused(Double.self, s, gOut: gradOutput, gH: gradH, needX: needInput, needH0: needH0)
            return RecurrentSequenceGradients(x: g.dx, wih: g.dwih, whh: g.dwhh, bih: g.dbih, bhh: g.dbhh, h0: g.dh0, c0: nil)
        case .rnn(let s):
            let g = f32 ? rnnSequenceBackwardFused(Float.self, s, gOut: gradOutput, gH: gradH, needX: needInput, needH0: needH0)
                        : rnnSequenceBackwardFused(Double.self, s, gOut: gradOutput, gH: gradH, needX: needInput, needH0: needH0)
            return RecurrentSequenceGradients(x: g.dx, wih: g.dwih, whh: g.dwhh, bih: g.db, bhh: g.db, h0: g.dh0, c0: nil)
        }
    }

    /// Vectorised sigmoid/tanh loops over the gates.
    public func lstmCell(gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tanhC: Tensor) {
        counter.bump(.lstmCell)
        if gates.dtype == .float32 { lstmForwardKernel(Float.self, gates: gates, cx: cx, h: h, c: c, act: act, tc: tanhC) }
        else { lstmForwardKernel(Double.self, gates: gates, cx: cx, h: h, c: c, act: act, tc: tanhC) }
    }

    /// One pass over the saved activations.
    public func lstmCellBackward(gradH: Tensor, gradC: Tensor, act: Tensor, tanhC: Tensor, cx: Tensor, dgates: Tensor, dcx: Tensor) {
        counter.bump(.lstmCellBackward)
        if act.dtype == .float32 {
            lstmBackwardKernel(Float.self, gh: gradH, gc: gradC, act: act, tc: tanhC, cx: cx, dgates: dgates, dcx: dcx)
        } else {
            lstmBackwardKernel(Double.self, gh: gradH, gc: gradC, act: act, tc: tanhC, cx: cx, dgates: dgates, dcx: dcx)
        }
    }

    // MARK: Optimizers

    /// One fused C kernel per rule and dtype (PyTorch's order of operations, no FMA contraction), over chunks of
    /// the parameter on the kernel threads.
    public func optimizerStep(_ rule: OptimizerRule, param p: Tensor, grad g: Tensor, state: [Tensor]) {
        counter.bump(FusedOp(rule))
        guard p.dtype == .float32 || p.dtype == .float64, p.isContiguous, g.isContiguous, g.dtype == p.dtype,
              state.allSatisfy({ $0.isContiguous && $0.dtype == p.dtype }) else {
            return compositeOptimizerStep(rule, param: p, grad: g, state: state)
        }
        if p.dtype == .float32 { optimizerStepTyped(Float.self, rule, p, g, state) } else { optimizerStepTyped(Double.self, rule, p, g, state) }
        p.storage.bumpVersion()
        for s in state { s.storage.bumpVersion() }
    }

    private func optimizerStepTyped<T: OptimizerKernelScalar>(_: T.Type, _ rule: OptimizerRule, _ param: Tensor, _ grad: Tensor,
                                                               _ state: [Tensor]) {
        let p = param.storage.pointer(T.self) + param.offset
        let g = UnsafePointer(grad.storage.pointer(T.self) + grad.offset)
        let s = state.map { $0.storage.pointer(T.self) + $0.offset }
        let k = T.optimizerKernels
        Parallel.forRanges(param.count, minChunk: 16_384) { r in
            let o = r.lowerBound, n = Int64(r.count)
            switch rule {
            case let .sgd(lr, momentum, dampening, wd, nesterov, maximize, first):
                k.sgd(p + o, g + o, momentum != 0 ? s[0] + o : nil, n, lr, momentum, 1 - dampening, wd,
                      nesterov ? 1 : 0, maximize ? 1 : 0, first ? 1 : 0)
            case let .adam(lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize, step):
                let (stepSize, bc2Sqrt) = OptimizerRule.adamBiasCorrection(lr: lr, beta1: beta1, beta2: beta2, step: step)
                k.adam(p + o, g + o, s[0] + o, s[1] + o, amsgrad ? s[2] + o : nil, n, 1 - beta1, beta2, 1 - beta2, wd,
                       decoupled ? 1 : 0, 1 - lr * wd, -stepSize, bc2Sqrt, eps, amsgrad ? 1 : 0, maximize ? 1 : 0)
            case let .rmsprop(lr, alpha, eps, wd, momentum, centered, maximize):
                k.rmsprop(p + o, g + o, s[0] + o, centered ? s[1] + o : nil, momentum > 0 ? s[centered ? 2 : 1] + o : nil, n,
                          lr, alpha, 1 - alpha, eps, wd, momentum, centered ? 1 : 0, maximize ? 1 : 0)
            case let .adagrad(clr, eps, wd, maximize):
                k.adagrad(p + o, g + o, s[0] + o, n, clr, eps, wd, maximize ? 1 : 0)
            case let .adadelta(lr, rho, eps, wd, maximize):
                k.adadelta(p + o, g + o, s[0] + o, s[1] + o, n, lr, rho, 1 - rho, eps, wd, maximize ? 1 : 0)
            }
        }
    }
}

/// The buffers a CPU recurrent forward keeps for its fused backward.
final class CPURecurrentContext: RecurrentContext {
    enum Saved { case lstm(LSTMSaved), gru(GRUSaved), rnn(RNNSaved) }
    let saved: Saved
    init(_ inputs: RecurrentSequenceInputs, saved: Saved) {
        self.saved = saved
        super.init(inputs)
    }
}

/// The C optimizer kernels of one element type (`nabla_f32_*` or `nabla_f64_*` of nabla_optim.h), as function values,
/// so that `optimizerStepTyped` is written once for both.
struct OptimizerKernels<T> {
    /// A pointer the kernel only reads.
    typealias In = UnsafePointer<T>?
    /// A pointer the kernel writes.
    typealias Out = UnsafeMutablePointer<T>?
    let sgd: (_ p: Out, _ g: In, _ buf: Out, _ n: Int64, _ lr: Double, _ momentum: Double, _ dc: Double, _ wd: Double,
              _ nesterov: Int32, _ maximize: Int32, _ first: Int32) -> Void
    let adam: (_ p: Out, _ g: In, _ m: Out, _ v: Out, _ vmax: Out, _ n: Int64, _ lerpW: Double, _ beta2: Double, _ omb2: Double,
               _ wd: Double, _ decoupled: Int32, _ decayC: Double, _ negStep: Double, _ bc2Sqrt: Double, _ eps: Double,
               _ amsgrad: Int32, _ maximize: Int32) -> Void
    let rmsprop: (_ p: Out, _ g: In, _ sq: Out, _ gavg: Out, _ buf: Out, _ n: Int64, _ lr: Double, _ alpha: Double, _ oma: Double,
                  _ eps: Double, _ wd: Double, _ momentum: Double, _ centered: Int32, _ maximize: Int32) -> Void
    let adagrad: (_ p: Out, _ g: In, _ sum: Out, _ n: Int64, _ clr: Double, _ eps: Double, _ wd: Double, _ maximize: Int32) -> Void
    let adadelta: (_ p: Out, _ g: In, _ sq: Out, _ acc: Out, _ n: Int64, _ lr: Double, _ rho: Double, _ omr: Double, _ eps: Double,
                   _ wd: Double, _ maximize: Int32) -> Void
}

/// Element types the C optimizer kernels run on (float32 and float64).
protocol OptimizerKernelScalar: TensorScalar {
    /// This type's optimizer kernels.
    static var optimizerKernels: OptimizerKernels<Self> { get }
}

extension Float: OptimizerKernelScalar {
    static var optimizerKernels: OptimizerKernels<Float> {
        OptimizerKernels(sgd: nabla_f32_sgd, adam: nabla_f32_adam_step, rmsprop: nabla_f32_rmsprop, adagrad: nabla_f32_adagrad,
                         adadelta: nabla_f32_adadelta)
    }
}

extension Double: OptimizerKernelScalar {
    static var optimizerKernels: OptimizerKernels<Double> {
        OptimizerKernels(sgd: nabla_f64_sgd, adam: nabla_f64_adam_step, rmsprop: nabla_f64_rmsprop, adagrad: nabla_f64_adagrad,
                         adadelta: nabla_f64_adadelta)
    }
}

/// How often each fused op reached the CPU backend (for tests that prove which backend ran).
package func cpuFusedOpCounts() -> [FusedOp: Int] { CPUBackend.shared.counter.snapshot }
