import NablaOptim

/// An optimizer for `compile`, by Keras name (`"adam"`, `"sgd"`, `"rmsprop"`, `"adagrad"`,
/// `"adadelta"`, `"adamw"`) or configured (`.sgd(lr: 0.01, momentum: 0.9)`), made over the model's
/// trainable weights once they exist. Defaults are Keras' (SGD lr 0.01, Adam/RMSprop lr 0.001).
public struct OptimizerSpec: ExpressibleByStringLiteral, @unchecked Sendable {
    /// The optimizer's name.
    public let name: String
    let make: ([Tensor]) -> Optimizer

    /// A spec from a factory over the trainable weights.
    public init(name: String, _ make: @escaping ([Tensor]) -> Optimizer) { self.name = name; self.make = make }

    /// Keras names; traps on an unknown name.
    public init(stringLiteral name: String) {
        switch name.lowercased() {
        case "sgd": self = .sgd()
        case "adam": self = .adam()
        case "adamw": self = .adamW()
        case "rmsprop": self = .rmsprop()
        case "adagrad": self = .adagrad()
        case "adadelta": self = .adadelta()
        default: nablaFail("compile: unknown optimizer \"\(name)\"; expected sgd, adam, adamw, rmsprop, adagrad or adadelta")
        }
    }

    /// Stochastic gradient descent (`keras.optimizers.SGD`).
    public static func sgd(lr: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) -> OptimizerSpec {
        OptimizerSpec(name: "SGD") { SGD($0, lr: lr, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov) }
    }
    /// Adam (`keras.optimizers.Adam`); Keras' epsilon default is 1e-7.
    public static func adam(lr: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(name: "Adam") { Adam($0, lr: lr, betas: (beta1, beta2), eps: epsilon) }
    }
    /// AdamW with decoupled weight decay.
    public static func adamW(lr: Double = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9, beta2: Double = 0.999,
                             epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(name: "AdamW") { AdamW($0, lr: lr, betas: (beta1, beta2), eps: epsilon, weightDecay: weightDecay) }
    }
    /// RMSprop (`keras.optimizers.RMSprop`, rho 0.9).
    public static func rmsprop(lr: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(name: "RMSprop") { RMSprop($0, lr: lr, alpha: rho, eps: epsilon, momentum: momentum) }
    }
    /// Adagrad.
    public static func adagrad(lr: Double = 0.001) -> OptimizerSpec {
        OptimizerSpec(name: "Adagrad") { Adagrad($0, lr: lr) }
    }
    /// Adadelta.
    public static func adadelta(lr: Double = 0.001, rho: Double = 0.95, epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(name: "Adadelta") { Adadelta($0, lr: lr, rho: rho, eps: epsilon) }
    }
    /// Any NablaOptim optimizer, made over the trainable weights.
    public static func custom(_ name: String, _ make: @escaping ([Tensor]) -> Optimizer) -> OptimizerSpec {
        OptimizerSpec(name: name, make)
    }
}
