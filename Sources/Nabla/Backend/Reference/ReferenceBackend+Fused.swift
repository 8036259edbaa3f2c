// The reference backend's fused ops: each one counts its call, then runs the composite that every backend inherits.
// Listing them here (instead of inheriting silently) is what the counting test checks: an op that reaches the
// reference device but not this file would leave its counter at zero.

extension ReferenceBackend {
    /// The composite convolution.
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor) {
        counter.bump(.conv2d)
        compositeConv2d(x, weight: weight, bias: bias, geometry: geometry, out: out)
    }

    /// The composite convolution gradients.
    public func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry,
                               input: Bool, weight needWeight: Bool, bias: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        counter.bump(.conv2dBackward)
        return compositeConv2dBackward(x, weight: weight, grad: grad, geometry: geometry, input: input, weight: needWeight, bias: bias)
    }

    /// The composite softmax.
    public func softmax(_ x: Tensor, dim: Int, log: Bool, out: Tensor) {
        counter.bump(.softmax)
        compositeSoftmax(x, dim: dim, log: log, out: out)
    }

    /// The composite softmax gradient.
    public func softmaxBackward(_ grad: Tensor, output: Tensor, dim: Int, log: Bool, out: Tensor) {
        counter.bump(.softmaxBackward)
        compositeSoftmaxBackward(grad, output: output, dim: dim, log: log, out: out)
    }

    /// The composite row normalisation.
    public func normRows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?,
                         eps: Double, out: Tensor, mean: Tensor, rstd: Tensor) {
        counter.bump(.normRows)
        compositeNormRows(x, rows: rows, rowLen: rowLen, groups: groups, inner: inner, weight: weight, bias: bias, eps: eps,
                          out: out, mean: mean, rstd: rstd)
    }

    /// The composite row-normalisation gradients.
    public func normRowsBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                                 rows: Int, rowLen: Int) -> (input: Tensor, weight: Tensor?, bias: Tensor?) {
        counter.bump(.normRowsBackward)
        return compositeNormRowsBackward(x, grad: grad, weight: weight, hasBias: hasBias, mean: mean, rstd: rstd, rows: rows, rowLen: rowLen)
    }

    /// The composite batch statistics.
    public func batchNormStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor) {
        counter.bump(.batchNormStats)
        compositeBatchNormStats(x, n: n, channels: channels, inner: inner, mean: mean, variance: variance)
    }

    /// The composite channel affine map.
    public func batchNormAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor) {
        counter.bump(.batchNormAffine)
        compositeBatchNormAffine(x, n: n, channels: channels, inner: inner, scale: scale, shift: shift, out: out)
    }

    /// The composite batchNorm gradients.
    public func batchNormBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                                  n: Int, channels: Int, inner: Int) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        counter.bump(.batchNormBackward)
        return compositeBatchNormBackward(x, grad: grad, weight: weight, mean: mean, invstd: invstd, n: n, channels: channels, inner: inner)
    }

    /// The composite attention.
    public func attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> AttentionContext {
        counter.bump(.attention)
        return compositeAttention(q: q, k: k, v: v, mask: mask, scale: scale, out: out)
    }

    /// The composite attention gradients.
    public func attentionBackward(_ context: AttentionContext, grad: Tensor, scale: Double, dq: Tensor, dk: Tensor, dv: Tensor) {
        counter.bump(.attentionBackward)
        compositeAttentionBackward(context, grad: grad, scale: scale, dq: dq, dk: dk, dv: dv)
    }

    /// The composite step loop.
    public func recurrentSequence(_ inputs: RecurrentSequenceInputs) -> RecurrentSequenceResult {
        counter.bump(.recurrentSequence)
        return compositeRecurrentSequence(inputs)
    }

    /// The composite BPTT.
    public func recurrentSequenceBackward(_ context: RecurrentContext, gradOutput: Tensor, gradH: Tensor, gradC: Tensor?,
                                          needInput: Bool, needH0: Bool) -> RecurrentSequenceGradients {
        counter.bump(.recurrentSequenceBackward)
        return compositeRecurrentSequenceBackward(context, gradOutput: gradOutput, gradH: gradH, gradC: gradC)
    }

    /// The composite LSTM cell.
    public func lstmCell(gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tanhC: Tensor) {
        counter.bump(.lstmCell)
        compositeLSTMCell(gates: gates, cx: cx, h: h, c: c, act: act, tanhC: tanhC)
    }

    /// The composite LSTM cell gradients.
    public func lstmCellBackward(gradH: Tensor, gradC: Tensor, act: Tensor, tanhC: Tensor, cx: Tensor, dgates: Tensor, dcx: Tensor) {
        counter.bump(.lstmCellBackward)
        compositeLSTMCellBackward(gradH: gradH, gradC: gradC, act: act, tanhC: tanhC, cx: cx, dgates: dgates, dcx: dcx)
    }

    /// The linear layer's GEMM and epilogue in the default row blocks.
    public func linearEpilogue(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool, out: Tensor) {
        counter.bump(.linearEpilogue)
        EagerEpilogue.linear(input, weight: weight, bias: bias, residual: residual, relu: relu, out: out)
    }

    /// The composite optimizer update.
    public func optimizerStep(_ rule: OptimizerRule, param: Tensor, grad: Tensor, state: [Tensor]) {
        counter.bump(FusedOp(rule))
        compositeOptimizerStep(rule, param: param, grad: grad, state: state)
    }
}
