/// Which of the three jobs a model function is asked to build for (`tf.estimator.ModeKeys`).
public enum ModeKeys: String, Sendable, Equatable, CustomStringConvertible {
    /// Training: the spec needs a loss and a train op (`ModeKeys.TRAIN`).
    case train
    /// Evaluation: the spec needs a loss and may add metrics (`ModeKeys.EVAL`).
    case eval
    /// Inference: the spec needs predictions (`ModeKeys.PREDICT`).
    case predict

    /// `train`, `eval` or `predict`.
    public var description: String { rawValue }
}
