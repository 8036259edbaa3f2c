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
    /// The height and width axes of a rank-4 input.
    var spatialAxes: [Int] { self == .channelsLast ? [1, 2] : [2, 3] }
}

/// The output size of a sliding window (convolution or pooling) along one dimension of size `n` (`-1` when free),
/// or a `ShapeError` naming the layer when the window does not fit.
func windowOutputSize(_ n: Int, kernel k: Int, stride s: Int, dilation d: Int = 1, padding p: Int = 0,
                      layer: String, what: String) throws(ShapeError) -> Int {
    guard k > 0, s > 0, d > 0, p >= 0 else {
        throw ShapeError(op: "layer \(layer)", "\(what) \(k), stride \(s), dilation \(d) and padding \(p) must be positive (padding non-negative)")
    }
    let (m, o1) = d.multipliedReportingOverflow(by: k - 1)
    let (p2, o2) = p.multipliedReportingOverflow(by: 2)
    guard !o1, !o2, m < Int.max / 4, p2 < Int.max / 4 else { throw ShapeError(op: "layer \(layer)", "\(what) \(k) (dilation \(d), padding \(p)) is too large") }
    if n < 0 { return -1 }
    let span = m + 1
    guard n < Int.max / 4, n + p2 >= span else {
        throw ShapeError(op: "layer \(layer)", "\(what) \(k)\(d > 1 ? " (dilation \(d))" : "") is larger than the \(p > 0 ? "padded " : "")input size \(n + p2)")
    }
    return (n + p2 - span) / s + 1
}

/// The output spec of a 2-D window op on a rank-4 input.
func windowOutputSpec(_ input: TensorSpec, channels: Int?, kernel: [Int], strides: [Int], dilation: [Int] = [1, 1], padding: ConvPadding = .valid,
                      format: DataFormat, layer: String, what: String) throws(ShapeError) -> TensorSpec {
    let s = input.shape
    guard s.count == 4 else { throw ShapeError(op: "layer \(layer)", "expected a rank-4 input, got \(TensorSpec.format(s))") }
    var out = s
    if let channels { out[format.channelAxis(4)] = channels }
    for (i, axis) in format.spatialAxes.enumerated() {
        switch padding {
        case .same:
            guard strides[i] == 1 else { throw ShapeError(op: "layer \(layer)", "padding \"same\" needs stride 1, got strides \(strides)") }
            _ = try windowOutputSize(-1, kernel: kernel[i], stride: 1, dilation: dilation[i], layer: layer, what: what)
        case .valid:
            out[axis] = try windowOutputSize(s[axis], kernel: kernel[i], stride: strides[i], dilation: dilation[i], layer: layer, what: what)
        case .explicit(let p):
            let pads = p.values.count == 1 ? [p.values[0], p.values[0]] : p.values
            guard pads.count == 2 else { throw ShapeError(op: "layer \(layer)", "padding must have 1 or 2 sizes, got \(p.values)") }
            out[axis] = try windowOutputSize(s[axis], kernel: kernel[i], stride: strides[i], dilation: dilation[i], padding: pads[i],
                                             layer: layer, what: what)
        }
    }
    return TensorSpec(shape: out, dtype: input.dtype)
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

    /// A rank-4 input with a known channel count, that the kernel fits.
    public override func checkBuild(inputShape: [Int]) throws(ShapeError) {
        guard inputShape.count == 4 else {
            throw ShapeError(op: "layer \(name)", "Conv2D expects a rank-4 input [N, H, W, C], got \(TensorSpec.format(inputShape))")
        }
        let c = inputShape[dataFormat.channelAxis(4)]
        guard c > 0 else { throw ShapeError(op: "layer \(name)", "Conv2D needs a known channel count, got \(TensorSpec.format(inputShape))") }
        _ = try computeOutputSpecs([TensorSpec(shape: inputShape, dtype: .float32)])
        try checkWeightSize("kernel", [filters, c, kernelSize[0], kernelSize[1]])
    }

    /// `(None, H', W', filters)` from the window arithmetic.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        guard inputs.count == 1 else { throw ShapeError(op: "layer \(name)", "Conv2D expects one input, got \(inputs.count)") }
        return [try windowOutputSpec(inputs[0], channels: filters, kernel: kernelSize, strides: strides, dilation: dilationRate,
                                     padding: padding, format: dataFormat, layer: name, what: "kernel")]
    }

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
    /// `(None, H', W', C)` from the window arithmetic.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        guard inputs.count == 1 else { throw ShapeError(op: "layer \(name)", "MaxPooling2D expects one input, got \(inputs.count)") }
        return [try windowOutputSpec(inputs[0], channels: nil, kernel: poolSize, strides: strides, format: dataFormat, layer: name, what: "pool size")]
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
    /// `(None, H', W', C)` from the window arithmetic.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        guard inputs.count == 1 else { throw ShapeError(op: "layer \(name)", "AveragePooling2D expects one input, got \(inputs.count)") }
        return [try windowOutputSpec(inputs[0], channels: nil, kernel: poolSize, strides: strides, format: dataFormat, layer: name, what: "pool size")]
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
