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
