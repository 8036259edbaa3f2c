/// Hyper-parameters for an optimizer chosen by name; nil means the optimizer's own (PyTorch) default.
///
/// `rho` is RMSprop's smoothing constant (PyTorch's `alpha`, Keras' `rho`) and Adadelta's `rho`.
public struct OptimizerOptions: Sendable {
    /// Learning rate.
    public var lr: Double?
    /// SGD and RMSprop momentum.
    public var momentum: Double
    /// SGD's Nesterov momentum.
    public var nesterov: Bool
    /// Weight decay (AdamW's is decoupled, default 0.01; the others' default 0).
    public var weightDecay: Double?
    /// Adam and AdamW's betas.
    public var betas: (Double, Double)
    /// The term added to denominators.
    public var eps: Double?
    /// RMSprop's `alpha` and Adadelta's `rho`.
    public var rho: Double?
    /// Adam and AdamW add eps before the bias correction of `v`, as Keras does (`Adam.epsilonHat`).
    public var epsilonHat: Bool

    /// Creates options; anything left out takes the optimizer's default.
    public init(lr: Double? = nil, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double? = nil,
                betas: (Double, Double) = (0.9, 0.999), eps: Double? = nil, rho: Double? = nil, epsilonHat: Bool = false) {
        self.lr = lr; self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
        self.betas = betas; self.eps = eps; self.rho = rho; self.epsilonHat = epsilonHat
    }
}

/// Makes an optimizer from its name: the one table of optimizer names that `nabla train` configs
/// (`solver: {optimizer: adam}`) and Keras' `compile(optimizer: "adam")` both use.
///
/// ```swift
/// let opt = OptimizerFactory.make("sgd", model.parameters(), OptimizerOptions(lr: 0.1, momentum: 0.9))!
/// ```
public enum OptimizerFactory {
    /// The names `make` knows, lowercase.
    public static let names = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"]

    /// The optimizer type's name for a known `name` (`"rmsprop"` → `"RMSprop"`), nil otherwise.
    public static func typeName(_ name: String) -> String? {
        ["sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta"][name.lowercased()]
    }

    /// The optimizer called `name` (any case) over `params`, or nil for an unknown name.
    public static func make(_ name: String, _ params: [Tensor], _ o: OptimizerOptions = OptimizerOptions()) -> Optimizer? {
        switch name.lowercased() {
        case "sgd":
            return SGD(params, lr: o.lr ?? 1e-3, momentum: o.momentum, weightDecay: o.weightDecay ?? 0, nesterov: o.nesterov)
        case "adam":
            return Adam(params, lr: o.lr ?? 1e-3, betas: o.betas, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0,
                        epsilonHat: o.epsilonHat)
        case "adamw":
            return AdamW(params, lr: o.lr ?? 1e-3, betas: o.betas, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 1e-2,
                         epsilonHat: o.epsilonHat)
        case "rmsprop":
            return RMSprop(params, lr: o.lr ?? 1e-2, alpha: o.rho ?? 0.99, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0,
                           momentum: o.momentum)
        case "adagrad":
            return Adagrad(params, lr: o.lr ?? 1e-2, weightDecay: o.weightDecay ?? 0, eps: o.eps ?? 1e-10)
        case "adadelta":
            return Adadelta(params, lr: o.lr ?? 1.0, rho: o.rho ?? 0.9, eps: o.eps ?? 1e-6, weightDecay: o.weightDecay ?? 0)
        default:
            return nil
        }
    }
}
