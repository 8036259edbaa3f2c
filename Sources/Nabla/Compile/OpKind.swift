import Foundation

/// What one node of a traced graph does, as data: the backend op and its attributes.
///
/// The op set is the `Backend` protocol's (as torch.compile's AOTAutograd lowers to core ATen): every Tensor op,
/// its backward and the optimizer update reach a backend through these calls, so one trace holds the forward, the
/// backward and the update of a training step. View ops (`reshape`, `permute`, `t`, `expand`, slicing) change only
/// the geometry a node reads, which each input edge carries (`TensorRef`), so chains of them cost nothing and need
/// no node. Hashable (common-subexpression elimination keys on it), printable, and `Codable`-free on purpose: the
/// graph is serialised through ONNX export, not as Swift values.
public enum OpKind: Hashable, CustomStringConvertible, Sendable {
    /// Bytes written from the host into a buffer (`Tensor(shape:data:)` inside traced code): a constant.
    case upload(byteOffset: Int, bytes: Data)
    /// `out = x` with a dtype conversion when they differ.
    case copy
    /// Every element of `out` set to `value`.
    case fill(Double)
    /// An element-wise function of one tensor.
    case unary(UnaryOp)
    /// An element-wise function of two broadcast tensors.
    case binary(BinaryOp)
    /// An element-wise function of a tensor and a scalar (`reversed`: scalar on the left).
    case binaryScalar(BinaryOp, scalar: Double, reversed: Bool)
    /// `out = cond ? a : b`.
    case select
    /// A reduction over `dims`.
    case reduce(ReduceOp, dims: [Int])
    /// The maximum (or minimum) and its index along `dim`.
    case argReduce(max: Bool, dim: Int)
    /// Cumulative sum or product along `dim`.
    case scan(product: Bool, dim: Int)
    /// A (batched) matrix product.
    case matmul
    /// A matrix product added into its output.
    case matmulAccumulate
    /// `torch.gather` along `dim`.
    case gather(dim: Int)
    /// `torch.scatter` (or `scatter_add` with `accumulate`) along `dim`.
    case scatter(dim: Int, accumulate: Bool)
    /// A sort along `dim`, values and indices.
    case sort(dim: Int, descending: Bool)
    /// Samples from a distribution (impure: each run draws anew from the generator).
    case random(RandomKind)
    /// Unfolds convolution windows.
    case im2col(ConvGeometry)
    /// Folds convolution windows back, summing overlaps.
    case col2im(ConvGeometry)
    /// 2-D max pooling with indices.
    case maxPool2d(PoolWindows)
    /// The gradient of 2-D max pooling.
    case maxPool2dBackward
    /// Swaps the two leading dims, adding a bias.
    case swapLeadingDims(bias: Bool)
    /// A groups-1 2-D convolution.
    case conv2d(ConvGeometry, bias: Bool)
    /// The gradients of `conv2d`.
    case conv2dBackward(ConvGeometry, input: Bool, weight: Bool, bias: Bool)
    /// An inference convolution on prepared (packed) weights with its ReLU and 2x2 max pool fused
    /// (`Backend.conv2d(_:prepared:geometry:epilogue:out:)`; made by the prepared-convolution pass of eval graphs).
    case preparedConv2d(ConvGeometry, bias: Bool, epilogue: ConvEpilogue)
    /// A training convolution with its ReLU and 2x2 max pool, values and indices, without the activation between
    /// them (`Backend.conv2dReluMaxPool`; made by the convolution-ReLU-pool pass).
    case conv2dReluMaxPool(ConvGeometry, bias: Bool, PoolWindows)
    /// The gradient through a max pool and the ReLU before it, from the pool's output
    /// (`Backend.maxPool2dReluBackward`; made by the same pass).
    case maxPool2dReluBackward(PoolWindows)
    /// A linear layer of a few rows on a prepared (packed) weight, `x · weightᵀ + bias`
    /// (`Backend.linear(_:prepared:out:)`; made by the prepared-linear pass of eval graphs).
    case preparedLinear(bias: Bool)
    /// Softmax or log-softmax along `dim`.
    case softmax(dim: Int, log: Bool)
    /// The gradient of `softmax`.
    case softmaxBackward(dim: Int, log: Bool)
    /// The negative log-likelihood of log-probability rows at class indices.
    case nllLoss(ignoreIndex: Int, reduction: LossReduction)
    /// The gradient of `nllLoss`.
    case nllLossBackward(ignoreIndex: Int, reduction: LossReduction)
    /// Cross-entropy of logit rows: their logSoftmax (kept for the backward) and its NLL, in one pass.
    case softmaxCrossEntropy(ignoreIndex: Int, reduction: LossReduction)
    /// The gradient of `softmaxCrossEntropy`, `(softmax − one-hot)·w·g/W`, in one pass.
    case softmaxCrossEntropyBackward(ignoreIndex: Int, reduction: LossReduction)
    /// Row normalisation (layerNorm, groupNorm).
    case normRows(rows: Int, rowLen: Int, groups: Int, inner: Int, eps: Double, weight: Bool, bias: Bool)
    /// The gradients of a layerNorm.
    case normRowsBackward(rows: Int, rowLen: Int, weight: Bool, bias: Bool)
    /// Batch statistics of a batchNorm.
    case batchNormStats(n: Int, channels: Int, inner: Int)
    /// The per-channel affine map of a batchNorm.
    case batchNormAffine(n: Int, channels: Int, inner: Int)
    /// The gradients of a training-mode batchNorm.
    case batchNormBackward(n: Int, channels: Int, inner: Int, weight: Bool)
    /// Fused scaled-dot-product attention.
    case attention(scale: Double, mask: Bool)
    /// The gradients of `attention`.
    case attentionBackward(scale: Double)
    /// One direction of a recurrent layer over a sequence.
    case recurrentSequence(RecurrentMode, reverse: Bool, zeroState: Bool)
    /// The gradients of `recurrentSequence`.
    case recurrentSequenceBackward(needInput: Bool, needH0: Bool)
    /// The LSTM cell update.
    case lstmCell
    /// The gradients of the LSTM cell update.
    case lstmCellBackward
    /// One optimizer update in place (its step count and learning rate are read from the optimizer at each run).
    case optimizerStep(String)
    /// Element-wise nodes fused into one pass over the data, tile by tile.
    indirect case fused(FusedProgram)
    /// A matrix product fused with its bias and the element-wise ops applied to its result, block of rows by block.
    indirect case gemmEpilogue(GemmEpilogue)

    /// Whether running the node has an effect beyond its outputs (it must run even when nothing reads them).
    public var isImpure: Bool {
        switch self {
        case .random, .optimizerStep: return true
        default: return false
        }
    }

    /// Whether the node is one element-wise pass that the fusion pass can merge with its neighbours.
    public var isElementwise: Bool {
        switch self {
        case .unary, .binary, .binaryScalar, .select, .copy, .fill: return true
        default: return false
        }
    }

    /// The op's name and attributes, as `print(graph)` shows them.
    public var description: String {
        switch self {
        case .upload(let o, let d): return "constant(\(d.count) bytes at \(o))"
        case .copy: return "copy"
        case .fill(let v): return "fill(\(v))"
        case .unary(let op): return "\(op)"
        case .binary(let op): return "\(op)"
        case .binaryScalar(let op, let s, let r): return r ? "\(op)(\(s), _)" : "\(op)(_, \(s))"
        case .select: return "where"
        case .reduce(let op, let dims): return "\(op)(dims: \(dims))"
        case .argReduce(let m, let d): return "\(m ? "max" : "min")WithIndex(dim: \(d))"
        case .scan(let p, let d): return "\(p ? "cumprod" : "cumsum")(dim: \(d))"
        case .matmul: return "matmul"
        case .matmulAccumulate: return "matmulAccumulate"
        case .gather(let d): return "gather(dim: \(d))"
        case .scatter(let d, let a): return "scatter\(a ? "Add" : "")(dim: \(d))"
        case .sort(let d, let desc): return "sort(dim: \(d)\(desc ? ", descending" : ""))"
        case .random(let k): return "random(\(k))"
        case .im2col(let g): return "im2col(k: \(g.kernelH)x\(g.kernelW), stride: \(g.strideH))"
        case .col2im(let g): return "col2im(k: \(g.kernelH)x\(g.kernelW), stride: \(g.strideH))"
        case .maxPool2d: return "maxPool2d"
        case .maxPool2dBackward: return "maxPool2dBackward"
        case .swapLeadingDims(let b): return "swapLeadingDims\(b ? "+bias" : "")"
        case .conv2d(let g, let b): return "conv2d(k: \(g.kernelH)x\(g.kernelW), stride: \(g.strideH), pad: \(g.padH)\(b ? ", bias" : ""))"
        case .preparedLinear(let b): return "linear(prepared\(b ? ", bias" : ""))"
        case .preparedConv2d(let g, let b, let e):
            return "conv2d(prepared, k: \(g.kernelH)x\(g.kernelW), stride: \(g.strideH), pad: \(g.padH)\(b ? ", bias" : ""), epilogue: \(e))"
        case .conv2dReluMaxPool(let g, let b, _):
            return "conv2d+relu+maxPool2d(k: \(g.kernelH)x\(g.kernelW), stride: \(g.strideH), pad: \(g.padH)\(b ? ", bias" : ""))"
        case .maxPool2dReluBackward: return "maxPool2d+reluBackward"
        case .conv2dBackward(let g, let i, let w, let b):
            return "conv2dBackward(k: \(g.kernelH)x\(g.kernelW), input: \(i), weight: \(w), bias: \(b))"
        case .softmax(let d, let l): return "\(l ? "logSoftmax" : "softmax")(dim: \(d))"
        case .softmaxBackward(let d, let l): return "\(l ? "logSoftmax" : "softmax")Backward(dim: \(d))"
        case .nllLoss(let i, let r): return "nllLoss(reduction: \(r)\(i == -100 ? "" : ", ignoreIndex: \(i)"))"
        case .nllLossBackward(let i, let r): return "nllLossBackward(reduction: \(r)\(i == -100 ? "" : ", ignoreIndex: \(i)"))"
        case .softmaxCrossEntropy(let i, let r): return "softmaxCrossEntropy(reduction: \(r)\(i == -100 ? "" : ", ignoreIndex: \(i)"))"
        case .softmaxCrossEntropyBackward(let i, let r):
            return "softmaxCrossEntropyBackward(reduction: \(r)\(i == -100 ? "" : ", ignoreIndex: \(i)"))"
        case .normRows(let r, let l, let g, _, let e, _, _): return "normRows(\(r)x\(l), groups: \(g), eps: \(e))"
        case .normRowsBackward(let r, let l, _, _): return "normRowsBackward(\(r)x\(l))"
        case .batchNormStats(let n, let c, let i): return "batchNormStats(\(n)x\(c)x\(i))"
        case .batchNormAffine(let n, let c, let i): return "batchNormAffine(\(n)x\(c)x\(i))"
        case .batchNormBackward(let n, let c, let i, _): return "batchNormBackward(\(n)x\(c)x\(i))"
        case .attention(let s, let m): return "attention(scale: \(s)\(m ? ", mask" : ""))"
        case .attentionBackward(let s): return "attentionBackward(scale: \(s))"
        case .recurrentSequence(let m, let r, _): return "\(m)Sequence\(r ? "(reverse)" : "")"
        case .recurrentSequenceBackward: return "recurrentSequenceBackward"
        case .lstmCell: return "lstmCell"
        case .lstmCellBackward: return "lstmCellBackward"
        case .optimizerStep(let name): return "optimizerStep(\(name))"
        case .fused(let p): return "fused\(p)"
        case .gemmEpilogue(let e): return "\(e)"
        }
    }
}
