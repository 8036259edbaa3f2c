import NablaNN

/// A Keras loss (`keras.losses`), by name or as a value: `"mse"`, `"sparse_categorical_crossentropy"`,
/// `.sparseCategoricalCrossentropy(fromLogits: true)`, or `.custom("name") { yTrue, yPred in ... }`.
///
/// Every loss returns the mean over the batch. Probability losses (`fromLogits: false`, Keras'
/// default) clip predictions to `[1e-7, 1 - 1e-7]` as Keras does.
public struct Loss: ExpressibleByStringLiteral, Sendable {
    /// The name shown in logs.
    public let name: String
    /// Whether the loss expects class indices (sparse) or one-hot/probability targets.
    public let kind: Kind
    let fn: @Sendable (Tensor, Tensor) -> Tensor

    /// What targets the loss expects (used to pick the `"accuracy"` metric variant).
    public enum Kind: Sendable {
        /// Integer class indices.
        case sparseCategorical
        /// One-hot or probability vectors.
        case categorical
        /// 0/1 targets.
        case binary
        /// Real-valued targets.
        case regression
    }

    /// Creates a loss from a function `(yTrue, yPred) -> scalar` (Keras' argument order).
    public init(name: String, kind: Kind = .regression, _ fn: @escaping @Sendable (_ yTrue: Tensor, _ yPred: Tensor) -> Tensor) {
        self.name = name; self.kind = kind; self.fn = fn
    }

    /// A custom loss `(yTrue, yPred) -> scalar`.
    public static func custom(_ name: String, _ fn: @escaping @Sendable (_ yTrue: Tensor, _ yPred: Tensor) -> Tensor) -> Loss {
        Loss(name: name, fn)
    }

    /// The loss for a target and a prediction.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor { fn(yTrue, yPred) }

    /// Keras names: `mse`/`mean_squared_error`, `mae`/`mean_absolute_error`, `sparse_categorical_crossentropy`,
    /// `categorical_crossentropy`, `binary_crossentropy`, `huber`; traps on an unknown name.
    public init(stringLiteral name: String) {
        switch name {
        case "mse", "mean_squared_error": self = .meanSquaredError
        case "mae", "mean_absolute_error": self = .meanAbsoluteError
        case "sparse_categorical_crossentropy": self = .sparseCategoricalCrossentropy()
        case "categorical_crossentropy": self = .categoricalCrossentropy()
        case "binary_crossentropy": self = .binaryCrossentropy()
        case "huber", "huber_loss": self = .huber()
        default:
            nablaFail("Loss: unknown loss \"\(name)\"; expected mse, mae, sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy or huber")
        }
    }

    static let eps = 1e-7

    /// Matches a target to the prediction's shape when they differ only by size-1 dims (`[N]` vs `[N, 1]`).
    static func aligned(_ yTrue: Tensor, to yPred: Tensor, _ loss: String) -> Tensor {
        if yTrue.shape == yPred.shape { return yTrue }
        check(yTrue.count == yPred.count, "loss \(loss): target shape \(yTrue.shape) does not match prediction shape \(yPred.shape)")
        return yTrue.reshape(yPred.shape)
    }

    /// Mean of `(yPred - yTrue)²` (`mse`).
    public static let meanSquaredError = Loss(name: "mse", kind: .regression) { t, p in
        let d = p - aligned(t, to: p, "mse").to(p.dtype)
        return (d * d).mean()
    }

    /// Mean of `|yPred - yTrue|` (`mae`).
    public static let meanAbsoluteError = Loss(name: "mae", kind: .regression) { t, p in
        (p - aligned(t, to: p, "mae").to(p.dtype)).abs().mean()
    }

    /// Huber loss with threshold `delta`.
    public static func huber(delta: Double = 1) -> Loss {
        Loss(name: "huber", kind: .regression) { t, p in
            let d = (p - aligned(t, to: p, "huber").to(p.dtype)).abs()
            let q = d.clamp(min: nil as Double?, max: delta)
            return (q * q * 0.5 + (d - q) * delta).mean()
        }
    }

    /// Cross-entropy with integer class targets `[N]` (or `[N, 1]`) and predictions `[N, C]`.
    public static func sparseCategoricalCrossentropy(fromLogits: Bool = false) -> Loss {
        Loss(name: "sparse_categorical_crossentropy", kind: .sparseCategorical) { t, p in
            let c = p.shape.last ?? 1
            let logits = p.reshape([-1, c])
            let target = t.reshape([-1]).to(.int64)
            check(target.shape[0] == logits.shape[0], "loss sparse_categorical_crossentropy: \(t.shape) targets for predictions \(p.shape)")
            if fromLogits { return crossEntropy(logits, target) }
            let logp = logits.clamp(min: eps, max: 1 - eps).log()
            return -logp.gather(dim: 1, index: target.unsqueeze(1)).mean()
        }
    }

    /// Cross-entropy with one-hot (or probability) targets `[N, C]`.
    public static func categoricalCrossentropy(fromLogits: Bool = false, labelSmoothing: Double = 0) -> Loss {
        Loss(name: "categorical_crossentropy", kind: .categorical) { t, p in
            var target = aligned(t, to: p, "categorical_crossentropy").to(p.dtype)
            if labelSmoothing > 0 { target = target * (1 - labelSmoothing) + labelSmoothing / Double(p.shape.last ?? 1) }
            let logp: Tensor
            if fromLogits { logp = logSoftmax(p, dim: -1) }
            else {
                let q = p / p.sum(dim: -1, keepDim: true)
                logp = q.clamp(min: eps, max: 1 - eps).log()
            }
            return -(target * logp).sum(dim: -1).mean()
        }
    }

    /// Binary cross-entropy with 0/1 targets of the prediction's shape.
    public static func binaryCrossentropy(fromLogits: Bool = false) -> Loss {
        Loss(name: "binary_crossentropy", kind: .binary) { t, p in
            let y = aligned(t, to: p, "binary_crossentropy").to(p.dtype)
            if fromLogits {
                return (relu(p) - p * y + (-p.abs()).exp().log1p()).mean()
            }
            let q = p.clamp(min: eps, max: 1 - eps)
            return -(y * q.log() + (1 - y) * (1 - q).log()).mean()
        }
    }
}
