/// A batch an input function yields: the features and, for training and evaluation, the labels
/// (what a `tf.data.Dataset` of `(features, labels)` gives an Estimator).
///
/// `Tensor` (features only), `[Tensor]` (`[features, labels]`, as a `DataLoader` over a `TensorDataset`
/// yields) and `EstimatorBatch` conform.
public protocol EstimatorInput {
    /// The features passed to the model function.
    var estimatorFeatures: Tensor { get }
    /// The labels passed to the model function, or nil.
    var estimatorLabels: Tensor? { get }
}

/// One batch of features and optional labels.
public struct EstimatorBatch: EstimatorInput {
    /// The features.
    public var features: Tensor
    /// The labels, or nil (prediction).
    public var labels: Tensor?

    /// A batch of `features` and `labels`.
    public init(features: Tensor, labels: Tensor? = nil) {
        self.features = features
        self.labels = labels
    }

    /// `features`.
    public var estimatorFeatures: Tensor { features }
    /// `labels`.
    public var estimatorLabels: Tensor? { labels }
}

extension Tensor: EstimatorInput {
    /// The tensor itself.
    public var estimatorFeatures: Tensor { self }
    /// nil: a bare tensor has no labels.
    public var estimatorLabels: Tensor? { nil }
}

extension Array: EstimatorInput where Element == Tensor {
    /// The first tensor.
    public var estimatorFeatures: Tensor {
        check(!isEmpty, "Estimator: an input batch [Tensor] must hold [features] or [features, labels], got an empty array")
        return self[0]
    }
    /// The second tensor, or nil when there is one.
    public var estimatorLabels: Tensor? { count > 1 ? self[1] : nil }
}
