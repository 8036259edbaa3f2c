/// PyTorch's tuple repr: `(3, 3)`, `(3,)`.
func tupleDescription(_ values: [Int]) -> String {
    values.count == 1 ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
}

/// Checks that `groups` divides both channel counts of `layer`.
func checkConvGroups(_ layer: String, _ inChannels: Int, _ outChannels: Int, groups: Int) {
    check(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
          "\(layer): inChannels \(inChannels) and outChannels \(outChannels) must be divisible by groups \(groups)")
}

/// PyTorch's default conv parameters: the weight `[lead, channels / groups] + kernel` and, with `bias`, the bias
/// `[outChannels]`, both uniform on ±1/√(channels/groups·∏kernel) (drawn in that order). `lead, channels` are
/// `outChannels, inChannels` for a convolution and `inChannels, outChannels` for a transposed one.
func convParameters(_ lead: Int, _ channels: Int, groups: Int, kernel: [Int], outChannels: Int, bias: Bool,
                    dtype: DType) -> (weight: Tensor, bias: Tensor?) {
    let fanIn = channels / groups * kernel.reduce(1, *)
    return defaultLayerParameters(weight: [lead, channels / groups] + kernel, fanIn: fanIn, bias: bias ? [outChannels] : nil, dtype: dtype)
}

/// The shared `extraDescription` of the conv layers, as PyTorch's `_ConvNd.extra_repr`.
func convDescription(_ inC: Int, _ outC: Int, kernel: [Int], stride: [Int], padding: String?, dilation: [Int],
                     outputPadding: [Int]? = nil, groups: Int, bias: Bool, paddingMode: PadMode = .zeros) -> String {
    var s = "\(inC), \(outC), kernel_size=\(tupleDescription(kernel)), stride=\(tupleDescription(stride))"
    if let padding { s += ", padding=\(padding)" }
    if dilation.contains(where: { $0 != 1 }) { s += ", dilation=\(tupleDescription(dilation))" }
    if let outputPadding, outputPadding.contains(where: { $0 != 0 }) { s += ", output_padding=\(tupleDescription(outputPadding))" }
    if groups != 1 { s += ", groups=\(groups)" }
    if !bias { s += ", bias=False" }
    if paddingMode != .zeros { s += ", padding_mode=\(paddingMode.rawValue)" }
    return s
}

/// `input` padded as a conv layer with `paddingMode` asks (the conv then runs unpadded), or unchanged for zeros
/// (the conv pads by itself).
func convModePadded(_ input: Tensor, _ padding: ConvPadding, mode: PadMode, kernel: [Int], stride: [Int],
                    dilation: [Int], op: String) -> (Tensor, ConvPadding) {
    guard mode != .zeros else { return (input, padding) }
    let sizes = convPadSizes(padding, kernel: kernel, stride: stride, dilation: dilation, op: op)
    return (pad(input, sizes, mode: mode), .valid)
}

/// The padding entry of the description (nil when zero).
func paddingDescription(_ padding: ConvPadding, rank: Int, op: String) -> String? {
    switch padding {
    case .same: return "same"
    case .valid: return "valid"
    case .explicit(let p):
        let v = p.expanded(rank, op: op, name: "padding")
        return v.allSatisfy { $0 == 0 } ? nil : tupleDescription(v)
    }
}

/// Checks a conv layer's input: `rank` (batched) or `rank - 1` (unbatched) dims with `channels` channels.
func checkConvInput(_ input: Tensor, layer: String, channels: Int, rank: Int, layout: String) {
    let ok = (input.rank == rank || input.rank == rank - 1) && input.shape[input.rank - rank + 1] == channels
    check(ok, "\(layer): expected input \(layout) with \(channels) channels (batched \(rank)-D or unbatched \(rank - 1)-D), got shape \(input.shape)")
}

/// A 2-D convolution layer over [N, C, H, W] input, as `torch.nn.Conv2d`.
///
/// ```swift
/// let conv = Conv2d(1, 32, kernelSize: 3, padding: 1)
/// let y = conv(Tensor.randn([8, 1, 28, 28]))   // [8, 32, 28, 28]
/// ```
public final class Conv2d: Module {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Kernel height and width.
    public let kernelSize: [Int]
    /// Stride per dim.
    public let stride: [Int]
    /// Padding (sizes, `.same` or `.valid`).
    public let padding: ConvPadding
    /// Dilation per dim.
    public let dilation: [Int]
    /// Number of channel groups.
    public let groups: Int
    /// How the border is filled: zeros (the default), reflect, replicate or circular (`padding_mode`).
    public let paddingMode: PadMode
    /// `[outChannels, inChannels / groups, kH, kW]`.
    public var weight: Tensor
    /// `[outChannels]`, or nil without bias.
    public var bias: Tensor?

    /// Creates the layer with PyTorch's default initialisation (uniform on ±1/√(inChannels/groups·kH·kW)).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: SpatialSize, stride: SpatialSize = 1,
                padding: ConvPadding = 0, dilation: SpatialSize = 1, groups: Int = 1, bias: Bool = true,
                paddingMode: PadMode = .zeros, dtype: DType = .float32) {
        checkConvGroups("Conv2d", inChannels, outChannels, groups: groups)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize.expanded(2, op: "Conv2d", name: "kernelSize")
        self.stride = stride.expanded(2, op: "Conv2d", name: "stride")
        self.padding = padding
        self.dilation = dilation.expanded(2, op: "Conv2d", name: "dilation")
        self.groups = groups
        self.paddingMode = paddingMode
        (weight, self.bias) = convParameters(outChannels, inChannels, groups: groups, kernel: self.kernelSize,
                                             outChannels: outChannels, bias: bias, dtype: dtype)
        super.init()
    }

    /// `conv2d(input, weight, bias: bias, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkConvInput(input, layer: "Conv2d", channels: inChannels, rank: 4, layout: "[N, C, H, W]")
        let (x, p) = convModePadded(input, padding, mode: paddingMode, kernel: kernelSize, stride: stride,
                                    dilation: dilation, op: "Conv2d")
        return conv2d(x, weight, bias: bias, stride: SpatialSize(stride), padding: p, dilation: SpatialSize(dilation),
                      groups: groups)
    }

    /// `1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)`.
    public override var extraDescription: String {
        convDescription(inChannels, outChannels, kernel: kernelSize, stride: stride,
                        padding: paddingDescription(padding, rank: 2, op: "Conv2d"), dilation: dilation, groups: groups,
                        bias: bias != nil, paddingMode: paddingMode)
    }
}

/// A 1-D convolution layer over [N, C, L] input, as `torch.nn.Conv1d`.
public final class Conv1d: Module {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Kernel length.
    public let kernelSize: Int
    /// Stride.
    public let stride: Int
    /// Padding (size, `.same` or `.valid`).
    public let padding: ConvPadding
    /// Dilation.
    public let dilation: Int
    /// Number of channel groups.
    public let groups: Int
    /// How the border is filled: zeros (the default), reflect, replicate or circular (`padding_mode`).
    public let paddingMode: PadMode
    /// `[outChannels, inChannels / groups, kernelSize]`.
    public var weight: Tensor
    /// `[outChannels]`, or nil without bias.
    public var bias: Tensor?

    /// Creates the layer with PyTorch's default initialisation (uniform on ±1/√(inChannels/groups·kernelSize)).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvPadding = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, paddingMode: PadMode = .zeros,
                dtype: DType = .float32) {
        checkConvGroups("Conv1d", inChannels, outChannels, groups: groups)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.paddingMode = paddingMode
        (weight, self.bias) = convParameters(outChannels, inChannels, groups: groups, kernel: [kernelSize],
                                             outChannels: outChannels, bias: bias, dtype: dtype)
        super.init()
    }

    /// `conv1d(input, weight, bias: bias, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkConvInput(input, layer: "Conv1d", channels: inChannels, rank: 3, layout: "[N, C, L]")
        let (x, p) = convModePadded(input, padding, mode: paddingMode, kernel: [kernelSize], stride: [stride],
                                    dilation: [dilation], op: "Conv1d")
        return conv1d(x, weight, bias: bias, stride: SpatialSize(stride), padding: p, dilation: SpatialSize(dilation),
                      groups: groups)
    }

    /// `16, 33, kernel_size=(3,), stride=(2,)`.
    public override var extraDescription: String {
        convDescription(inChannels, outChannels, kernel: [kernelSize], stride: [stride],
                        padding: paddingDescription(padding, rank: 1, op: "Conv1d"), dilation: [dilation], groups: groups,
                        bias: bias != nil, paddingMode: paddingMode)
    }
}

/// A 2-D transposed convolution layer, as `torch.nn.ConvTranspose2d`.
public final class ConvTranspose2d: Module {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Kernel height and width.
    public let kernelSize: [Int]
    /// Stride per dim.
    public let stride: [Int]
    /// Implicit padding per dim (removed from the output).
    public let padding: [Int]
    /// Extra size added to one side of the output per dim.
    public let outputPadding: [Int]
    /// Number of channel groups.
    public let groups: Int
    /// Dilation per dim.
    public let dilation: [Int]
    /// `[inChannels, outChannels / groups, kH, kW]`.
    public var weight: Tensor
    /// `[outChannels]`, or nil without bias.
    public var bias: Tensor?

    /// Creates the layer with PyTorch's default initialisation (uniform on ±1/√(outChannels/groups·kH·kW)).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: SpatialSize, stride: SpatialSize = 1, padding: SpatialSize = 0,
                outputPadding: SpatialSize = 0, groups: Int = 1, bias: Bool = true, dilation: SpatialSize = 1, dtype: DType = .float32) {
        checkConvGroups("ConvTranspose2d", inChannels, outChannels, groups: groups)
        let op = "ConvTranspose2d"
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize.expanded(2, op: op, name: "kernelSize")
        self.stride = stride.expanded(2, op: op, name: "stride")
        self.padding = padding.expanded(2, op: op, name: "padding")
        self.outputPadding = outputPadding.expanded(2, op: op, name: "outputPadding")
        self.groups = groups
        self.dilation = dilation.expanded(2, op: op, name: "dilation")
        (weight, self.bias) = convParameters(inChannels, outChannels, groups: groups, kernel: self.kernelSize,
                                             outChannels: outChannels, bias: bias, dtype: dtype)
        super.init()
    }

    /// `convTranspose2d(input, weight, bias: bias, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkConvInput(input, layer: "ConvTranspose2d", channels: inChannels, rank: 4, layout: "[N, C, H, W]")
        return convTranspose2d(input, weight, bias: bias, stride: SpatialSize(stride), padding: SpatialSize(padding),
                               outputPadding: SpatialSize(outputPadding), groups: groups, dilation: SpatialSize(dilation))
    }

    /// `16, 33, kernel_size=(3, 3), stride=(2, 2)`.
    public override var extraDescription: String {
        convDescription(inChannels, outChannels, kernel: kernelSize, stride: stride,
                        padding: padding.allSatisfy { $0 == 0 } ? nil : tupleDescription(padding), dilation: dilation,
                        outputPadding: outputPadding, groups: groups, bias: bias != nil)
    }
}
