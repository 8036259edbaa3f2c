// PyTorch argument orders that Swift's fixed label order would otherwise reject. Swift requires labelled arguments
// in declaration order, while PyTorch's keywords come in any order; these convenience initializers accept the
// orders found in common PyTorch code: positional kernel/stride/padding (`nn.Conv2d(1, 20, 5)`,
// `nn.MaxPool2d(2, 2)`, `nn.LSTM(28, 128, 2)`, `nn.Dropout(0.5)`), fully labelled sizes
// (`nn.Linear(in_features=4, out_features=2)`), and `padding` before `stride`, `momentum` before `eps`,
// `dropout` before `batch_first`. The permuted forms are `@_disfavoredOverload`, so a call that fits the main
// initializer always means it.

// MARK: Conv2d

extension Conv2d {
    /// `nn.Conv2d(in, out, 3, stride=2, padding=1)`: the kernel size positional, the rest labelled.
    public convenience init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: SpatialSize, stride: SpatialSize = 1,
                            padding: ConvPadding = 0, dilation: SpatialSize = 1, groups: Int = 1, bias: Bool = true,
                            paddingMode: PadMode = .zeros, dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }

    /// `nn.Conv2d(in, out, 3, 1, 1)`: kernel size, stride and padding positional.
    public convenience init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: SpatialSize, _ stride: SpatialSize,
                            _ padding: ConvPadding = 0, dilation: SpatialSize = 1, groups: Int = 1, bias: Bool = true,
                            paddingMode: PadMode = .zeros, dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }

    /// `nn.Conv2d(3, 12, kernel_size=3, padding=1, stride=1)`: `padding` written before `stride`.
    @_disfavoredOverload
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: SpatialSize, padding: ConvPadding,
                            stride: SpatialSize = 1, dilation: SpatialSize = 1, groups: Int = 1, bias: Bool = true,
                            paddingMode: PadMode = .zeros, dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }

    /// `nn.Conv2d(3, 12, 3, padding=1, stride=2)`: positional kernel size, `padding` before `stride`.
    @_disfavoredOverload
    public convenience init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: SpatialSize, padding: ConvPadding,
                            stride: SpatialSize = 1, dilation: SpatialSize = 1, groups: Int = 1, bias: Bool = true,
                            paddingMode: PadMode = .zeros, dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }

    /// `nn.Conv2d(in_channels=3, out_channels=12, kernel_size=3, stride=1, padding=1)`: every size labelled.
    public convenience init(inChannels: Int, outChannels: Int, kernelSize: SpatialSize, stride: SpatialSize = 1,
                            padding: ConvPadding = 0, dilation: SpatialSize = 1, groups: Int = 1, bias: Bool = true,
                            paddingMode: PadMode = .zeros, dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }
}

// MARK: Conv1d

extension Conv1d {
    /// `nn.Conv1d(in, out, 3, stride=1, padding=1)`: the kernel size positional, the rest labelled.
    public convenience init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: Int, stride: Int = 1, padding: ConvPadding = 0,
                            dilation: Int = 1, groups: Int = 1, bias: Bool = true, paddingMode: PadMode = .zeros,
                            dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }

    /// `nn.Conv1d(16, 32, kernel_size=3, padding=1, stride=1)`: `padding` written before `stride`.
    @_disfavoredOverload
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, padding: ConvPadding, stride: Int = 1,
                            dilation: Int = 1, groups: Int = 1, bias: Bool = true, paddingMode: PadMode = .zeros,
                            dtype: DType = .float32) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  groups: groups, bias: bias, paddingMode: paddingMode, dtype: dtype)
    }
}

// MARK: Pooling

extension MaxPool2d {
    /// `nn.MaxPool2d(2)` or `nn.MaxPool2d(3, stride=2, padding=1)`: the kernel size positional.
    public convenience init(_ kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0,
                            dilation: SpatialSize = 1, ceilMode: Bool = false) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
    /// `nn.MaxPool2d(2, 2)` or `nn.MaxPool2d(3, 2, 1)`: kernel size, stride and padding positional.
    public convenience init(_ kernelSize: SpatialSize, _ stride: SpatialSize, _ padding: SpatialSize = 0,
                            dilation: SpatialSize = 1, ceilMode: Bool = false) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
    /// `nn.MaxPool2d(kernel_size=3, padding=1, stride=2)`: `padding` written before `stride`.
    @_disfavoredOverload
    public convenience init(kernelSize: SpatialSize, padding: SpatialSize, stride: SpatialSize? = nil,
                            dilation: SpatialSize = 1, ceilMode: Bool = false) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

extension AvgPool2d {
    /// `nn.AvgPool2d(2)` or `nn.AvgPool2d(3, stride=2, padding=1)`: the kernel size positional.
    public convenience init(_ kernelSize: SpatialSize, stride: SpatialSize? = nil, padding: SpatialSize = 0,
                            ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }
    /// `nn.AvgPool2d(2, 2)`: kernel size, stride and padding positional.
    public convenience init(_ kernelSize: SpatialSize, _ stride: SpatialSize, _ padding: SpatialSize = 0,
                            ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }
    /// `nn.AvgPool2d(kernel_size=3, padding=1, stride=2)`: `padding` written before `stride`.
    @_disfavoredOverload
    public convenience init(kernelSize: SpatialSize, padding: SpatialSize, stride: SpatialSize? = nil,
                            ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }
}

extension MaxPool1d {
    /// `nn.MaxPool1d(2)` or `nn.MaxPool1d(3, stride=2)`: the kernel size positional.
    public convenience init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
    /// `nn.MaxPool1d(2, 2)`: kernel size, stride and padding positional.
    public convenience init(_ kernelSize: Int, _ stride: Int, _ padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

extension AvgPool1d {
    /// `nn.AvgPool1d(2)` or `nn.AvgPool1d(3, stride=2)`: the kernel size positional.
    public convenience init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
    /// `nn.AvgPool1d(2, 2)`: kernel size, stride and padding positional.
    public convenience init(_ kernelSize: Int, _ stride: Int, _ padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
}

// MARK: Linear

extension Linear {
    /// `nn.Linear(in_features=4, out_features=2, bias=False)`: the sizes labelled.
    public convenience init(inFeatures: Int, outFeatures: Int, bias: Bool = true, dtype: DType = .float32) {
        self.init(inFeatures, outFeatures, bias: bias, dtype: dtype)
    }
}

// MARK: LSTM and GRU

extension LSTM {
    /// `nn.LSTM(28, 128, 2, batch_first=True)`: the number of layers positional.
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, _ numLayers: Int, bias: Bool = true, batchFirst: Bool = false,
                            dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, projSize: projSize, dtype: dtype)
    }
    /// `nn.LSTM(input_size=28, hidden_size=128, num_layers=2, batch_first=True)`: the sizes labelled.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                            dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, projSize: projSize, dtype: dtype)
    }
    /// `nn.LSTM(300, 256, num_layers=2, dropout=0.5, batch_first=True, bidirectional=True)`: `dropout` before
    /// `batchFirst`, the order of many PyTorch models.
    @_disfavoredOverload
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, dropout: Double, batchFirst: Bool = false,
                            bidirectional: Bool = false, bias: Bool = true, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, dtype: dtype)
    }
    /// `nn.LSTM(28, 128, batch_first=True, num_layers=2)`: `batchFirst` before `numLayers`.
    @_disfavoredOverload
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, batchFirst: Bool, numLayers: Int, dropout: Double = 0,
                            bidirectional: Bool = false, bias: Bool = true, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, dtype: dtype)
    }
}

extension GRU {
    /// `nn.GRU(28, 128, 2, batch_first=True)`: the number of layers positional.
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, _ numLayers: Int, bias: Bool = true, batchFirst: Bool = false,
                            dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, dtype: dtype)
    }
    /// `nn.GRU(input_size=28, hidden_size=128, batch_first=True)`: the sizes labelled.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                            dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, dtype: dtype)
    }
    /// `nn.GRU(300, 256, num_layers=2, dropout=0.5, batch_first=True)`: `dropout` before `batchFirst`.
    @_disfavoredOverload
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, dropout: Double, batchFirst: Bool = false,
                            bidirectional: Bool = false, bias: Bool = true, dtype: DType = .float32) {
        self.init(inputSize, hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
                  bidirectional: bidirectional, dtype: dtype)
    }
}

// MARK: Dropout, ReLU

extension Dropout {
    /// `nn.Dropout(0.5)`: the probability positional.
    // Disfavoured: in a file that also imports NablaKeras, a call both types accept means Keras' `Dropout`.
    @_disfavoredOverload
    public convenience init(_ p: Double, inplace: Bool = false, generator: Generator? = nil) { self.init(p: p, generator: generator) }
    /// `nn.Dropout(p=0.2, inplace=True)`: `inplace` is accepted for porting; the result is always a new tensor.
    public convenience init(p: Double = 0.5, inplace: Bool, generator: Generator? = nil) { self.init(p: p, generator: generator) }
}

extension Dropout2d {
    /// `nn.Dropout2d(0.2)`: the probability positional.
    public convenience init(_ p: Double, inplace: Bool = false, generator: Generator? = nil) { self.init(p: p, generator: generator) }
}

extension ReLU {
    /// `nn.ReLU(inplace=True)`: `inplace` is accepted for porting; the result is always a new tensor.
    public convenience init(inplace: Bool) { self.init() }
}

// MARK: BatchNorm

extension BatchNormBase {
    /// `nn.BatchNorm2d(num_features=64)`: the size labelled.
    public convenience init(numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                            trackRunningStats: Bool = true, dtype: DType = .float32) {
        self.init(numFeatures, eps: eps, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats, dtype: dtype)
    }
    /// `nn.BatchNorm2d(64, momentum=0.01, eps=1e-3)`: `momentum` written before `eps`.
    @_disfavoredOverload
    public convenience init(_ numFeatures: Int, momentum: Double?, eps: Double = 1e-5, affine: Bool = true,
                            trackRunningStats: Bool = true, dtype: DType = .float32) {
        self.init(numFeatures, eps: eps, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats, dtype: dtype)
    }
    /// `nn.BatchNorm2d(64, 1e-3, 0.01)`: eps and momentum positional.
    public convenience init(_ numFeatures: Int, _ eps: Double, _ momentum: Double? = 0.1, affine: Bool = true,
                            trackRunningStats: Bool = true, dtype: DType = .float32) {
        self.init(numFeatures, eps: eps, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats, dtype: dtype)
    }
}
