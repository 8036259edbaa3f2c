import Foundation
import NablaONNX
import NablaServeCore

/// An ONNX model (`model.onnx` in a version folder) served by `ModelServer` through `ONNXModel`.
///
/// The signature is the file's graph inputs and outputs; sizes the file leaves free (a dynamic batch) are `-1`.
/// `predict` runs without autograd.
public final class ONNXServableModel: ServableModel, @unchecked Sendable {
    // Unchecked: the server calls `predict` from one thread at a time (ServableModel's contract); the model is
    // never mutated after `init`.
    /// The ONNX model.
    public let model: ONNXModel
    /// Its inputs and outputs.
    public let signature: ModelSignature

    /// Loads `path`.
    /// - Throws: `ONNXError` naming the file, or `ServeError` when an input or output has no tensor type or shape.
    public init(contentsOf path: String) throws {
        model = try ONNXModel(path: path)
        func describe(_ v: ONNXValueInfo) throws -> TensorSignature {
            guard let dtype = v.dtype, let shape = v.shape else {
                throw ServeError(status: 500, "\(path): \(v.name) has no tensor dtype and shape (\(v)); it cannot be served")
            }
            return TensorSignature(name: v.name, dtype: dtype, shape: shape.map { $0 ?? -1 })
        }
        signature = ModelSignature(inputs: try model.inputs.map(describe), outputs: try model.outputs.map(describe))
    }

    /// The model's outputs for one batch.
    public func predict(_ inputs: [Tensor]) throws -> [Tensor] {
        try noGrad { try model.run(inputs) }
    }
}
