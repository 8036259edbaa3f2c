// Dropout layers: active in training mode, identity after `eval()`.

/// Zeroes elements with probability `p` in training, scaling the rest by `1/(1-p)` (`nn.Dropout`).
///
/// ```swift
/// let drop = Dropout(p: 0.1)
/// let y = drop(x)          // identity after drop.eval()
/// ```
public final class Dropout: Module {
    /// Probability of zeroing an element.
    public let p: Double
    /// The source of the masks; the default generator when nil.
    public var generator: Generator?

    /// Creates the layer (`nn.Dropout(p)`).
    public init(p: Double = 0.5, generator: Generator? = nil) {
        check(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }

    /// `dropout(x, p:, training:)`.
    public override func forward(_ input: Tensor) -> Tensor { dropout(input, p: p, training: training, generator: generator) }

    /// `p=0.1, inplace=False`.
    public override var extraDescription: String { "p=\(pythonFloat(p)), inplace=False" }
}

/// Zeroes whole channels with probability `p` in training, scaling the rest by `1/(1-p)` (`nn.Dropout2d`).
///
/// ```swift
/// let drop = Dropout2d(p: 0.2)
/// let y = drop(Tensor.randn([8, 16, 14, 14]))
/// ```
public final class Dropout2d: Module {
    /// Probability of zeroing a channel.
    public let p: Double
    /// The source of the masks; the default generator when nil.
    public var generator: Generator?

    /// Creates the layer (`nn.Dropout2d(p)`).
    public init(p: Double = 0.5, generator: Generator? = nil) {
        check(p >= 0 && p <= 1, "Dropout2d: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }

    /// `dropout2d(x, p:, training:)`.
    public override func forward(_ input: Tensor) -> Tensor { dropout2d(input, p: p, training: training, generator: generator) }

    /// `p=0.2, inplace=False`.
    public override var extraDescription: String { "p=\(pythonFloat(p)), inplace=False" }
}
