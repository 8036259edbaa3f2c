/// What one epoch of `TrainingLoop.runEpoch` did.
public struct EpochSummary: Sendable {
    /// The batches trained on.
    public let steps: Int
    /// The samples trained on.
    public let samples: Int
    /// The mean training loss over the epoch, weighted by batch size (0 for an empty epoch).
    public let meanLoss: Double
    /// Seconds the epoch took.
    public let seconds: Double
}

/// The training loop that Keras' `fit` and `nabla train` share: it runs the batches of an epoch through a
/// training step, keeps the running mean loss, the step counters and the time, and draws the progress bar.
///
/// What happens between epochs (callbacks, validation, schedulers, checkpoints, logs) stays with each front.
/// ```swift
/// var loop = TrainingLoop(progress: ProgressBar(epochs: 3))
/// for epoch in 1...3 {
///     let summary = loop.runEpoch(epoch, batches: loader, steps: loader.count) { (x, y) in
///         let loss = crossEntropy(model(x), y)
///         TrainingLoop.optimize(loss, with: opt)
///         return (loss.item(), y.shape[0])
///     }
///     loop.endEpoch(epoch, summary, [("loss", summary.meanLoss)])
/// }
/// ```
public struct TrainingLoop {
    /// The display the loop draws.
    public var progress: ProgressBar
    /// Batches trained on so far, over all epochs (a resumed run starts from its checkpoint's count).
    public private(set) var globalStep: Int

    /// Creates a loop that draws `progress` and counts steps from `globalStep`.
    public init(progress: ProgressBar, globalStep: Int = 0) {
        self.progress = progress
        self.globalStep = globalStep
    }

    /// One optimizer step on `loss`: zeroes the gradients, back-propagates and updates the parameters.
    @inlinable
    public static func optimize(_ loss: Tensor, with optimizer: Optimizer) {
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
    }

    /// Trains one epoch (`epoch` is 1-based) on `batches`.
    /// - Parameters:
    ///   - steps: The number of batches, for the bar (nil: keep the last one; 0: unknown).
    ///   - step: Trains on one batch and returns its loss and its number of samples.
    ///   - beforeBatch: Called with the batch's index in the epoch (0-based) before `step`.
    ///   - afterBatch: Called with the batch's index in the epoch and its loss after `step`.
    ///   - runningValues: Values the bar shows after the running loss, given the samples seen so far;
    ///     called only when the bar is drawn.
    /// - Returns: The epoch's step and sample counts, mean loss and time.
    public mutating func runEpoch<S: Sequence>(
        _ epoch: Int, batches: S, steps: Int? = nil,
        beforeBatch: ((Int) -> Void)? = nil, afterBatch: ((Int, Double) -> Void)? = nil,
        runningValues: (Int) -> [(String, Double)] = { _ in [] },
        step: (S.Element) throws -> (loss: Double, count: Int)
    ) rethrows -> EpochSummary {
        progress.begin(epoch: epoch, steps: steps)
        let t0 = ContinuousClock.now
        var lossSum = 0.0, seen = 0, k = 0
        for batch in batches {
            beforeBatch?(k)
            let (loss, count) = try step(batch)
            lossSum += loss * Double(count)
            seen += count
            k += 1
            globalStep += 1
            afterBatch?(k - 1, loss)
            progress.update(step: k) { [("loss", lossSum / Double(Swift.max(seen, 1)))] + runningValues(seen) }
        }
        return EpochSummary(steps: k, samples: seen, meanLoss: lossSum / Double(Swift.max(seen, 1)),
                            seconds: ProgressBar.seconds(ContinuousClock.now - t0))
    }

    /// Ends epoch `epoch` on the display with its final values (training, validation, test metrics).
    public mutating func endEpoch(_ epoch: Int, _ summary: EpochSummary, _ values: [(String, Double)]) {
        progress.end(epoch: epoch, steps: summary.steps, values)
    }
}
