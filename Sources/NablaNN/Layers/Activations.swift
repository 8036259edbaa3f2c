/// `max(x, 0)` as a layer (`nn.ReLU`).
public final class ReLU: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `relu(x)`.
    public override func forward(_ input: Tensor) -> Tensor { relu(input) }
}

/// `tanh(x)` as a layer (`nn.Tanh`).
public final class Tanh: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `tanh(x)`.
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// `sigmoid(x)` as a layer (`nn.Sigmoid`).
public final class Sigmoid: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `sigmoid(x)`.
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// Returns its input (`nn.Identity`), e.g. to remove a head.
public final class Identity: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `x`.
    public override func forward(_ input: Tensor) -> Tensor { input }
}

/// Flattens dims `startDim...endDim` (`nn.Flatten`, default keeps the batch dim).
public final class Flatten: Module {
    /// First dim flattened.
    public let startDim: Int
    /// Last dim flattened.
    public let endDim: Int
    /// Creates the layer.
    // Disfavoured: in a file that also imports NablaKeras, a call both types accept means Keras' `Flatten`.
    @_disfavoredOverload
    public init(startDim: Int = 1, endDim: Int = -1) { self.startDim = startDim; self.endDim = endDim; super.init() }
    /// `x.flatten(startDim:endDim:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    /// `start_dim=..., end_dim=...`.
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}

/// `max(x, 0) + negativeSlope * min(x, 0)` as a layer (`nn.LeakyReLU`).
public final class LeakyReLU: Module {
    /// Slope for negative inputs.
    public let negativeSlope: Double
    /// Creates the layer.
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope; super.init() }
    /// `leakyRelu(x, negativeSlope:)`.
    public override func forward(_ input: Tensor) -> Tensor { leakyRelu(input, negativeSlope: negativeSlope) }
    /// `negative_slope=0.01`.
    public override var extraDescription: String { "negative_slope=\(pythonFloat(negativeSlope))" }
}

/// `x > 0 ? x : alpha * (exp(x) - 1)` as a layer (`nn.ELU`).
public final class ELU: Module {
    /// Scale of the negative part.
    public let alpha: Double
    /// Creates the layer.
    public init(alpha: Double = 1) { self.alpha = alpha; super.init() }
    /// `elu(x, alpha:)`.
    public override func forward(_ input: Tensor) -> Tensor { elu(input, alpha: alpha) }
    /// `alpha=1.0`.
    public override var extraDescription: String { "alpha=\(pythonFloat(alpha))" }
}

/// The Gaussian error linear unit as a layer (`nn.GELU`), exact or with the tanh approximation.
public final class GELU: Module {
    /// `.none` (exact, with erf) or `.tanh`.
    public let approximate: GeluApproximate
    /// Creates the layer.
    public init(approximate: GeluApproximate = .none) { self.approximate = approximate; super.init() }
    /// Creates the layer from PyTorch's string (`"none"` or `"tanh"`).
    public convenience init(approximate: String) {
        guard let a = GeluApproximate(rawValue: approximate) else {
            nablaFail("GELU: approximate must be \"none\" or \"tanh\", got \"\(approximate)\"")
        }
        self.init(approximate: a)
    }
    /// `gelu(x, approximate:)`.
    public override func forward(_ input: Tensor) -> Tensor { gelu(input, approximate: approximate) }
    /// `approximate='none'`.
    public override var extraDescription: String { "approximate='\(approximate.rawValue)'" }
}

/// `x * sigmoid(x)` as a layer (`nn.SiLU`).
public final class SiLU: Module {
    /// Creates the layer.
    public override init() { super.init() }
    /// `silu(x)`.
    public override func forward(_ input: Tensor) -> Tensor { silu(input) }
}

/// Softmax along `dim` as a layer (`nn.Softmax`).
public final class Softmax: Module {
    /// The dim normalised over.
    public let dim: Int
    /// Creates the layer.
    public init(dim: Int) { self.dim = dim; super.init() }
    /// `softmax(x, dim:)`.
    public override func forward(_ input: Tensor) -> Tensor { softmax(input, dim: dim) }
    /// `dim=1`.
    public override var extraDescription: String { "dim=\(dim)" }
}

/// Log-softmax along `dim` as a layer (`nn.LogSoftmax`).
public final class LogSoftmax: Module {
    /// The dim normalised over.
    public let dim: Int
    /// Creates the layer.
    public init(dim: Int) { self.dim = dim; super.init() }
    /// `logSoftmax(x, dim:)`.
    public override func forward(_ input: Tensor) -> Tensor { logSoftmax(input, dim: dim) }
    /// `dim=1`.
    public override var extraDescription: String { "dim=\(dim)" }
}

/// `log(1 + exp(beta x)) / beta`, linear above `threshold`, as a layer (`nn.Softplus`).
public final class Softplus: Module {
    /// Sharpness.
    public let beta: Double
    /// Above `beta * x > threshold` the layer is linear.
    public let threshold: Double
    /// Creates the layer.
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold; super.init() }
    /// `softplus(x, beta:, threshold:)`.
    public override func forward(_ input: Tensor) -> Tensor { softplus(input, beta: beta, threshold: threshold) }
    /// `beta=1.0, threshold=20.0`.
    public override var extraDescription: String { "beta=\(pythonFloat(beta)), threshold=\(pythonFloat(threshold))" }
}

/// Splits dim `dim` into `sizes` (`nn.Unflatten`); one size may be -1.
///
/// ```swift
/// Unflatten(dim: 1, sizes: [2, 5])(Tensor.zeros([3, 10])).shape   // [3, 2, 5]
/// ```
public final class Unflatten: Module {
    /// The dim split.
    public let dim: Int
    /// The sizes it is split into.
    public let sizes: [Int]
    /// Creates the layer.
    public init(dim: Int, sizes: [Int]) { self.dim = dim; self.sizes = sizes; super.init() }
    /// `x.reshape(shape[..<dim] + sizes + shape[(dim + 1)...])`.
    public override func forward(_ input: Tensor) -> Tensor {
        let d = Shape.normalize(dim, input.rank, op: "Unflatten")
        let known = sizes.filter { $0 != -1 }.reduce(1, *)
        let free = sizes.filter { $0 == -1 }.count
        check(free <= 1 && (free == 1 ? known > 0 && input.shape[d] % known == 0 : known == input.shape[d]),
              "Unflatten: sizes \(sizes) do not multiply to the size \(input.shape[d]) of dim \(d) of input of shape \(input.shape)")
        return input.reshape(Array(input.shape[..<d]) + sizes + Array(input.shape[(d + 1)...]))
    }
    /// `dim=1, unflattened_size=(2, 5)`.
    public override var extraDescription: String { "dim=\(dim), unflattened_size=\(pythonTuple(sizes))" }
}
