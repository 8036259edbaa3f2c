import NablaOptim

/// An optimizer for `compile`, by Keras name (`"adam"`, `"sgd"`, `"rmsprop"`, `"adagrad"`,
/// `"adadelta"`, `"adamw"`) or configured (`.sgd(lr: 0.01, momentum: 0.9)`), made over the model's
/// trainable weights once they exist by NablaOptim's `OptimizerFactory`, with Keras' defaults
/// (SGD lr 0.01, Adam/RMSprop lr 0.001, epsilon 1e-7).
public struct OptimizerSpec: ExpressibleByStringLiteral, @unchecked Sendable {
    /// The optimizer's name.
    public let name: String
    let make: ([Tensor]) -> Optimizer

    /// A spec from a factory over the trainable weights.
    public init(name: String, _ make: @escaping ([Tensor]) -> Optimizer) { self.name = name; self.make = make }

    /// The optimizer `name` of `OptimizerFactory` with `options`.
    init(factory name: String, _ options: OptimizerOptions) {
        self.init(name: OptimizerFactory.typeName(name) ?? name) { params in
            guard let o = OptimizerFactory.make(name, params, options) else { nablaFail("compile: unknown optimizer \"\(name)\"") }
            return o
        }
    }

    /// Keras' defaults for each name of `OptimizerFactory`.
    static let kerasDefaults: [String: OptimizerOptions] = [
        "sgd": OptimizerOptions(lr: 0.01, weightDecay: 0),
        "adam": OptimizerOptions(lr: 0.001, eps: 1e-7, epsilonHat: true),
        "adamw": OptimizerOptions(lr: 0.001, weightDecay: 0.004, eps: 1e-7, epsilonHat: true),
        "rmsprop": OptimizerOptions(lr: 0.001, eps: 1e-7, rho: 0.9),
        "adagrad": OptimizerOptions(lr: 0.001),
        "adadelta": OptimizerOptions(lr: 0.001, eps: 1e-7, rho: 0.95),
    ]

    /// Keras names; traps on an unknown name.
    public init(stringLiteral name: String) {
        guard let options = OptimizerSpec.kerasDefaults[name.lowercased()] else {
            nablaFail("compile: unknown optimizer \"\(name)\"; expected sgd, adam, adamw, rmsprop, adagrad or adadelta")
        }
        self.init(factory: name.lowercased(), options)
    }

    /// Stochastic gradient descent (`keras.optimizers.SGD`).
    public static func sgd(lr: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) -> OptimizerSpec {
        OptimizerSpec(factory: "sgd", OptimizerOptions(lr: lr, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay))
    }
    /// Adam (`keras.optimizers.Adam`): Keras' epsilon default 1e-7, added where Keras adds it (`Adam.epsilonHat`).
    public static func adam(lr: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(factory: "adam", OptimizerOptions(lr: lr, betas: (beta1, beta2), eps: epsilon, epsilonHat: true))
    }
    /// AdamW with decoupled weight decay.
    public static func adamW(lr: Double = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9, beta2: Double = 0.999,
                             epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(factory: "adamw", OptimizerOptions(lr: lr, weightDecay: weightDecay, betas: (beta1, beta2), eps: epsilon,
                                                   epsilonHat: true))
    }
    /// RMSprop (`keras.optimizers.RMSprop`, rho 0.9).
    public static func rmsprop(lr: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(factory: "rmsprop", OptimizerOptions(lr: lr, momentum: momentum, eps: epsilon, rho: rho))
    }
    /// Adagrad.
    public static func adagrad(lr: Double = 0.001) -> OptimizerSpec {
        OptimizerSpec(factory: "adagrad", OptimizerOptions(lr: lr))
    }
    /// Adadelta.
    public static func adadelta(lr: Double = 0.001, rho: Double = 0.95, epsilon: Double = 1e-7) -> OptimizerSpec {
        OptimizerSpec(factory: "adadelta", OptimizerOptions(lr: lr, eps: epsilon, rho: rho))
    }
    /// Any NablaOptim optimizer, made over the trainable weights.
    public static func custom(_ name: String, _ make: @escaping ([Tensor]) -> Optimizer) -> OptimizerSpec {
        OptimizerSpec(name: name, make)
    }
}
