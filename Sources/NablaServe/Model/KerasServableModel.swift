import Foundation
import NablaKeras
import NablaServeCore

/// A Keras model (`Model.save`'s one safetensors file, or `nabla export`'s) served by `ModelServer`.
///
/// The signature's inputs are the model's `Input`s (shapes from the saved architecture, batch `-1`); the outputs are
/// named after the layers that produce them. `predict` runs in eval mode without autograd.
public final class KerasServableModel: ServableModel, @unchecked Sendable {
    // Unchecked: the server calls `predict` from one thread at a time (ServableModel's contract); the model is
    // never mutated after `init`.
    /// The Keras model.
    public let model: Model
    /// Its inputs and outputs.
    public let signature: ModelSignature
    /// The smallest vocabulary of the model's `Embedding` layers: integer inputs must lie in `0..<vocabulary`
    /// (checked before inference, so an out-of-range id is a 400, not a stopped server). Nil without embeddings.
    public let vocabulary: Int?

    /// Wraps a built Keras model (functional or `Sequential` with a known input shape).
    public init(_ model: Model) {
        self.model = model
        _ = model.eval()
        vocabulary = model.layers.compactMap { ($0 as? Embedding)?.inputDim }.min()
        var used = Set<String>()
        func unique(_ n: String) -> String {
            var name = n, k = 1
            while !used.insert(name).inserted { name = "\(n)_\(k)"; k += 1 }
            return name
        }
        signature = ModelSignature(
            inputs: model.inputs.map { TensorSignature(name: unique($0.node.name), dtype: $0.dtype, shape: $0.shape) },
            outputs: model.outputs.map { TensorSignature(name: unique($0.node.name), dtype: $0.dtype, shape: [-1] + $0.shape.dropFirst()) })
    }

    /// Loads a model written by `Model.save` (`keras.models.load_model`).
    /// - Throws: `ModelSerializationError` or the file error, naming the file.
    public convenience init(contentsOf path: String) throws {
        self.init(try loadModel(path))
    }

    /// The model's outputs for one batch.
    public func predict(_ inputs: [Tensor]) throws -> [Tensor] {
        if let vocabulary {
            for (x, sig) in zip(inputs, signature.inputs) where !x.dtype.isFloatingPoint && x.dtype != .bool && x.count > 0 {
                let lo = x.min().item(), hi = x.max().item()
                guard lo >= 0 && hi < Double(vocabulary) else {
                    throw ServeError(status: 400, "input \(sig.name): token ids must lie in [0, \(vocabulary)) (the model's Embedding vocabulary), got values in [\(Int(lo)), \(Int(hi))]")
                }
            }
        }
        return noGrad { model.invoke(inputs) }
    }
}
