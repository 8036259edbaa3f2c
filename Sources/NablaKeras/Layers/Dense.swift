import NablaNN

/// A fully connected layer `activation(x · kernel + bias)` (`keras.layers.Dense`).
///
/// The kernel is `[inputDim, units]` (Keras' layout, glorot-uniform), the bias zeros; the input
/// size is taken from the first input (deferred initialisation). Inputs of rank > 2 are
/// multiplied on their last axis.
/// ```swift
/// let y = Dense(64, activation: .relu)(Input(shape: [784]))   // (None, 64)
/// ```
public final class Dense: Layer {
    /// Output size.
    public let units: Int
    /// Applied to the affine output.
    public let activation: ActivationFunction
    /// Whether the layer adds a bias.
    public let useBias: Bool
    let kernelInitializer: Initializer, biasInitializer: Initializer
    /// `[inputDim, units]`, created by `build`.
    public private(set) var kernel: Tensor?
    /// `[units]`, created by `build` when `useBias`.
    public private(set) var bias: Tensor?
    let declaredInput: [Int]?

    /// Creates the layer; `inputShape` (batch excluded) builds it now, as Keras' `input_shape=`.
    public init(_ units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                inputShape: [Int]? = nil, name: String? = nil) {
        check(units > 0, "Dense: units must be positive, got \(units)")
        self.units = units; self.activation = activation; self.useBias = useBias
        self.kernelInitializer = kernelInitializer; self.biasInitializer = biasInitializer
        declaredInput = inputShape
        super.init(name: name)
    }

    /// Keras' `input_shape` given at construction, if any.
    public override var declaredInputShape: [Int]? { declaredInput }

    /// The last input dimension must be known.
    public override func checkBuild(inputShape: [Int]) throws(ShapeError) {
        guard let inDim = inputShape.last, inDim > 0 else {
            throw ShapeError(op: "layer \(name)", "Dense needs a known last input dimension, got \(TensorSpec.format(inputShape))")
        }
        try checkWeightSize("kernel", [inDim, units])
    }

    /// Creates `kernel` and `bias` for the input's last dimension.
    public override func build(inputShape: [Int]) {
        guard let inDim = inputShape.last, inDim > 0 else {
            nablaFail("layer \(name): Dense needs a known last input dimension, got \(TensorSpec.format(inputShape))")
        }
        kernel = addWeight("kernel", shape: [inDim, units], initializer: kernelInitializer)
        if useBias { bias = addWeight("bias", shape: [units], initializer: biasInitializer) }
    }

    /// `activation(x · kernel + bias)`.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        guard let kernel else { nablaFail("layer \(name): not built") }
        check(x.rank >= 1 && x.shape[x.rank - 1] == kernel.shape[0],
              "layer \(name): expected input [*, \(kernel.shape[0])], got \(x.shape)")
        var y: Tensor
        if let bias, x.rank == 2 { y = addmm(bias, x, kernel) }
        else {
            y = matmul(x, kernel)
            if let bias { y = y + bias }
        }
        return activation == .linear ? y : activation(y)
    }

    /// `(..., units)`.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        guard inputs.count == 1, inputs[0].shape.count >= 1 else {
            throw ShapeError(op: "layer \(name)", "Dense expects one input of rank >= 1, got \(inputs.map(\.description))")
        }
        return [TensorSpec(shape: Array(inputs[0].shape.dropLast()) + [units], dtype: inputs[0].dtype)]
    }

    /// `units`, `activation`, `use_bias`.
    public override var config: [(String, GraphAttribute)] {
        [("units", .int(units)), ("activation", .string(activation.rawValue)), ("use_bias", .bool(useBias))]
    }
}
