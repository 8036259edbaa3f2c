/// The base class of loss modules (`torch.nn.modules.loss._Loss`): called with an input and a target; named
/// `LossModule` so that it does not clash with NablaKeras' `Loss`.
///
/// ```swift
/// let criterion = CrossEntropyLoss(labelSmoothing: 0.1)
/// let loss = criterion(model(x), y)
/// ```
open class LossModule: Module {
    /// How per-element losses are combined.
    public var reduction: Reduction

    /// A loss with the given reduction.
    public init(reduction: Reduction = .mean) { self.reduction = reduction; super.init() }

    /// The loss of `input` against `target`; subclasses override.
    open func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        nablaFail("\(typeName).forward(_:_:): subclasses must override the two-argument forward")
    }

    /// A loss needs a target: the one-argument form traps with a message saying so.
    open override func forward(_ input: Tensor) -> Tensor {
        nablaFail("\(typeName): a loss is called with an input and a target, loss(input, target)")
    }

    /// Calls `forward(input, target)`.
    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor { forward(input, target) }

    /// PyTorch-like repr details (only a non-default reduction is shown, as PyTorch prints `()`).
    open override var extraDescription: String { reduction == .mean ? "" : "reduction=\(reduction.rawValue)" }
}

/// Mean squared error as a module (`nn.MSELoss`).
public final class MSELoss: LossModule {
    /// Computes `mseLoss(input, target, reduction:)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor { mseLoss(input, target, reduction: reduction) }
}

/// Mean absolute error as a module (`nn.L1Loss`).
public final class L1Loss: LossModule {
    /// Computes `l1Loss(input, target, reduction:)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor { l1Loss(input, target, reduction: reduction) }
}

/// Smooth L1 loss as a module (`nn.SmoothL1Loss`).
public final class SmoothL1Loss: LossModule {
    /// Where the loss turns from quadratic to linear.
    public let beta: Double
    /// Creates the loss.
    public init(reduction: Reduction = .mean, beta: Double = 1.0) { self.beta = beta; super.init(reduction: reduction) }
    /// Computes `smoothL1Loss(input, target, reduction:, beta:)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        smoothL1Loss(input, target, reduction: reduction, beta: beta)
    }
}

/// Huber loss as a module (`nn.HuberLoss`).
public final class HuberLoss: LossModule {
    /// Where the loss turns from quadratic to linear.
    public let delta: Double
    /// Creates the loss.
    public init(reduction: Reduction = .mean, delta: Double = 1.0) { self.delta = delta; super.init(reduction: reduction) }
    /// Computes `huberLoss(input, target, reduction:, delta:)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        huberLoss(input, target, reduction: reduction, delta: delta)
    }
}

/// Cross-entropy as a module (`nn.CrossEntropyLoss`): class indices or class probabilities as the target.
public final class CrossEntropyLoss: LossModule {
    /// Per-class weights `[C]`.
    public let weight: Tensor?
    /// Class index whose targets are ignored.
    public let ignoreIndex: Int
    /// Label smoothing in [0, 1].
    public let labelSmoothing: Double
    /// Creates the loss.
    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean, labelSmoothing: Double = 0) {
        self.weight = weight; self.ignoreIndex = ignoreIndex; self.labelSmoothing = labelSmoothing
        super.init(reduction: reduction)
    }
    /// Computes `crossEntropy(input, target, ...)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        crossEntropy(input, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction, labelSmoothing: labelSmoothing)
    }
}

/// Negative log-likelihood as a module (`nn.NLLLoss`).
public final class NLLLoss: LossModule {
    /// Per-class weights `[C]`.
    public let weight: Tensor?
    /// Class index whose targets are ignored.
    public let ignoreIndex: Int
    /// Creates the loss.
    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean) {
        self.weight = weight; self.ignoreIndex = ignoreIndex; super.init(reduction: reduction)
    }
    /// Computes `nllLoss(input, target, ...)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        nllLoss(input, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }
}

/// Binary cross-entropy on probabilities as a module (`nn.BCELoss`).
public final class BCELoss: LossModule {
    /// Per-element rescaling weight, broadcast to the input.
    public let weight: Tensor?
    /// Creates the loss.
    public init(weight: Tensor? = nil, reduction: Reduction = .mean) { self.weight = weight; super.init(reduction: reduction) }
    /// Computes `binaryCrossEntropy(input, target, ...)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        binaryCrossEntropy(input, target, weight: weight, reduction: reduction)
    }
}

/// Binary cross-entropy on logits as a module (`nn.BCEWithLogitsLoss`).
public final class BCEWithLogitsLoss: LossModule {
    /// Per-element rescaling weight, broadcast to the input.
    public let weight: Tensor?
    /// Weight of positive examples, broadcast along the class dimension.
    public let posWeight: Tensor?
    /// Creates the loss.
    public init(weight: Tensor? = nil, reduction: Reduction = .mean, posWeight: Tensor? = nil) {
        self.weight = weight; self.posWeight = posWeight; super.init(reduction: reduction)
    }
    /// Computes `binaryCrossEntropyWithLogits(input, target, ...)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        binaryCrossEntropyWithLogits(input, target, weight: weight, reduction: reduction, posWeight: posWeight)
    }
}

/// Kullback–Leibler divergence as a module (`nn.KLDivLoss`); the input is log-probabilities.
public final class KLDivLoss: LossModule {
    /// The KL reduction (`.batchmean` for the per-sample KL divergence).
    public let klReduction: KLDivReduction
    /// Whether the target is given as log-probabilities.
    public let logTarget: Bool
    /// Creates the loss.
    public init(reduction: KLDivReduction = .mean, logTarget: Bool = false) {
        self.klReduction = reduction; self.logTarget = logTarget
        super.init(reduction: reduction == .none ? .none : reduction == .sum ? .sum : .mean)
    }
    /// Computes `klDiv(input, target, ...)`.
    public override func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        klDiv(input, target, reduction: klReduction, logTarget: logTarget)
    }
    /// PyTorch-like repr details.
    public override var extraDescription: String { klReduction == .mean ? "" : "reduction=\(klReduction.rawValue)" }
}

/// Cosine embedding loss as a module (`nn.CosineEmbeddingLoss`), called with two inputs and the ±1 labels.
public final class CosineEmbeddingLoss: LossModule {
    /// Margin for dissimilar pairs, in [-1, 1].
    public let margin: Double
    /// Creates the loss.
    public init(margin: Double = 0, reduction: Reduction = .mean) { self.margin = margin; super.init(reduction: reduction) }
    /// Computes `cosineEmbeddingLoss(input1, input2, target, ...)`.
    public func forward(_ input1: Tensor, _ input2: Tensor, _ target: Tensor) -> Tensor {
        cosineEmbeddingLoss(input1, input2, target, margin: margin, reduction: reduction)
    }
    /// Calls `forward(input1, input2, target)`.
    public func callAsFunction(_ input1: Tensor, _ input2: Tensor, _ target: Tensor) -> Tensor {
        forward(input1, input2, target)
    }
    /// PyTorch-like repr details.
    public override var extraDescription: String { margin == 0 ? super.extraDescription : "margin=\(margin)" }
}
