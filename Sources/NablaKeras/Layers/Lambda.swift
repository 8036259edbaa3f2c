import NablaNN

/// Wraps a function of tensors as a layer (`keras.layers.Lambda`); its output shape is inferred by
/// tracing the function symbolically (its ops' shape rules; no kernel runs).
/// ```swift
/// let y = Lambda { $0 * 2 }(x)
/// let s = Lambda(inputs: { [$0[0] - $0[1]] })([a, b])
/// ```
public final class Lambda: Layer {
    let fn: ([Tensor]) -> [Tensor]
    /// A layer computing `fn(x)`.
    public init(name: String? = nil, _ fn: @escaping (Tensor) -> Tensor) {
        self.fn = { [fn($0[0])] }
        super.init(name: name)
    }
    /// A layer computing several outputs from several inputs.
    public init(name: String? = nil, inputs fn: @escaping ([Tensor]) -> [Tensor]) {
        self.fn = fn
        super.init(name: name)
    }
    /// `fn(inputs)`.
    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] { fn(inputs) }
    /// Always throws: a Swift closure cannot be written to JSON.
    public override func getConfig() throws(ModelSerializationError) -> [(String, GraphAttribute)] {
        throw ModelSerializationError("layer \(name) is a Lambda: Lambda layers wrap a Swift closure and cannot be serialised; "
            + "write a Layer subclass instead, override getConfig(), and register it with LayerRegistry.register")
    }
}
