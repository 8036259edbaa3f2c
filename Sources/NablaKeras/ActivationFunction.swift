import NablaNN

/// An activation function by Keras name (`activation: .relu` or `activation: "relu"`).
public enum ActivationFunction: String, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// Identity (Keras' `None` / `"linear"`).
    case linear
    /// `max(x, 0)`.
    case relu
    /// The logistic sigmoid.
    case sigmoid
    /// Hyperbolic tangent.
    case tanh
    /// Softmax over the last axis.
    case softmax
    /// Log-softmax over the last axis.
    case logSoftmax = "log_softmax"
    /// Exponential linear unit.
    case elu
    /// Scaled ELU.
    case selu
    /// Gaussian error linear unit.
    case gelu
    /// `x · sigmoid(x)` (Keras `swish`).
    case swish
    /// `log(1 + eˣ)`.
    case softplus
    /// `x / (1 + |x|)`.
    case softsign
    /// Piecewise-linear sigmoid.
    case hardSigmoid = "hard_sigmoid"
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `eˣ`.
    case exponential

    /// A Keras activation name (`"relu"`, `"softmax"`, `"linear"`, ...); traps on an unknown name.
    public init(stringLiteral name: String) {
        guard let a = ActivationFunction(rawValue: name == "silu" ? "swish" : name) else {
            nablaFail("Activation: unknown activation \"\(name)\"; expected one of \(ActivationFunction.allNames)")
        }
        self = a
    }

    static let allNames = "linear, relu, sigmoid, tanh, softmax, log_softmax, elu, selu, gelu, swish, softplus, softsign, hard_sigmoid, relu6, exponential"

    /// The Keras name.
    public var description: String { rawValue }

    /// Applies the activation with Nabla's ops.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .linear: return x
        case .relu: return Nabla.relu(x)
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .softmax: return Nabla.softmax(x, dim: -1)
        case .logSoftmax: return Nabla.logSoftmax(x, dim: -1)
        case .elu: return Nabla.elu(x)
        case .selu: return Nabla.selu(x)
        case .gelu: return Nabla.gelu(x)
        case .swish: return Nabla.silu(x)
        case .softplus: return Nabla.softplus(x)
        case .softsign: return Nabla.softsign(x)
        case .hardSigmoid: return Nabla.hardsigmoid(x)
        case .relu6: return Nabla.relu6(x)
        case .exponential: return x.exp()
        }
    }
}
