import Nabla

/// One input or output of a served model: its name, dtype and shape, `-1` for the batch and any other free size.
public struct TensorSignature: Sendable, Equatable {
    /// The name clients use (`input_1`, `dense_2`).
    public var name: String
    /// The element type.
    public var dtype: DType
    /// The shape, batch first: `[-1, 1, 28, 28]`.
    public var shape: [Int]

    /// Creates a signature entry.
    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name; self.dtype = dtype; self.shape = shape
    }
}

/// The inputs and outputs of a served model (TF Serving's `serving_default` signature).
public struct ModelSignature: Sendable, Equatable {
    /// The inputs, in the order `predict` takes them.
    public var inputs: [TensorSignature]
    /// The outputs, in the order `predict` returns them.
    public var outputs: [TensorSignature]

    /// Creates a signature.
    public init(inputs: [TensorSignature], outputs: [TensorSignature]) {
        self.inputs = inputs; self.outputs = outputs
    }
}

/// A model the server can serve: a signature and a batched forward pass.
///
/// The server validates every request against `signature` (names, dtypes, shapes) before it calls `predict`, and
/// calls `predict` from ONE inference thread at a time, so an implementation need not be thread-safe. A Keras model
/// saved by `Model.save` or `nabla export` is served through `KerasServableModel`; another format (ONNX) plugs in
/// by registering a loader for its file name with `ModelLoaders.register(fileName:_:)`.
public protocol ServableModel: AnyObject, Sendable {
    /// The inputs and outputs.
    var signature: ModelSignature { get }
    /// Runs the model on one batch: one tensor per signature input (same batch size N first), one per output.
    /// - Throws: any error; the server answers 500 with its description to the requests of that batch.
    func predict(_ inputs: [Tensor]) throws -> [Tensor]
}
