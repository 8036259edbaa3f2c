import NablaNN

/// Batch normalisation over the last axis (`keras.layers.BatchNormalization`), over Nabla's `batchNorm` op.
///
/// Keras' defaults: `momentum: 0.99` (running = 0.99·running + 0.01·batch), `epsilon: 1e-3`,
/// `gamma` ones and `beta` zeros (trainable), `moving_mean` zeros and `moving_variance` ones
/// (non-trainable). Uses batch statistics in training, the moving ones at inference.
public final class BatchNormalization: Layer {
    /// The feature axis (default the last, as channels-last Keras).
    public let axis: Int
    /// Moving-average momentum (Keras convention).
    public let momentum: Double
    /// Added to the variance.
    public let epsilon: Double
    /// Whether `beta` is added.
    public let center: Bool
    /// Whether `gamma` multiplies.
    public let scale: Bool
    /// `[C]` scale, `[C]` shift, and the moving statistics.
    public private(set) var gamma: Tensor?, beta: Tensor?, movingMean: Tensor?, movingVariance: Tensor?

    /// Creates the layer.
    public init(axis: Int = -1, momentum: Double = 0.99, epsilon: Double = 1e-3, center: Bool = true, scale: Bool = true,
                name: String? = nil) {
        self.axis = axis; self.momentum = momentum; self.epsilon = epsilon; self.center = center; self.scale = scale
        super.init(name: name)
    }

    /// `axis` must be in range, its size known.
    public override func checkBuild(inputShape: [Int]) throws(ShapeError) {
        let a = try Shape.normalizeThrowing(axis, inputShape.count, op: "layer \(name)")
        guard a < inputShape.count, inputShape[a] > 0 else {
            throw ShapeError(op: "layer \(name)", "BatchNormalization needs a known size on axis \(axis), got \(TensorSpec.format(inputShape))")
        }
    }

    /// Creates the weights for the size of `axis`.
    public override func build(inputShape: [Int]) {
        let a = Shape.normalize(axis, inputShape.count, op: "BatchNormalization")
        let c = inputShape[a]
        guard c > 0 else { nablaFail("layer \(name): BatchNormalization needs a known size on axis \(axis), got \(TensorSpec.format(inputShape))") }
        if scale { gamma = addWeight("gamma", shape: [c], initializer: .ones) }
        if center { beta = addWeight("beta", shape: [c], initializer: .zeros) }
        movingMean = addWeight("moving_mean", shape: [c], initializer: .zeros, trainable: false)
        movingVariance = addWeight("moving_variance", shape: [c], initializer: .ones, trainable: false)
    }

    /// Normalises with batch statistics when `training`, else with the moving ones.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        let a = Shape.normalize(axis, x.rank, op: "BatchNormalization")
        var perm = Array(0..<x.rank)
        if a != 1 { perm.remove(at: a); perm.insert(a, at: 1) }
        let moved = a == 1 ? x : x.permute(perm)
        let y = batchNorm(moved, runningMean: movingMean, runningVar: movingVariance, weight: gamma, bias: beta,
                          training: training, momentum: 1 - momentum, eps: epsilon)
        guard a != 1 else { return y }
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return y.permute(inverse)
    }

    /// Same spec as the input.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] { inputs }
    /// `axis`, `momentum`, `epsilon`.
    public override var config: [(String, GraphAttribute)] {
        [("axis", .int(axis)), ("momentum", .double(momentum)), ("epsilon", .double(epsilon))]
    }
    /// `config` plus `center` and `scale`.
    public override func getConfig() -> [(String, GraphAttribute)] { config + [("center", .bool(center)), ("scale", .bool(scale))] }
}

/// Maps integer ids to dense vectors (`keras.layers.Embedding`), over Nabla's `embedding` op; the
/// table starts uniform on ±0.05 as in Keras.
public final class Embedding: Layer {
    /// Vocabulary size.
    public let inputDim: Int
    /// Vector size.
    public let outputDim: Int
    /// `[inputDim, outputDim]`.
    public private(set) var embeddings: Tensor?
    let declared: [Int]?

    /// Creates the layer; `inputLength` fixes the sequence length (Keras' `input_length`).
    public init(_ inputDim: Int, _ outputDim: Int, inputLength: Int? = nil, name: String? = nil) {
        check(inputDim > 0 && outputDim > 0, "Embedding: inputDim (\(inputDim)) and outputDim (\(outputDim)) must be positive")
        self.inputDim = inputDim; self.outputDim = outputDim
        declared = inputLength.map { [$0] }
        super.init(name: name)
    }

    /// Keras' `input_length` as the per-sample shape.
    public override var declaredInputShape: [Int]? { declared }
    /// Token ids are int64.
    public override var inputDType: DType { .int64 }

    /// The table must fit `ReaderLimits` when loading.
    public override func checkBuild(inputShape: [Int]) throws(ShapeError) { try checkWeightSize("embeddings", [inputDim, outputDim]) }

    /// Creates the table.
    public override func build(inputShape: [Int]) {
        embeddings = addWeight("embeddings", shape: [inputDim, outputDim], initializer: .randomUniform(minval: -0.05, maxval: 0.05))
    }
    /// Any integer input shape is accepted.
    public override func validate(_ shapes: [[Int]]) throws(ShapeError) {}
    /// Rows of the table at `ids` (a float input is converted to int64).
    public override func call(_ ids: Tensor, training: Bool) -> Tensor {
        guard let embeddings else { nablaFail("layer \(name): not built") }
        return Nabla.embedding(ids.dtype.isFloatingPoint ? ids.to(.int64) : ids, embeddings)
    }
    /// `ids.shape + [outputDim]`, float32.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        [TensorSpec(shape: inputs[0].shape + [outputDim], dtype: embeddings?.dtype ?? .float32)]
    }
    /// `input_dim`, `output_dim`.
    public override var config: [(String, GraphAttribute)] { [("input_dim", .int(inputDim)), ("output_dim", .int(outputDim))] }
    /// `config` plus `input_length` when given.
    public override func getConfig() -> [(String, GraphAttribute)] { config + (declared.map { [("input_length", .int($0[0]))] } ?? []) }
}
