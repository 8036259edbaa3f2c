import NablaNN

/// A streaming metric (`keras.metrics.Metric`): `update` with each batch, `result` over the epoch, `reset` between epochs.
///
/// Updates run without gradient and read back a few scalars per batch. Subclass it for your own metric.
open class Metric {
    /// The name used in logs (`accuracy`, `val_accuracy`).
    public let name: String
    /// Creates a metric named `name`.
    public init(name: String) { self.name = name }
    /// Accumulates one batch.
    open func update(yTrue: Tensor, yPred: Tensor) { nablaFail("Metric \(name): update(yTrue:yPred:) is not overridden") }
    /// The value over the batches seen since `reset`.
    open func result() -> Double { nablaFail("Metric \(name): result() is not overridden") }
    /// Clears the accumulated state.
    open func reset() {}
}

/// A metric that averages a per-sample value (accuracy, MAE, MSE).
open class MeanMetric: Metric {
    var total = 0.0, count = 0.0
    /// The per-sample values of a batch (any shape), averaged into the result.
    open func values(yTrue: Tensor, yPred: Tensor) -> Tensor { nablaFail("MeanMetric \(name): values(yTrue:yPred:) is not overridden") }
    /// Adds the batch's values.
    open override func update(yTrue: Tensor, yPred: Tensor) {
        noGrad {
            let v = values(yTrue: yTrue, yPred: yPred)
            total += v.to(.float64).sum().item()
            count += Double(v.count)
        }
    }
    /// The mean so far (0 before any update).
    open override func result() -> Double { count > 0 ? total / count : 0 }
    /// Clears the sums.
    open override func reset() { total = 0; count = 0 }
}

/// Fraction of samples whose arg-max class equals the integer target (`sparse_categorical_accuracy`).
public final class SparseCategoricalAccuracy: MeanMetric {
    /// Creates the metric.
    public override init(name: String = "sparse_categorical_accuracy") { super.init(name: name) }
    /// 1 where `argmax(yPred) == yTrue`.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor {
        yPred.argmax(dim: -1).eq(yTrue.reshape(Array(yPred.shape.dropLast())).to(.int64))
    }
}

/// Fraction of samples whose arg-max class equals the one-hot target's (`categorical_accuracy`).
public final class CategoricalAccuracy: MeanMetric {
    /// Creates the metric.
    public override init(name: String = "categorical_accuracy") { super.init(name: name) }
    /// 1 where `argmax(yPred) == argmax(yTrue)`.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor { yPred.argmax(dim: -1).eq(yTrue.argmax(dim: -1)) }
}

/// Fraction of predictions on the right side of `threshold` (`binary_accuracy`).
public final class BinaryAccuracy: MeanMetric {
    /// Probability threshold.
    public let threshold: Double
    /// Creates the metric.
    public init(name: String = "binary_accuracy", threshold: Double = 0.5) { self.threshold = threshold; super.init(name: name) }
    /// 1 where `(yPred > threshold) == yTrue`.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor {
        yPred.gt(threshold).eq(Loss.aligned(yTrue, to: yPred, name).gt(0.5))
    }
}

/// Accuracy that picks its variant from the first batch, as Keras' `"accuracy"` does: sparse when the
/// target has one dimension fewer than the prediction (or a trailing 1), binary for one output unit, else categorical.
public final class Accuracy: MeanMetric {
    private enum Mode { case unknown, sparse, categorical, binary }
    private var mode = Mode.unknown
    /// Creates the metric.
    public override init(name: String = "accuracy") { super.init(name: name) }
    /// The chosen variant's per-sample values.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor {
        if mode == .unknown {
            if yPred.shape.last == 1 { mode = .binary }
            else if yTrue.rank == yPred.rank - 1 || (yTrue.rank == yPred.rank && yTrue.shape.last == 1) { mode = .sparse }
            else { mode = .categorical }
        }
        switch mode {
        case .sparse: return yPred.argmax(dim: -1).eq(yTrue.reshape(Array(yPred.shape.dropLast())).to(.int64))
        case .binary: return yPred.gt(0.5).eq(Loss.aligned(yTrue, to: yPred, name).gt(0.5))
        default: return yPred.argmax(dim: -1).eq(yTrue.argmax(dim: -1))
        }
    }
}

/// Fraction of samples whose target is among the `k` highest predictions (`top_k_categorical_accuracy`;
/// sparse targets with `sparse: true`).
public final class TopKCategoricalAccuracy: MeanMetric {
    /// How many top classes count.
    public let k: Int
    /// Whether targets are class indices.
    public let sparse: Bool
    /// Creates the metric.
    public init(k: Int = 5, sparse: Bool = false, name: String? = nil) {
        self.k = k; self.sparse = sparse
        super.init(name: name ?? (sparse ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy"))
    }
    /// 1 where the target class is in the top `k`.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor {
        let c = yPred.shape.last ?? 1
        let top = yPred.reshape([-1, c]).topk(Swift.min(k, c), dim: -1).indices
        let target = sparse ? yTrue.reshape([-1, 1]).to(.int64) : yTrue.reshape([-1, c]).argmax(dim: -1, keepDim: true)
        return top.eq(target).any(dim: -1)
    }
}

/// Mean absolute error (`mae`).
public final class MeanAbsoluteError: MeanMetric {
    /// Creates the metric.
    public override init(name: String = "mae") { super.init(name: name) }
    /// `|yPred - yTrue|`.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor { (yPred - Loss.aligned(yTrue, to: yPred, name).to(yPred.dtype)).abs() }
}

/// Mean squared error (`mse`).
public final class MeanSquaredError: MeanMetric {
    /// Creates the metric.
    public override init(name: String = "mse") { super.init(name: name) }
    /// `(yPred - yTrue)²`.
    public override func values(yTrue: Tensor, yPred: Tensor) -> Tensor {
        let d = yPred - Loss.aligned(yTrue, to: yPred, name).to(yPred.dtype)
        return d * d
    }
}

/// Counts of a binary classifier's outcomes at a threshold, shared by precision and recall.
open class ConfusionMetric: Metric {
    /// Probability threshold.
    public let threshold: Double
    var tp = 0.0, fp = 0.0, fn = 0.0
    /// Creates the metric.
    public init(name: String, threshold: Double) { self.threshold = threshold; super.init(name: name) }
    /// Adds the batch's true/false positives and false negatives.
    open override func update(yTrue: Tensor, yPred: Tensor) {
        noGrad {
            let p = yPred.gt(threshold).to(.float64)
            let t = Loss.aligned(yTrue, to: yPred, name).gt(0.5).to(.float64)
            tp += (p * t).sum().item(); fp += (p * (1 - t)).sum().item(); fn += ((1 - p) * t).sum().item()
        }
    }
    /// Clears the counts.
    open override func reset() { tp = 0; fp = 0; fn = 0 }
}

/// `tp / (tp + fp)` for binary predictions (`keras.metrics.Precision`).
public final class Precision: ConfusionMetric {
    /// Creates the metric.
    public override init(name: String = "precision", threshold: Double = 0.5) { super.init(name: name, threshold: threshold) }
    /// Precision so far (0 without positive predictions).
    public override func result() -> Double { tp + fp > 0 ? tp / (tp + fp) : 0 }
}

/// `tp / (tp + fn)` for binary predictions (`keras.metrics.Recall`).
public final class Recall: ConfusionMetric {
    /// Creates the metric.
    public override init(name: String = "recall", threshold: Double = 0.5) { super.init(name: name, threshold: threshold) }
    /// Recall so far (0 without positive targets).
    public override func result() -> Double { tp + fn > 0 ? tp / (tp + fn) : 0 }
}

/// Area under the ROC curve from `numThresholds` thresholds (`keras.metrics.AUC`, trapezoidal rule).
public final class AUC: Metric {
    /// Number of thresholds in [0, 1].
    public let numThresholds: Int
    private var tp: [Double], fp: [Double], pos = 0.0, neg = 0.0
    /// Creates the metric.
    public init(name: String = "auc", numThresholds: Int = 200) {
        check(numThresholds >= 2, "AUC: numThresholds must be at least 2, got \(numThresholds)")
        self.numThresholds = numThresholds
        tp = [Double](repeating: 0, count: numThresholds); fp = tp
        super.init(name: name)
    }
    /// Bins the batch's predictions by threshold.
    public override func update(yTrue: Tensor, yPred: Tensor) {
        let p = noGrad { yPred.detached().to(.float64).contiguous().toDoubleArray() }
        let t = noGrad { Loss.aligned(yTrue, to: yPred, name).to(.float64).contiguous().toDoubleArray() }
        let n = numThresholds
        for (pi, ti) in zip(p, t) {
            // Thresholds k/(n-1); prediction counts as positive for every threshold below it (Keras uses >).
            let above = Swift.min(n, Swift.max(0, Int((pi * Double(n - 1)).rounded(.up))))
            if ti > 0.5 { pos += 1; for k in 0..<above { tp[k] += 1 } } else { neg += 1; for k in 0..<above { fp[k] += 1 } }
        }
    }
    /// The ROC AUC so far (0 when one class is missing).
    public override func result() -> Double {
        guard pos > 0 && neg > 0 else { return 0 }
        var area = 0.0
        for k in 0..<(numThresholds - 1) {
            let x0 = fp[k] / neg, x1 = fp[k + 1] / neg, y0 = tp[k] / pos, y1 = tp[k + 1] / pos
            area += (x0 - x1) * (y0 + y1) / 2
        }
        return area
    }
    /// Clears the counts.
    public override func reset() {
        tp = [Double](repeating: 0, count: numThresholds); fp = tp; pos = 0; neg = 0
    }
}

/// A metric for `compile(metrics:)`, by Keras name (`"accuracy"`, `"mae"`, `"top_k_categorical_accuracy"`,
/// `"precision"`, `"recall"`, `"auc"`) or as a value (`.topK(3)`, `.metric(MyMetric())`).
public struct MetricSpec: ExpressibleByStringLiteral, @unchecked Sendable {
    let make: () -> Metric

    /// Wraps a factory.
    public init(_ make: @escaping () -> Metric) { self.make = make }

    /// Keras names; traps on an unknown name.
    public init(stringLiteral name: String) {
        switch name {
        case "accuracy", "acc": make = { Accuracy(name: name) }
        case "sparse_categorical_accuracy": make = { SparseCategoricalAccuracy() }
        case "categorical_accuracy": make = { CategoricalAccuracy() }
        case "binary_accuracy": make = { BinaryAccuracy() }
        case "top_k_categorical_accuracy": make = { TopKCategoricalAccuracy() }
        case "sparse_top_k_categorical_accuracy": make = { TopKCategoricalAccuracy(sparse: true) }
        case "mae", "mean_absolute_error": make = { MeanAbsoluteError(name: name) }
        case "mse", "mean_squared_error": make = { MeanSquaredError(name: name) }
        case "precision": make = { Precision() }
        case "recall": make = { Recall() }
        case "auc": make = { AUC() }
        default:
            nablaFail("compile: unknown metric \"\(name)\"; expected accuracy, sparse_categorical_accuracy, categorical_accuracy, binary_accuracy, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mae, mse, precision, recall or auc")
        }
    }

    /// Top-k accuracy (sparse targets with `sparse: true`).
    public static func topK(_ k: Int, sparse: Bool = false) -> MetricSpec { MetricSpec { TopKCategoricalAccuracy(k: k, sparse: sparse) } }
    /// A metric instance made by `make` (one instance per `compile`).
    public static func metric(_ make: @escaping @autoclosure () -> Metric) -> MetricSpec { MetricSpec(make) }
}
