/// How often an `Estimator` writes checkpoints and summaries, and how many checkpoints it keeps
/// (`tf.estimator.RunConfig`).
public struct RunConfig: Sendable {
    /// Write a checkpoint every this many global steps during `train` (nil: only when `train` ends).
    public var saveCheckpointsSteps: Int?
    /// Write the training loss to TensorBoard every this many global steps (and at the first step).
    public var saveSummarySteps: Int
    /// How many of the newest checkpoints to keep in the model directory.
    public var keepCheckpointMax: Int

    /// A configuration with TensorFlow's defaults for summaries (100 steps) and kept checkpoints (5).
    public init(saveCheckpointsSteps: Int? = nil, saveSummarySteps: Int = 100, keepCheckpointMax: Int = 5) {
        check(saveCheckpointsSteps.map { $0 > 0 } ?? true, "RunConfig: saveCheckpointsSteps must be positive")
        check(saveSummarySteps > 0, "RunConfig: saveSummarySteps must be positive, got \(saveSummarySteps)")
        check(keepCheckpointMax > 0, "RunConfig: keepCheckpointMax must be positive, got \(keepCheckpointMax)")
        self.saveCheckpointsSteps = saveCheckpointsSteps
        self.saveSummarySteps = saveSummarySteps
        self.keepCheckpointMax = keepCheckpointMax
    }
}
