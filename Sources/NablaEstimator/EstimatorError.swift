/// Why an `Estimator` call failed.
public enum EstimatorError: Error, CustomStringConvertible {
    /// `evaluate` or `predict` found no checkpoint in the model directory.
    case noTrainedModel(modelDir: String)
    /// A checkpoint could not be restored into the modules or optimizers the model function created.
    case restoreFailed(path: String, reason: String)
    /// The model directory or a checkpoint could not be written.
    case writeFailed(path: String, reason: String)

    /// A readable message.
    public var description: String {
        switch self {
        case .noTrainedModel(let dir):
            return "Estimator: could not find a trained model in model directory \(dir); call train first"
        case .restoreFailed(let path, let reason):
            return "Estimator: cannot restore \(path): \(reason)"
        case .writeFailed(let path, let reason):
            return "Estimator: cannot write \(path): \(reason)"
        }
    }
}
