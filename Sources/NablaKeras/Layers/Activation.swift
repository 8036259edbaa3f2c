import NablaNN

/// Applies an activation function (`keras.layers.Activation`).
/// ```swift
/// let y = Activation(.softmax)(x)
/// ```
public final class Activation: Layer {
    /// The function applied.
    public let function: ActivationFunction
    /// Creates the layer.
    public init(_ function: ActivationFunction, name: String? = nil) { self.function = function; super.init(name: name) }
    /// `function(x)`.
    public override func call(_ x: Tensor, training: Bool) -> Tensor { function(x) }
    /// Same spec as the input.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] { inputs }
    /// `activation`.
    public override var config: [(String, GraphAttribute)] { [("activation", .string(function.rawValue))] }
}
