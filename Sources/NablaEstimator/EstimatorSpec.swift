/// What a model function returns for one mode (`tf.estimator.EstimatorSpec`): the loss, the train op,
/// the evaluation metrics and the predictions, as that mode needs them.
///
/// ```swift
/// if mode == .predict { return EstimatorSpec(mode: mode, predictions: ["class": logits.argmax(dim: 1)]) }
/// let loss = crossEntropy(logits, labels!)
/// if mode == .train { return EstimatorSpec(mode: mode, loss: loss, trainOp: optimizer.minimize(loss)) }
/// return EstimatorSpec(mode: mode, loss: loss, evalMetricOps: ["accuracy": .accuracy(labels: labels!, predictions: predicted)])
/// ```
public struct EstimatorSpec {
    /// The work one training step does once the loss is computed (`train_op`): usually
    /// `optimizer.minimize(loss)`, which clears the gradients, back-propagates and steps.
    public typealias TrainOp = () -> Void

    /// The mode this spec was built for.
    public let mode: ModeKeys
    /// The scalar loss (required in `.train` and `.eval`).
    public let loss: Tensor?
    /// The training step (required in `.train`).
    public let trainOp: TrainOp?
    /// Named streaming metrics, in order (`eval_metric_ops`; used in `.eval`).
    public let evalMetricOps: [(String, EvalMetric)]
    /// Named batched predictions, in order; each has the batch as its first dim (required in `.predict`).
    public let predictions: [(String, Tensor)]

    /// A spec for `mode`; which fields are required depends on the mode (see the properties).
    public init(mode: ModeKeys, loss: Tensor? = nil, trainOp: TrainOp? = nil,
                evalMetricOps: KeyValuePairs<String, EvalMetric> = [:], predictions: KeyValuePairs<String, Tensor> = [:]) {
        self.mode = mode
        self.loss = loss
        self.trainOp = trainOp
        self.evalMetricOps = evalMetricOps.map { ($0.key, $0.value) }
        self.predictions = predictions.map { ($0.key, $0.value) }
    }
}

extension Optimizer {
    /// A train op that clears the gradients, back-propagates `loss` and takes one step
    /// (TensorFlow's `optimizer.minimize(loss, global_step=...)`; the Estimator counts the global step).
    public func minimize(_ loss: Tensor) -> EstimatorSpec.TrainOp {
        { [self] in
            zeroGrad()
            loss.backward()
            step()
        }
    }
}
