import Nabla
import NablaServeCore

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
