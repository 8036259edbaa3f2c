/// Element-wise functions of one tensor, the unary kernel set of every backend.
public enum UnaryOp: Sendable, Hashable {
    case neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, square, reciprocal
    case sin, cos, tan, tanh, sigmoid, relu, floor, ceil, round, trunc, erf, erfinv
    case gelu, geluTanh, silu, logicalNot, isnan, isinf
    /// `max(x, 0) + slope * min(x, 0)`.
    case leakyRelu(Double)
    /// `x > 0 ? x : alpha * (exp(x) - 1)`.
    case elu(Double)
    /// `log(1 + exp(beta x)) / beta`, linear above `threshold`.
    case softplus(beta: Double, threshold: Double)
    /// Clamps into `[min, max]` (either bound may be infinite).
    case clamp(min: Double, max: Double)
    /// `x ** exponent`.
    case powScalar(Double)
    /// `base ** x`.
    case rpowScalar(Double)

    /// Whether the op returns bool whatever its input.
    public var returnsBool: Bool {
        switch self { case .logicalNot, .isnan, .isinf: return true; default: return false }
    }
    /// Whether the op needs floating input (integers are promoted to the default float dtype).
    public var needsFloat: Bool {
        switch self {
        case .neg, .abs, .sign, .square, .relu, .floor, .ceil, .round, .trunc, .logicalNot, .isnan, .isinf, .clamp:
            return false
        default: return true
        }
    }
}

/// Element-wise functions of two tensors (broadcast by strides), the binary kernel set of every backend.
public enum BinaryOp: Sendable, Hashable {
    case add, sub, mul, div, pow, maximum, minimum, atan2, remainder, floorDivide
    case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor
    /// `b > 0 ? a : 0`: the gradient `a` of ReLU masked by its output `b` (PyTorch's `threshold_backward`).
    case thresholdBackward

    /// Whether the op returns bool.
    public var returnsBool: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor: return true
        default: return false
        }
    }
}

/// Reductions over a set of dims, the reduce kernel set of every backend.
public enum ReduceOp: Sendable, Hashable {
    case sum, prod, max, min, all, any
}

/// Distributions the random kernel samples from.
public enum RandomKind: Sendable, Hashable {
    /// Uniform on `[low, high)`.
    case uniform(low: Double, high: Double)
    /// Normal with `mean` and `std`.
    case normal(mean: Double, std: Double)
    /// 1 with probability `p`, else 0.
    case bernoulli(p: Double)
    /// Integers uniform on `[low, high)`.
    case randint(low: Int, high: Int)
}

/// A compute device's storage and kernels.
///
/// Every op calls a backend through this protocol, so a new device implements it and nothing
/// above changes. Kernels receive `out` already allocated on the same device with its final shape;
/// inputs to `binary`/`ternary` are already broadcast (stride 0 on broadcast dims).
public protocol Backend: AnyObject, Sendable {
    /// The device this backend computes on.
    var device: Device { get }
    /// Allocates `byteCount` bytes (64-byte aligned).
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer
    /// Frees memory from `allocate`.
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
    /// Copies host bytes into the device buffer at `offset` bytes.
    func upload(_ bytes: UnsafeRawBufferPointer, to storage: Storage, byteOffset: Int)
    /// Copies device bytes at `offset` bytes into host memory.
    func download(_ storage: Storage, byteOffset: Int, into bytes: UnsafeMutableRawBufferPointer)

    /// Strided copy with dtype conversion: `dst[i] = src[i]` (same shape; src may be broadcast).
    func copy(_ src: Tensor, into dst: Tensor)
    /// Writes `value` into every element of `dst`.
    func fill(_ dst: Tensor, value: Double)
    /// `out = op(x)`.
    func unary(_ op: UnaryOp, _ x: Tensor, out: Tensor)
    /// `out = op(a, b)`, `a` and `b` viewed with `out`'s shape.
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, out: Tensor)
    /// `out = op(a, scalar)` or, when `reversed`, `op(scalar, a)`.
    func binaryScalar(_ op: BinaryOp, _ a: Tensor, _ scalar: Double, reversed: Bool, out: Tensor)
    /// `out = cond ? a : b`, all viewed with `out`'s shape.
    func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor, out: Tensor)
    /// Reduces `x` over `dims` into `out` (shape of `x` with `dims` set to 1).
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], out: Tensor)
    /// Max or min along `dim`: values and int64 indices (first occurrence), shapes with `dim` set to 1.
    func argReduce(max: Bool, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor)
    /// Cumulative sum (or product) along `dim`.
    func scan(product: Bool, _ x: Tensor, dim: Int, out: Tensor)
    /// Batched matrix product: `out[b] = a[b] @ b[b]` for 3-D tensors (batch dims may have stride 0).
    func matmul(_ a: Tensor, _ b: Tensor, out: Tensor)
    /// Batched matrix product added into `out`: `out[b] += a[b] @ b[b]` (a GEMM with beta = 1; shapes as `matmul`).
    func matmulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor)
    /// A linear layer's forward with its epilogue: `out` [M, N] = `input` [M, K] @ `weight`ᵀ ([N, K]) + `bias`
    /// ([N]), then `residual` ([M, N]) added, then a ReLU when `relu`; bias and residual optional, `out` contiguous,
    /// one floating dtype, no autograd. The sums are those of the composite form (the GEMM adding the product onto
    /// the bias, then the residual, then the ReLU). The default (`EagerEpilogue`) runs the GEMM in blocks of rows,
    /// each block's residual and ReLU right after its GEMM; a backend with a GEMM of its own does them in its store.
    func linearEpilogue(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool, out: Tensor)
    /// Element-wise product added into `out`: `out += a * b` (same shape and dtype, all contiguous, `out` aliasing
    /// neither input), rounded as a product followed by a sum (no fused multiply-add). Autograd adds a
    /// multiplication's gradient `grad * operand` into the gradient it has gathered so far with it, instead of
    /// making the product as a tensor first.
    func mulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor)
    /// `out[..., i, ...] = x[..., index[..., i, ...], ...]` along `dim` (`torch.gather`).
    func gather(_ x: Tensor, dim: Int, index: Tensor, out: Tensor)
    /// `out[..., index[i], ...] (+)= src[..., i, ...]` along `dim` (`out` holds the initial values).
    func scatter(_ src: Tensor, dim: Int, index: Tensor, out: Tensor, accumulate: Bool)
    /// Sorts along `dim` (stable), writing values and int64 indices.
    func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor)
    /// Fills `out` with samples drawn from `kind` using `generator`.
    func random(_ kind: RandomKind, out: Tensor, generator: Generator)
    /// Unfolds the sliding windows of `x` [N, C, H, W] into `out` [C·kh·kw, N·oh·ow] (both contiguous; see `ConvGeometry`).
    func im2col(_ x: Tensor, geometry: ConvGeometry, out: Tensor)
    /// The adjoint of `im2col`: sums `cols` [C·kh·kw, N·oh·ow] back into `out` [N, C, H, W] (overwritten).
    func col2im(_ cols: Tensor, geometry: ConvGeometry, out: Tensor)
    /// Max over the windows of each plane of `x` [P, H, W]: values and int64 flat in-plane indices, [P, oh, ow].
    func maxPool2d(_ x: Tensor, windows: PoolWindows, out: Tensor, indices: Tensor)
    /// Max-pool backward: `out` [P, H, W] = 0, then `out[p, indices[p, i]] += grad[p, i]`.
    func maxPool2dBackward(_ grad: Tensor, indices: Tensor, out: Tensor)
    /// `out` [B, A, L] = `x` [A, B, L] with dims 0 and 1 swapped, plus `bias[a]` when given (all contiguous).
    func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor)
    /// Whether `Storage` may keep small buffers of this backend inside the storage object (host memory only).
    var allocatesSmallBuffersInline: Bool { get }

    // MARK: Fused ops. Each has a composite default (Backend/Composite/) built from the kernels above, so a new
    // backend runs every op from the primitives alone and overrides the ones it can do faster. Inputs are
    // contiguous unless a requirement says otherwise; outputs arrive allocated.

    /// A groups-1 convolution: `out` [N, OC, oh, ow] = conv(`x` [N, C, H, W], `weight` [OC, C, kh, kw]) + `bias` [OC].
    /// The backend picks the algorithm.
    func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor)
    /// First-order gradients of `conv2d` from `grad` [N, OC, oh, ow]: the input's, the weight's and the bias's, each
    /// only when asked for (nil otherwise).
    func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry,
                        input: Bool, weight needWeight: Bool, bias: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?)
    /// A convolution, its ReLU and a max pool as one op, the form a compiled training graph gives the three:
    /// `out` [N, OC, ph, pw] and int64 `indices` = `maxPool2d(relu(conv2d(x, weight) + bias), windows)`, the values and
    /// indices of the three ops, without the full-size activation between them ever reaching memory. The default
    /// runs the three.
    func conv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, windows: PoolWindows,
                           out: Tensor, indices: Tensor)
    /// The gradient through a max pool and the ReLU before it, from the pool's output: `out` [P, H, W] =
    /// `maxPool2dBackward(grad · (pooled > 0), indices)` (`pooled` and `grad` [P, oh, ow]; a NaN `pooled` masks). The
    /// default runs the two ops.
    func maxPool2dReluBackward(_ grad: Tensor, pooled: Tensor, indices: Tensor, windows: PoolWindows, out: Tensor)
    /// `conv2dBackward` with the input's gradient written into `inputGradient` ([N, C, H, W], contiguous: memory a
    /// compiled graph planned) instead of a tensor the backend allocates; returns the other two as `conv2dBackward`
    /// does. The default runs `conv2dBackward` and copies its input gradient into `inputGradient`.
    func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry, inputGradient: Tensor,
                        weight needWeight: Bool, bias: Bool) -> (weight: Tensor?, bias: Tensor?)
    /// `out = softmax(x)` (or `logSoftmax` when `log`) along `dim`; `x` may be strided.
    func softmax(_ x: Tensor, dim: Int, log: Bool, out: Tensor)
    /// The first-order gradient of `softmax` (or `logSoftmax` when `log`) along `dim` from its `output`.
    func softmaxBackward(_ grad: Tensor, output: Tensor, dim: Int, log: Bool, out: Tensor)
    /// The negative log-likelihood of `input` [M, C] (log-probabilities, any strides) at int64 class indices `target`
    /// [M]: per row `−weight[t]·input[r, t]` (1 for a nil weight; 0 where `t == ignoreIndex`), into `out`: [M] for
    /// `.none`, else a scalar, the sum (`.sum`) or the sum over the summed weights of the counted rows (`.mean`).
    func nllLoss(_ input: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor)
    /// The gradient of `nllLoss` with respect to its input from `grad` (a scalar, or [M] for `.none`), into `out` [M, C].
    func nllLossBackward(_ grad: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction, out: Tensor)
    /// Cross-entropy: `logSoftmax` of `x` [M, C] (any strides) along dim 1 into `logProbs` [M, C], and `nllLoss` of it
    /// into `loss`, in one pass over each row.
    func softmaxCrossEntropy(_ x: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction,
                             logProbs: Tensor, loss: Tensor)
    /// The gradient of `softmaxCrossEntropy` with respect to `x` from `grad` and the saved `logProbs`, in one pass:
    /// `(softmax − one-hot) · weight[t] · grad` (over the summed weights for `.mean`), into `out` [M, C].
    func softmaxCrossEntropyBackward(_ grad: Tensor, logProbs: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int,
                                     reduction: LossReduction, out: Tensor)
    /// Row normalisation (layerNorm, groupNorm): `x` seen as [rows, rowLen], each row normalised, then scaled and
    /// shifted by `weight`/`bias` of [groups, rowLen / inner] entries broadcast over `inner`; writes the per-row
    /// `mean` and `rstd` (1/std) too.
    func normRows(_ x: Tensor, rows: Int, rowLen: Int, groups: Int, inner: Int, weight: Tensor?, bias: Tensor?, eps: Double,
                  out: Tensor, mean: Tensor, rstd: Tensor)
    /// The first-order gradients of a layerNorm (`groups == 1`, `inner == 1`) from `normRows`' saved statistics.
    func normRowsBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, hasBias: Bool, mean: Tensor, rstd: Tensor,
                          rows: Int, rowLen: Int) -> (input: Tensor, weight: Tensor?, bias: Tensor?)
    /// Per-channel batch statistics of `x` [n, channels, inner]: `mean` and biased `variance` ([channels]).
    func batchNormStats(_ x: Tensor, n: Int, channels: Int, inner: Int, mean: Tensor, variance: Tensor)
    /// `out = x * scale[c] + shift[c]` over `x` [n, channels, inner].
    func batchNormAffine(_ x: Tensor, n: Int, channels: Int, inner: Int, scale: Tensor, shift: Tensor, out: Tensor)
    /// The first-order gradients of a training-mode batchNorm from its batch statistics (`invstd` = 1/std).
    func batchNormBackward(_ x: Tensor, grad: Tensor, weight: Tensor?, mean: Tensor, invstd: Tensor,
                           n: Int, channels: Int, inner: Int) -> (input: Tensor, weight: Tensor, bias: Tensor)
    /// `out = softmax(q kᵀ · scale + mask) v` over `q [B, H, L, D]`, `k [B, H, S, D]`, `v [B, H, S, Dv]` (strided views
    /// with a unit last stride; `mask` a [B, H, L, S] view). Returns what the backward needs.
    func attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double, out: Tensor) -> AttentionContext
    /// The first-order gradients of `attention` from `grad` [B, H, L, Dv] into `dq`, `dk`, `dv` (allocated views).
    func attentionBackward(_ context: AttentionContext, grad: Tensor, scale: Double, dq: Tensor, dk: Tensor, dv: Tensor)
    /// One direction of a recurrent layer over a whole sequence `x [T, B, F]` (see `RecurrentSequenceInputs`):
    /// the outputs `[T, B, H]`, the final `h` (and `c` for an LSTM), and what the backward needs.
    func recurrentSequence(_ inputs: RecurrentSequenceInputs) -> RecurrentSequenceResult
    /// The first-order gradients of `recurrentSequence` from the gradients of its outputs.
    func recurrentSequenceBackward(_ context: RecurrentContext, gradOutput: Tensor, gradH: Tensor, gradC: Tensor?,
                                   needInput: Bool, needH0: Bool) -> RecurrentSequenceGradients
    /// The LSTM cell update from pre-activation `gates` [B, 4H] (i, f, g, o) and `cx` [B, H]: `h`, `c`, and the
    /// activations `act` [B, 4H] and `tanhC` [B, H] its backward reads.
    func lstmCell(gates: Tensor, cx: Tensor, h: Tensor, c: Tensor, act: Tensor, tanhC: Tensor)
    /// The first-order gradients of `lstmCell`: `dgates` [B, 4H] and `dcx` [B, H].
    func lstmCellBackward(gradH: Tensor, gradC: Tensor, act: Tensor, tanhC: Tensor, cx: Tensor, dgates: Tensor, dcx: Tensor)
    /// One optimizer update of `param` (in place) from `grad` and the rule's state buffers (on the parameter's device
    /// and dtype, contiguous, updated in place).
    func optimizerStep(_ rule: OptimizerRule, param: Tensor, grad: Tensor, state: [Tensor])

    // MARK: Inference with constant weights (defaults beside `PreparedConv2d` and `PreparedLinear`).

    /// The packed form of a constant conv weight [OC, C, kh, kw] (contiguous) that `conv2d(_:prepared:...)` reads,
    /// or nil when the backend has none (the default). Called once, by `PreparedConv2d`.
    func packConv2dWeight(_ weight: Tensor) -> Tensor?
    /// An inference convolution with prepared weights: `out` = `epilogue`(conv(`x` [N, C, H, W], `prepared`'s weight)
    /// + its bias), [N, OC, oh, ow], or [N, OC, oh/2, ow/2] with the epilogue's max pool. No gradient. The default
    /// runs `conv2d`, then `unary(.relu)` and `maxPool2d`.
    func conv2d(_ x: Tensor, prepared: PreparedConv2d, geometry: ConvGeometry, epilogue: ConvEpilogue, out: Tensor)
    /// The packed form of a constant linear weight [outFeatures, inFeatures] that `linear(_:prepared:out:)` reads, or
    /// nil when the backend has none (the default). Called once, by `PreparedLinear`.
    func packLinearWeight(_ weight: Tensor) -> Tensor?
    /// An inference linear layer with prepared weights: `out` [M, outFeatures] = `x` [M, inFeatures] (contiguous) @
    /// weightᵀ + bias. No gradient. The default runs `linear` and copies the result into `out`.
    func linear(_ x: Tensor, prepared: PreparedLinear, out: Tensor)
}

extension Backend {
    /// Default: the product into a temporary, then added into `out`.
    public func matmulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let product = Tensor(empty: out.shape, dtype: out.dtype, device: out.device)
        matmul(a, b, out: product)
        binary(.add, out, product, out: out)
    }

    /// Default: `conv2dBackward`, then its input gradient copied into `inputGradient`.
    public func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry, inputGradient: Tensor,
                               weight needWeight: Bool, bias: Bool) -> (weight: Tensor?, bias: Tensor?) {
        let r = conv2dBackward(x, weight: weight, grad: grad, geometry: geometry, input: true, weight: needWeight, bias: bias)
        if let gx = r.input { copy(gx, into: inputGradient) }
        return (r.weight, r.bias)
    }

    /// Default: the product into a temporary, then added into `out`.
    public func mulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let product = Tensor(empty: out.shape, dtype: out.dtype, device: out.device)
        binary(.mul, a, b, out: product)
        binary(.add, out, product, out: out)
    }
}
