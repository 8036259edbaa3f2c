/// PyTorch's repr of an int-or-tuple argument: `2` or `(2, 3)`.
private func sizeDescription(_ s: SpatialSize) -> String {
    s.values.count == 1 ? "\(s.values[0])" : "(" + s.values.map(String.init).joined(separator: ", ") + ")"
}

/// Checks a pool layer's input rank.
private func checkPoolInput(_ input: Tensor, layer: String, rank: Int, layout: String) {
    check(input.rank == rank || input.rank == rank - 1,
          "\(layer): expected batched \(rank)-D input \(layout) or unbatched \(rank - 1)-D, got shape \(input.shape)")
}

/// 2-D max pooling as a layer (`torch.nn.MaxPool2d`); `stride` defaults to `kernelSize`.
///
/// ```swift
/// let pool = MaxPool2d(kernelSize: 2)
/// pool(Tensor.randn([8, 32, 28, 28])).shape   // [8, 32, 14, 14]
/// ```
public final class MaxPool2d: Module {
    /// Window size.
    public let kernelSize: SpatialSize
    /// Window step.
    public let stride: SpatialSize
    /// Implicit -inf padding.
    public let padding: SpatialSize
    /// Spacing between window taps.
    public let dilation: SpatialSize
    /// Whether partial windows at the end produce outputs.
    public let ceilMode: Bool

    /// Creates the layer.
    public init(kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0, dilation: SpatialSize = 1,
                ceilMode: Bool = false) {
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
        self.dilation = dilation; self.ceilMode = ceilMode
        super.init()
    }

    /// `maxPool2d(input, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkPoolInput(input, layer: "MaxPool2d", rank: 4, layout: "[N, C, H, W]")
        return maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }

    /// `kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False`.
    public override var extraDescription: String {
        "kernel_size=\(sizeDescription(kernelSize)), stride=\(sizeDescription(stride)), padding=\(sizeDescription(padding)), "
            + "dilation=\(sizeDescription(dilation)), ceil_mode=\(ceilMode ? "True" : "False")"
    }
}

/// 1-D max pooling as a layer (`torch.nn.MaxPool1d`).
public final class MaxPool1d: Module {
    /// Window size.
    public let kernelSize: Int
    /// Window step.
    public let stride: Int
    /// Implicit -inf padding.
    public let padding: Int
    /// Spacing between window taps.
    public let dilation: Int
    /// Whether partial windows at the end produce outputs.
    public let ceilMode: Bool

    /// Creates the layer.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
        self.dilation = dilation; self.ceilMode = ceilMode
        super.init()
    }

    /// `maxPool1d(input, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkPoolInput(input, layer: "MaxPool1d", rank: 3, layout: "[N, C, L]")
        return maxPool1d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }

    /// `kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False`.
    public override var extraDescription: String {
        "kernel_size=\(kernelSize), stride=\(stride), padding=\(padding), dilation=\(dilation), ceil_mode=\(ceilMode ? "True" : "False")"
    }
}

/// 2-D average pooling as a layer (`torch.nn.AvgPool2d`).
public final class AvgPool2d: Module {
    /// Window size.
    public let kernelSize: SpatialSize
    /// Window step.
    public let stride: SpatialSize
    /// Implicit zero padding.
    public let padding: SpatialSize
    /// Whether partial windows at the end produce outputs.
    public let ceilMode: Bool
    /// Whether padded zeros count in the divisor.
    public let countIncludePad: Bool
    /// A fixed divisor replacing the window size.
    public let divisorOverride: Int?

    /// Creates the layer.
    public init(kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad; self.divisorOverride = divisorOverride
        super.init()
    }

    /// `avgPool2d(input, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkPoolInput(input, layer: "AvgPool2d", rank: 4, layout: "[N, C, H, W]")
        return avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                         countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }

    /// `kernel_size=2, stride=2, padding=0`.
    public override var extraDescription: String {
        "kernel_size=\(sizeDescription(kernelSize)), stride=\(sizeDescription(stride)), padding=\(sizeDescription(padding))"
    }
}

/// 1-D average pooling as a layer (`torch.nn.AvgPool1d`).
public final class AvgPool1d: Module {
    /// Window size.
    public let kernelSize: Int
    /// Window step.
    public let stride: Int
    /// Implicit zero padding.
    public let padding: Int
    /// Whether partial windows at the end produce outputs.
    public let ceilMode: Bool
    /// Whether padded zeros count in the divisor.
    public let countIncludePad: Bool

    /// Creates the layer.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
        super.init()
    }

    /// `avgPool1d(input, ...)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkPoolInput(input, layer: "AvgPool1d", rank: 3, layout: "[N, C, L]")
        return avgPool1d(input, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                         countIncludePad: countIncludePad)
    }

    /// `kernel_size=(2,), stride=(2,), padding=(0,)`.
    public override var extraDescription: String { "kernel_size=(\(kernelSize),), stride=(\(stride),), padding=(\(padding),)" }
}

/// Adaptive 2-D average pooling to a fixed output size (`torch.nn.AdaptiveAvgPool2d`).
public final class AdaptiveAvgPool2d: Module {
    /// Output height and width.
    public let outputSize: SpatialSize
    /// Creates the layer.
    public init(_ outputSize: SpatialSize) { self.outputSize = outputSize; super.init() }
    /// `adaptiveAvgPool2d(input, outputSize:)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkPoolInput(input, layer: "AdaptiveAvgPool2d", rank: 4, layout: "[N, C, H, W]")
        return adaptiveAvgPool2d(input, outputSize: outputSize)
    }
    /// `output_size=1`.
    public override var extraDescription: String { "output_size=\(sizeDescription(outputSize))" }
}

/// Adaptive 2-D max pooling to a fixed output size (`torch.nn.AdaptiveMaxPool2d`).
public final class AdaptiveMaxPool2d: Module {
    /// Output height and width.
    public let outputSize: SpatialSize
    /// Creates the layer.
    public init(_ outputSize: SpatialSize) { self.outputSize = outputSize; super.init() }
    /// `adaptiveMaxPool2d(input, outputSize:)`.
    public override func forward(_ input: Tensor) -> Tensor {
        checkPoolInput(input, layer: "AdaptiveMaxPool2d", rank: 4, layout: "[N, C, H, W]")
        return adaptiveMaxPool2d(input, outputSize: outputSize)
    }
    /// `output_size=1`.
    public override var extraDescription: String { "output_size=\(sizeDescription(outputSize))" }
}
