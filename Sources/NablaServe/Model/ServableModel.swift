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
    /// Checks, before a request is queued, that inputs of these shapes (batch first, already matching the
    /// signature's fixed sizes) can run through the model: where the signature leaves a size free, not every size
    /// fits every layer. Called concurrently from request tasks.
    /// - Throws: `ServeError` 400 naming the input, the shape the model expects and the shape given.
    func checkInputs(_ shapes: [[Int]]) throws(ServeError)
}

extension ServableModel {
    /// Accepts every shape that fits the signature (models that check shapes themselves in `predict`).
    public func checkInputs(_ shapes: [[Int]]) throws(ServeError) {}
}
