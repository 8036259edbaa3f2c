import NablaNN

/// Zeroes a fraction `rate` of the inputs during training and scales the rest by `1 / (1 - rate)`
/// (`keras.layers.Dropout`); the identity at inference.
public final class Dropout: Layer {
    /// Fraction of the inputs to drop.
    public let rate: Double
    /// Creates the layer.
    public init(_ rate: Double, name: String? = nil) {
        check(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        super.init(name: name)
    }
    /// Inverted dropout with a fresh Bernoulli mask when `training`.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        guard training && rate > 0 else { return x }
        return Nabla.dropout(x, p: rate, training: true)
    }
    /// Same spec as the input.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] { inputs }
    /// `rate`.
    public override var config: [(String, GraphAttribute)] { [("rate", .double(rate))] }
}
