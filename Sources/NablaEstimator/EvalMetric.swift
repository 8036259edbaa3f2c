/// One batch's contribution to a streaming evaluation metric (what `tf.metrics.accuracy` / `tf.metrics.mean`
/// return in `eval_metric_ops`): a sum and a count, accumulated over every evaluation batch and reported as
/// `Σ sum / Σ count`.
///
/// ```swift
/// EstimatorSpec(mode: mode, loss: loss, evalMetricOps: ["accuracy": .accuracy(labels: labels, predictions: predicted)])
/// ```
public struct EvalMetric: Sendable {
    /// The batch's total.
    public let sum: Double
    /// How many items the total covers.
    public let count: Double

    /// A metric contribution of `sum` over `count` items.
    public init(sum: Double, count: Double) {
        self.sum = sum
        self.count = count
    }

    /// The fraction of `predictions` equal to `labels` (`tf.metrics.accuracy`).
    ///
    /// - Precondition: both have the same number of elements.
    public static func accuracy(labels: Tensor, predictions: Tensor) -> EvalMetric {
        check(labels.count == predictions.count,
              "EvalMetric.accuracy: labels \(labels.shape) and predictions \(predictions.shape) differ in size")
        let hits = noGrad { predictions.reshape([-1]).to(.int64).eq(labels.reshape([-1]).to(.int64)).to(.float64).sum().item() }
        return EvalMetric(sum: hits, count: Double(labels.count))
    }

    /// The mean of `values` over all evaluation batches, element-weighted (`tf.metrics.mean`).
    public static func mean(_ values: Tensor) -> EvalMetric {
        EvalMetric(sum: noGrad { values.detached().to(.float64).sum().item() }, count: Double(values.count))
    }

    /// The mean squared difference of `predictions` from `labels` (`tf.metrics.mean_squared_error`).
    public static func meanSquaredError(labels: Tensor, predictions: Tensor) -> EvalMetric {
        mean(noGrad { (predictions.to(.float64) - labels.to(.float64)).pow(2) })
    }
}
