// Keras spellings that the main initializers do not take: `input_dim=`, `(3, 3)` tuples for sizes, and weight
// regularizers and constraints (`kernel_regularizer=`, `bias_regularizer=`, `kernel_constraint=`,
// `bias_constraint=`).

extension Dense {
    /// Keras' full `Dense` signature: regularizers and constraints on the kernel and bias, and the input size of a
    /// first layer as `inputDim` (`Dense(32, input_dim=784)`) or `inputShape` (`input_shape=(784,)`).
    ///
    /// ```swift
    /// model.add(Dense(64, activation: .relu, kernelRegularizer: .l2(0.01), inputDim: 20))
    /// ```
    @_disfavoredOverload
    public convenience init(_ units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                            kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil,
                            kernelConstraint: Constraint? = nil, biasConstraint: Constraint? = nil,
                            inputDim: Int? = nil, inputShape: [Int]? = nil, name: String? = nil) {
        check(inputDim == nil || inputShape == nil, "Dense: give inputDim or inputShape, not both")
        self.init(units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                  biasInitializer: biasInitializer, inputShape: inputShape ?? inputDim.map { [$0] }, name: name)
        if let kernelRegularizer { addRegularizer(kernelRegularizer, forWeight: "kernel") }
        if let biasRegularizer { addRegularizer(biasRegularizer, forWeight: "bias") }
        // The kernel is [inputDim, units]: each unit's incoming weights run along axis 0 (Keras' default axis).
        if let kernelConstraint { addConstraint(kernelConstraint, forWeight: "kernel", axes: [0]) }
        if let biasConstraint { addConstraint(biasConstraint, forWeight: "bias", axes: [0]) }
    }

    /// `Dense(32, input_dim=784, activation='relu', kernel_regularizer=...)`: `inputDim` written right after the
    /// units, then any of Keras' other arguments.
    public convenience init(_ units: Int, inputDim: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                            kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil,
                            kernelConstraint: Constraint? = nil, biasConstraint: Constraint? = nil, name: String? = nil) {
        self.init(units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                  biasInitializer: biasInitializer, kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer,
                  kernelConstraint: kernelConstraint, biasConstraint: biasConstraint, inputDim: inputDim, name: name)
    }
}

extension Conv2D {
    /// Keras' `Conv2D(32, kernel_size=(3, 3), strides=(1, 1), ...)` with tuple sizes, and regularizers and
    /// constraints on the kernel and bias.
    ///
    /// ```swift
    /// model.add(Conv2D(32, kernelSize: (3, 3), activation: .relu, inputShape: [28, 28, 1]))
    /// ```
    @_disfavoredOverload
    public convenience init(_ filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: ConvPadding = .valid,
                            dilationRate: (Int, Int) = (1, 1), activation: ActivationFunction = .linear, useBias: Bool = true,
                            dataFormat: DataFormat = .channelsLast, kernelInitializer: Initializer = .glorotUniform,
                            kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil,
                            kernelConstraint: Constraint? = nil, biasConstraint: Constraint? = nil,
                            inputShape: [Int]? = nil, name: String? = nil) {
        self.init(filters, kernelSize: [kernelSize.0, kernelSize.1], strides: [strides.0, strides.1], padding: padding,
                  dilationRate: [dilationRate.0, dilationRate.1], activation: activation, useBias: useBias,
                  dataFormat: dataFormat, kernelInitializer: kernelInitializer, kernelRegularizer: kernelRegularizer,
                  biasRegularizer: biasRegularizer, kernelConstraint: kernelConstraint, biasConstraint: biasConstraint,
                  inputShape: inputShape, name: name)
    }

    /// Keras' full `Conv2D` signature with `SpatialSize` sizes (`kernelSize: 3`, `[3, 3]`), regularizers and
    /// constraints on the kernel and bias.
    @_disfavoredOverload
    public convenience init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: ConvPadding = .valid,
                            dilationRate: SpatialSize = 1, activation: ActivationFunction = .linear, useBias: Bool = true,
                            dataFormat: DataFormat = .channelsLast, kernelInitializer: Initializer = .glorotUniform,
                            kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil,
                            kernelConstraint: Constraint? = nil, biasConstraint: Constraint? = nil,
                            inputShape: [Int]? = nil, name: String? = nil) {
        self.init(filters, kernelSize: kernelSize, strides: strides, padding: padding, dilationRate: dilationRate,
                  activation: activation, useBias: useBias, dataFormat: dataFormat, kernelInitializer: kernelInitializer,
                  inputShape: inputShape, name: name)
        if let kernelRegularizer { addRegularizer(kernelRegularizer, forWeight: "kernel") }
        if let biasRegularizer { addRegularizer(biasRegularizer, forWeight: "bias") }
        // The kernel is stored [filters, in, kh, kw]: each filter's weights span axes 1...3 (Keras' [0, 1, 2]).
        if let kernelConstraint { addConstraint(kernelConstraint, forWeight: "kernel", axes: [1, 2, 3]) }
        if let biasConstraint { addConstraint(biasConstraint, forWeight: "bias", axes: [0]) }
    }
}

extension MaxPooling2D {
    /// Keras' `MaxPooling2D(pool_size=(2, 2), strides=(2, 2))` with tuple sizes.
    public convenience init(poolSize: (Int, Int), strides: (Int, Int)? = nil, dataFormat: DataFormat = .channelsLast, name: String? = nil) {
        self.init(poolSize: [poolSize.0, poolSize.1], strides: strides.map { [$0.0, $0.1] }, dataFormat: dataFormat, name: name)
    }
}

extension AveragePooling2D {
    /// Keras' `AveragePooling2D(pool_size=(2, 2))` with tuple sizes.
    public convenience init(poolSize: (Int, Int), strides: (Int, Int)? = nil, dataFormat: DataFormat = .channelsLast, name: String? = nil) {
        self.init(poolSize: [poolSize.0, poolSize.1], strides: strides.map { [$0.0, $0.1] }, dataFormat: dataFormat, name: name)
    }
}

extension Flatten {
    /// `Flatten(input_shape=(28, 28))` as the first layer of a `Sequential` (Keras' Fashion-MNIST tutorial).
    public convenience init(inputShape: [Int], name: String? = nil) {
        self.init(name: name)
        inputShapeArgument = inputShape
    }
}

extension Reshape {
    /// `Reshape(target_shape, input_shape=...)` as the first layer of a `Sequential`.
    public convenience init(_ targetShape: [Int], inputShape: [Int], name: String? = nil) {
        self.init(targetShape, name: name)
        inputShapeArgument = inputShape
    }
}

extension Dropout {
    /// `Dropout(rate, input_shape=...)` as the first layer of a `Sequential`.
    public convenience init(_ rate: Double, inputShape: [Int], name: String? = nil) {
        self.init(rate, name: name)
        inputShapeArgument = inputShape
    }
}

/// Class indices as one-hot float32 rows (`keras.utils.to_categorical(y, num_classes)`).
///
/// ```swift
/// let yOneHot = toCategorical(Tensor([0, 2, 1]), numClasses: 3)   // [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
/// ```
/// - Parameters:
///   - y: integer class indices (any shape; float tensors holding whole numbers are accepted).
///   - numClasses: the row length; nil means one more than the largest label, as Keras.
public func toCategorical(_ y: Tensor, numClasses: Int? = nil) -> Tensor {
    check(!y.dtype.isFloatingPoint || y.eq(y.floor()).toBoolArray().allSatisfy { $0 },
          "toCategorical: labels must be integers, got \(y.dtype) values with fractions")
    return oneHot(y.to(.int64), numClasses: numClasses ?? -1).to(.float32)
}
