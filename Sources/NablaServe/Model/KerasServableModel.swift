import Foundation
import NablaKeras
import NablaServeCore
import Synchronization

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
    /// Whether an input leaves a size other than the batch free (only then can a request that fits the signature
    /// still not fit a layer).
    private let hasFreeSizes: Bool
    /// Sample shapes (batch dropped) already checked by `checkInputs`, at most `maxCheckedShapes`.
    private let checkedShapes = Mutex<Set<[[Int]]>>([])
    private static let maxCheckedShapes = 4096

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
        hasFreeSizes = signature.inputs.contains { $0.shape.dropFirst().contains(-1) }
    }

    /// Loads a model written by `Model.save` (`keras.models.load_model`).
    /// - Throws: `ModelSerializationError` or the file error, naming the file.
    public convenience init(contentsOf path: String) throws {
        self.init(try loadModel(path))
    }

    /// Checks that samples of these shapes run through every layer (`Model.checkInputShapes`): with free sizes in
    /// the inputs, a sequence shorter than a convolution's kernel or two inputs of different lengths merged would
    /// otherwise stop the process inside an op. Shapes that passed are remembered.
    /// - Throws: `ServeError` 400 naming the input, the shape the signature gives and the shape sent, and the layer.
    public func checkInputs(_ shapes: [[Int]]) throws(ServeError) {
        guard hasFreeSizes else { return }
        let key = shapes.map { Array($0.dropFirst()) }
        if checkedShapes.withLock({ $0.contains(key) }) { return }
        do {
            try model.checkInputShapes(shapes)
        } catch {
            let given = zip(signature.inputs, shapes).map { "\($0.name) of shape \(TensorSpec.format([-1] + $1.dropFirst()))" }
            let expected = signature.inputs.map { "\($0.name) \(TensorSpec.format($0.shape))" }
            throw ServeError.badRequest("input \(given.joined(separator: ", ")) does not fit the model, whose signature is "
                + "\(expected.joined(separator: ", ")): \(error)")
        }
        checkedShapes.withLock { if $0.count < Self.maxCheckedShapes { $0.insert(key) } }
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
