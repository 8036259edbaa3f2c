// Normalisation layers: LayerNorm, GroupNorm, BatchNorm1d/2d/3d, with PyTorch's parameters,
// buffers (state-dict names `running_mean`, `running_var`, `num_batches_tracked`) and printing.

/// Python's spelling of a float in a layer's description (`1e-05`, `0.1`, `1.0`).
func pythonFloat(_ v: Double) -> String { "\(v)" }

/// Python's spelling of a tuple of ints (`(256,)`, `(2, 5)`).
func pythonTuple(_ v: [Int]) -> String { v.count == 1 ? "(\(v[0]),)" : "(" + v.map(String.init).joined(separator: ", ") + ")" }

/// Normalises over the trailing `normalizedShape` dims with a learned scale and shift (`nn.LayerNorm`).
///
/// ```swift
/// let ln = LayerNorm(256)            // or LayerNorm([256])
/// let y = ln(Tensor.randn([4, 10, 256]))
/// ```
public final class LayerNorm: Module {
    /// The trailing sizes normalised over.
    public let normalizedShape: [Int]
    /// Added to the variance for numerical stability.
    public let eps: Double
    /// Whether the layer has a learned weight (and bias).
    public let elementwiseAffine: Bool
    /// Scale of shape `normalizedShape` (ones at init), nil without affine.
    public var weight: Tensor?
    /// Shift of shape `normalizedShape` (zeros at init), nil without affine or bias.
    public var bias: Tensor?

    /// Creates the layer (`nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)`).
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                dtype: DType = .float32) {
        check(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 >= 0 },
              "LayerNorm: normalizedShape must be a non-empty list of sizes, got \(normalizedShape)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        self.elementwiseAffine = elementwiseAffine
        weight = elementwiseAffine ? Parameter(Tensor.ones(normalizedShape, dtype: dtype)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(Tensor.zeros(normalizedShape, dtype: dtype)) : nil
        super.init()
    }

    /// Creates the layer normalising over one trailing dim of size `normalizedShape`.
    public convenience init(_ normalizedShape: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                            dtype: DType = .float32) {
        self.init([normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias, dtype: dtype)
    }

    /// `layerNorm(x, normalizedShape:, weight:, bias:, eps:)`.
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank >= normalizedShape.count && Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
              "LayerNorm: expected input with trailing shape \(normalizedShape), got shape \(input.shape)")
        return layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    /// `(256,), eps=1e-05, elementwise_affine=True`.
    public override var extraDescription: String {
        "\(pythonTuple(normalizedShape)), eps=\(pythonFloat(eps)), elementwise_affine=\(elementwiseAffine ? "True" : "False")"
    }
}

/// Normalises over groups of channels with a per-channel scale and shift (`nn.GroupNorm`).
///
/// ```swift
/// let gn = GroupNorm(4, 32)
/// let y = gn(Tensor.randn([2, 32, 8, 8]))
/// ```
public final class GroupNorm: Module {
    /// Number of channel groups.
    public let numGroups: Int
    /// Number of channels (dim 1 of the input).
    public let numChannels: Int
    /// Added to the variance for numerical stability.
    public let eps: Double
    /// Whether the layer has a learned per-channel weight and bias.
    public let affine: Bool
    /// `[numChannels]` scale (ones at init), nil without affine.
    public var weight: Tensor?
    /// `[numChannels]` shift (zeros at init), nil without affine.
    public var bias: Tensor?

    /// Creates the layer (`nn.GroupNorm(num_groups, num_channels, eps, affine)`).
    public init(_ numGroups: Int, _ numChannels: Int, eps: Double = 1e-5, affine: Bool = true, dtype: DType = .float32) {
        check(numGroups > 0 && numChannels % numGroups == 0,
              "GroupNorm: numChannels \(numChannels) must be divisible by numGroups \(numGroups)")
        self.numGroups = numGroups
        self.numChannels = numChannels
        self.eps = eps
        self.affine = affine
        weight = affine ? Parameter(Tensor.ones([numChannels], dtype: dtype)) : nil
        bias = affine ? Parameter(Tensor.zeros([numChannels], dtype: dtype)) : nil
        super.init()
    }

    /// `groupNorm(x, numGroups:, weight:, bias:, eps:)`.
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank >= 2 && input.shape[1] == numChannels,
              "GroupNorm: expected input of shape (N, \(numChannels), *), got shape \(input.shape)")
        return groupNorm(input, numGroups: numGroups, weight: weight, bias: bias, eps: eps)
    }

    /// `4, 32, eps=1e-05, affine=True`.
    public override var extraDescription: String {
        "\(numGroups), \(numChannels), eps=\(pythonFloat(eps)), affine=\(affine ? "True" : "False")"
    }
}

/// The shared implementation of BatchNorm1d, BatchNorm2d and BatchNorm3d (PyTorch's `_BatchNorm`).
///
/// In training mode it normalises by batch statistics and updates the running statistics; in
/// evaluation mode (`eval()`) it uses the running statistics.
open class BatchNormBase: Module {
    /// Number of channels `C` (dim 1 of the input).
    public let numFeatures: Int
    /// Added to the variance for numerical stability.
    public let eps: Double
    /// Weight of the new batch statistic in the running average; nil gives a cumulative average.
    public let momentum: Double?
    /// Whether the layer has a learned per-channel weight and bias.
    public let affine: Bool
    /// Whether running statistics are kept (otherwise batch statistics are used in eval too).
    public let trackRunningStats: Bool
    /// `[numFeatures]` scale (ones at init), nil without affine.
    public var weight: Tensor?
    /// `[numFeatures]` shift (zeros at init), nil without affine.
    public var bias: Tensor?
    /// `[numFeatures]` running mean (zeros at init), state-dict name `running_mean`.
    public var runningMean: Tensor?
    /// `[numFeatures]` running (unbiased) variance (ones at init), state-dict name `running_var`.
    public var runningVar: Tensor?
    /// 0-d int64 count of training batches seen, state-dict name `num_batches_tracked`.
    public var numBatchesTracked: Tensor?

    /// Creates the layer (`nn.BatchNorm2d(num_features, eps, momentum, affine, track_running_stats)`).
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, dtype: DType = .float32) {
        check(numFeatures > 0, "\(Self.self): numFeatures must be positive, got \(numFeatures)")
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.trackRunningStats = trackRunningStats
        weight = affine ? Parameter(Tensor.ones([numFeatures], dtype: dtype)) : nil
        bias = affine ? Parameter(Tensor.zeros([numFeatures], dtype: dtype)) : nil
        if trackRunningStats {
            runningMean = Buffer(Tensor.zeros([numFeatures], dtype: dtype))
            runningVar = Buffer(Tensor.ones([numFeatures], dtype: dtype))
            numBatchesTracked = Buffer(Tensor.zeros([], dtype: .int64))
        }
        super.init()
    }

    /// The input ranks this layer accepts (BatchNorm1d: 2 or 3; BatchNorm2d: 4; BatchNorm3d: 5).
    open var expectedRanks: [Int] { [] }

    /// Resets the running statistics to their initial values (`reset_running_stats`).
    public func resetRunningStats() {
        noGrad {
            runningMean?.zero_()
            runningVar?.fill_(1)
            numBatchesTracked?.zero_()
        }
    }

    /// `batchNorm(x, runningMean:, runningVar:, weight:, bias:, training:, momentum:, eps:)`.
    public override func forward(_ input: Tensor) -> Tensor {
        check(expectedRanks.isEmpty || expectedRanks.contains(input.rank),
              "\(typeName): expected \(expectedRanks.map { "\($0)D" }.joined(separator: " or ")) input, got shape \(input.shape)")
        check(input.rank >= 2 && input.shape[1] == numFeatures,
              "\(typeName): expected input of shape (N, \(numFeatures), *), got shape \(input.shape)")
        var factor = momentum ?? 0
        if training && trackRunningStats, let nbt = numBatchesTracked {
            noGrad { nbt.add_(1) }
            factor = momentum ?? 1 / nbt.item()
        }
        let useBatch = training || runningMean == nil || runningVar == nil
        let track = !training || trackRunningStats
        return batchNorm(input, runningMean: track ? runningMean : nil, runningVar: track ? runningVar : nil,
                         weight: weight, bias: bias, training: useBatch, momentum: factor, eps: eps)
    }

    /// `64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True`.
    public override var extraDescription: String {
        "\(numFeatures), eps=\(pythonFloat(eps)), momentum=\(momentum.map(pythonFloat) ?? "None"), "
            + "affine=\(affine ? "True" : "False"), track_running_stats=\(trackRunningStats ? "True" : "False")"
    }
}

/// Batch normalisation over `(N, C)` or `(N, C, L)` inputs (`nn.BatchNorm1d`).
///
/// ```swift
/// let bn = BatchNorm1d(64)
/// let y = bn(Tensor.randn([32, 64]))
/// ```
public final class BatchNorm1d: BatchNormBase {
    /// 2-D or 3-D input.
    public override var expectedRanks: [Int] { [2, 3] }
}

/// Batch normalisation over `(N, C, H, W)` inputs (`nn.BatchNorm2d`).
///
/// ```swift
/// let bn = BatchNorm2d(16)
/// let y = bn(Tensor.randn([8, 16, 28, 28]))
/// ```
public final class BatchNorm2d: BatchNormBase {
    /// 4-D input.
    public override var expectedRanks: [Int] { [4] }
}

/// Batch normalisation over `(N, C, D, H, W)` inputs (`nn.BatchNorm3d`).
public final class BatchNorm3d: BatchNormBase {
    /// 5-D input.
    public override var expectedRanks: [Int] { [5] }
}
