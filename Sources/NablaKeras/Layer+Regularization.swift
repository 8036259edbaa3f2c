import NablaNN

// Keras' weight regularizers (`kernel_regularizer=regularizers.l2(0.01)`) and constraints
// (`kernel_constraint=constraints.MaxNorm(3)`): penalties added to the training loss, and projections applied to
// the weights after every optimizer step.

/// A penalty on a weight tensor added to the training loss (`keras.regularizers`).
///
/// ```swift
/// model.add(Dense(64, activation: .relu, kernelRegularizer: .l2(1e-4)))
/// ```
public enum Regularizer: Sendable, Equatable {
    /// `l1 * sum(|w|)` (`keras.regularizers.l1(l1)`).
    case l1(Double)
    /// `l2 * sum(w²)` (`keras.regularizers.l2(l2)`; note: no factor 1/2, as Keras).
    case l2(Double)
    /// `l1 * sum(|w|) + l2 * sum(w²)` (`keras.regularizers.l1_l2(l1=, l2=)`).
    case l1l2(l1: Double, l2: Double)

    /// The penalty for `w`, a scalar tensor.
    public func callAsFunction(_ w: Tensor) -> Tensor {
        switch self {
        case .l1(let a): return w.abs().sum() * a
        case .l2(let b): return (w * w).sum() * b
        case .l1l2(let a, let b): return w.abs().sum() * a + (w * w).sum() * b
        }
    }
}

/// A projection applied to a weight after every optimizer step (`keras.constraints`).
///
/// Norms are taken over every axis of the weight except its output-unit axis (Keras' default `axis=0` for a
/// `Dense` kernel, and the `axis=[0, 1, 2]` Keras recommends for a `Conv2D` kernel).
/// ```swift
/// model.add(Dense(64, kernelConstraint: .maxNorm(3)))
/// ```
public enum Constraint: Sendable, Equatable {
    /// Rescales each unit's incoming weights to a norm of at most `maxValue` (`keras.constraints.MaxNorm`).
    case maxNorm(Double)
    /// Sets negative weights to zero (`keras.constraints.NonNeg`).
    case nonNeg
    /// Rescales each unit's incoming weights to norm 1 (`keras.constraints.UnitNorm`).
    case unitNorm

    /// The constrained value of `w`, with norms over `axes`.
    func project(_ w: Tensor, axes: [Int]) -> Tensor {
        let eps = 1e-7   // Keras' backend.epsilon()
        func norms() -> Tensor { (w * w).sum(dims: axes, keepDim: true).sqrt() }
        switch self {
        case .nonNeg: return w * w.ge(0).to(w.dtype)
        case .unitNorm: return w / (norms() + eps)
        case .maxNorm(let m):
            let n = norms()
            return w * (n.clamp(min: 0, max: m) / (n + eps))
        }
    }
}

extension Layer {
    /// Registers `regularizer` for the weight named `weight` (`"kernel"`, `"bias"`); the model adds its penalty
    /// to the training loss (Keras' `add_loss` of a `kernel_regularizer`).
    public func addRegularizer(_ regularizer: Regularizer, forWeight weight: String) {
        weightRegularizers.append((weight, regularizer))
    }

    /// Registers `constraint` for the weight named `weight`, with norms over `axes` of the stored tensor; the model
    /// applies it after every optimizer step (Keras' `kernel_constraint`).
    public func addConstraint(_ constraint: Constraint, forWeight weight: String, axes: [Int]) {
        weightConstraints.append((weight, constraint, axes))
    }

    /// The weight named `name`, when built.
    func weight(named name: String) -> Tensor? { weightEntries.first { $0.0 == name }?.1 }

    /// This layer and its sublayers (each once), without building names: it runs at every training step.
    func layerTree() -> [Layer] {
        var out: [Layer] = [], seen = Set<ObjectIdentifier>()
        func walk(_ m: Module) {
            guard seen.insert(ObjectIdentifier(m)).inserted else { return }
            if let l = m as? Layer { out.append(l) }
            for (_, c) in m.namedChildren() { walk(c) }
        }
        walk(self)
        return out
    }

    /// The current regularization penalties of this layer and its sublayers (Keras' `layer.losses`).
    public var regularizationLosses: [Tensor] {
        var out: [Tensor] = []
        for l in layerTree() {
            for (name, r) in l.weightRegularizers { if let w = l.weight(named: name) { out.append(r(w)) } }
        }
        return out
    }
}

extension Model {
    /// The sum of the regularization penalties, or nil when no layer has a regularizer.
    func regularizationLoss() -> Tensor? {
        guard hasWeightRules.regularizers else { return nil }
        return regularizationLosses.reduce(nil as Tensor?) { acc, t in acc.map { $0 + t } ?? t }
    }

    /// Applies every layer's weight constraints (after an optimizer step), without recording.
    func applyConstraints() {
        guard hasWeightRules.constraints else { return }
        noGrad {
            for l in layerTree() {
                for (name, c, axes) in l.weightConstraints {
                    if let w = l.weight(named: name) { w.copy_(c.project(w, axes: axes)) }
                }
            }
        }
    }

    /// Whether any layer has regularizers or constraints (walks the layers; cheap for Keras-sized models).
    var hasWeightRules: (regularizers: Bool, constraints: Bool) {
        var r = false, c = false
        for l in layerTree() { r = r || !l.weightRegularizers.isEmpty; c = c || !l.weightConstraints.isEmpty }
        return (r, c)
    }
}
