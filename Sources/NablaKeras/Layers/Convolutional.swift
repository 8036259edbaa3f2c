import NablaNN

/// Keras' image layout: `channelsLast` (`[N, H, W, C]`, the default) or `channelsFirst` (`[N, C, H, W]`, PyTorch's).
public enum DataFormat: String, Sendable {
    /// `[N, H, W, C]`.
    case channelsLast = "channels_last"
    /// `[N, C, H, W]`.
    case channelsFirst = "channels_first"

    func toNCHW(_ x: Tensor) -> Tensor { self == .channelsLast ? x.permute(0, 3, 1, 2) : x }
    func fromNCHW(_ x: Tensor) -> Tensor { self == .channelsLast ? x.permute(0, 2, 3, 1) : x }
    func channelAxis(_ rank: Int) -> Int { self == .channelsLast ? rank - 1 : 1 }
}

/// 2-D convolution (`keras.layers.Conv2D`), channels-last by default, over Nabla's `conv2d` op.
///
/// The kernel is stored in the op's layout `[filters, inChannels, kh, kw]` and initialised as a
/// Keras `[kh, kw, in, filters]` kernel (glorot uniform); the bias starts at zero.
/// ```swift
/// let y = Conv2D(32, kernelSize: 3, activation: .relu)(Input(shape: [28, 28, 1]))   // (None, 26, 26, 32)
/// ```
public final class Conv2D: Layer {
    /// Number of output channels.
    public let filters: Int
    /// Kernel height and width.
    public let kernelSize: [Int]
    /// Strides.
    public let strides: [Int]
    /// `.valid` (no padding) or `.same`.
    public let padding: ConvPadding
    /// Dilation rates.
    public let dilationRate: [Int]
    /// Applied to the output.
    public let activation: ActivationFunction
    /// Whether a bias is added.
    public let useBias: Bool
    /// Image layout.
    public let dataFormat: DataFormat
    let kernelInitializer: Initializer
    let declared: [Int]?
    /// `[filters, inChannels, kh, kw]`.
    public private(set) var kernel: Tensor?
    /// `[filters]`.
    public private(set) var bias: Tensor?

    /// Creates the layer; the input channel count comes from the first input.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: ConvPadding = .valid,
                dilationRate: SpatialSize = 1, activation: ActivationFunction = .linear, useBias: Bool = true,
                dataFormat: DataFormat = .channelsLast, kernelInitializer: Initializer = .glorotUniform,
                inputShape: [Int]? = nil, name: String? = nil) {
        check(filters > 0, "Conv2D: filters must be positive, got \(filters)")
        self.filters = filters
        self.kernelSize = kernelSize.expanded(2, op: "Conv2D", name: "kernelSize")
        self.strides = strides.expanded(2, op: "Conv2D", name: "strides")
        self.dilationRate = dilationRate.expanded(2, op: "Conv2D", name: "dilationRate")
        self.padding = padding; self.activation = activation; self.useBias = useBias
        self.dataFormat = dataFormat; self.kernelInitializer = kernelInitializer; declared = inputShape
        super.init(name: name)
    }

    /// Keras' `input_shape`, if given.
    public override var declaredInputShape: [Int]? { declared }

    /// Creates the kernel and bias for the input's channel count.
    public override func build(inputShape: [Int]) {
        guard inputShape.count == 4 else { nablaFail("layer \(name): Conv2D expects a rank-4 input [N, H, W, C], got \(TensorSpec.format(inputShape))") }
        let c = inputShape[dataFormat.channelAxis(4)]
        guard c > 0 else { nablaFail("layer \(name): Conv2D needs a known channel count, got \(TensorSpec.format(inputShape))") }
        let k = kernelInitializer.make([kernelSize[0], kernelSize[1], c, filters]).permute(3, 2, 0, 1).contiguous()
        kernel = Parameter(k)
        trackWeight("kernel", kernel!)
        if useBias { bias = addWeight("bias", shape: [filters], initializer: .zeros) }
    }

    /// Channels-last inputs must keep their channel count; spatial sizes may change.
    public override func validate(_ shapes: [[Int]]) throws(ShapeError) {
        guard let k = kernel, shapes.count == 1 else { return }
        let s = shapes[0]
        let c = s.count == 4 ? s[dataFormat.channelAxis(4)] : -2
        guard c == k.shape[1] || c == -1 else {
            var e = [-1, -1, -1, -1]; e[dataFormat.channelAxis(4)] = k.shape[1]
            throw ShapeError(op: "layer \(name)", "expected input \(TensorSpec.format(e)), got \(TensorSpec.format(s))")
        }
    }

    /// `activation(conv2d(x, kernel) + bias)`.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        guard let kernel else { nablaFail("layer \(name): not built") }
        check(x.rank == 4, "layer \(name): expected a rank-4 input, got \(x.shape)")
        let y = conv2d(dataFormat.toNCHW(x), kernel, bias: bias, stride: SpatialSize(strides), padding: padding,
                       dilation: SpatialSize(dilationRate))
        let out = dataFormat.fromNCHW(y)
        return activation == .linear ? out : activation(out)
    }

    /// `filters`, `kernel_size`, `strides`, `activation`.
    public override var config: [(String, GraphAttribute)] {
        [("filters", .int(filters)), ("kernel_size", .ints(kernelSize)), ("strides", .ints(strides)),
         ("activation", .string(activation.rawValue))]
    }

    /// `config` plus `padding`, `dilation_rate`, `use_bias` and `data_format`.
    public override func getConfig() -> [(String, GraphAttribute)] {
        config + [("padding", padding.attribute), ("dilation_rate", .ints(dilationRate)), ("use_bias", .bool(useBias)),
                  ("data_format", .string(dataFormat.rawValue))]
    }
}

/// 2-D max pooling (`keras.layers.MaxPooling2D`), channels-last by default, over Nabla's `maxPool2d`.
public final class MaxPooling2D: Layer {
    /// Window size.
    public let poolSize: [Int]
    /// Strides (default: the window size).
    public let strides: [Int]
    /// Image layout.
    public let dataFormat: DataFormat
    /// Creates the layer (`valid` padding).
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, dataFormat: DataFormat = .channelsLast, name: String? = nil) {
        self.poolSize = poolSize.expanded(2, op: "MaxPooling2D", name: "poolSize")
        self.strides = (strides ?? poolSize).expanded(2, op: "MaxPooling2D", name: "strides")
        self.dataFormat = dataFormat
        super.init(name: name)
    }
    /// The window maxima.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        check(x.rank == 4, "layer \(name): expected a rank-4 input, got \(x.shape)")
        return dataFormat.fromNCHW(maxPool2d(dataFormat.toNCHW(x), kernelSize: SpatialSize(poolSize), stride: SpatialSize(strides)))
    }
    /// `pool_size`, `strides`.
    public override var config: [(String, GraphAttribute)] { [("pool_size", .ints(poolSize)), ("strides", .ints(strides))] }
    /// `config` plus `data_format`.
    public override func getConfig() -> [(String, GraphAttribute)] { config + [("data_format", .string(dataFormat.rawValue))] }
}

/// 2-D average pooling (`keras.layers.AveragePooling2D`), channels-last by default, over Nabla's `avgPool2d`.
public final class AveragePooling2D: Layer {
    /// Window size.
    public let poolSize: [Int]
    /// Strides (default: the window size).
    public let strides: [Int]
    /// Image layout.
    public let dataFormat: DataFormat
    /// Creates the layer (`valid` padding).
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, dataFormat: DataFormat = .channelsLast, name: String? = nil) {
        self.poolSize = poolSize.expanded(2, op: "AveragePooling2D", name: "poolSize")
        self.strides = (strides ?? poolSize).expanded(2, op: "AveragePooling2D", name: "strides")
        self.dataFormat = dataFormat
        super.init(name: name)
    }
    /// The window means.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        check(x.rank == 4, "layer \(name): expected a rank-4 input, got \(x.shape)")
        return dataFormat.fromNCHW(avgPool2d(dataFormat.toNCHW(x), kernelSize: SpatialSize(poolSize), stride: SpatialSize(strides)))
    }
    /// `pool_size`, `strides`.
    public override var config: [(String, GraphAttribute)] { [("pool_size", .ints(poolSize)), ("strides", .ints(strides))] }
    /// `config` plus `data_format`.
    public override func getConfig() -> [(String, GraphAttribute)] { config + [("data_format", .string(dataFormat.rawValue))] }
}

/// The mean over the spatial dimensions (`keras.layers.GlobalAveragePooling2D`): `(None, H, W, C)` → `(None, C)`.
public final class GlobalAveragePooling2D: Layer {
    /// Image layout.
    public let dataFormat: DataFormat
    /// Creates the layer.
    public init(dataFormat: DataFormat = .channelsLast, name: String? = nil) { self.dataFormat = dataFormat; super.init(name: name) }
    /// `data_format`.
    public override func getConfig() -> [(String, GraphAttribute)] { [("data_format", .string(dataFormat.rawValue))] }
    /// `x.mean(dims: [1, 2])` (channels-last).
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        check(x.rank == 4, "layer \(name): expected a rank-4 input, got \(x.shape)")
        return x.mean(dims: dataFormat == .channelsLast ? [1, 2] : [2, 3])
    }
    /// `(None, C)`.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        let s = inputs[0].shape
        guard s.count == 4 else { throw ShapeError(op: "layer \(name)", "expected a rank-4 input, got \(TensorSpec.format(s))") }
        return [TensorSpec(shape: [s[0], s[dataFormat.channelAxis(4)]], dtype: inputs[0].dtype)]
    }
}
