import Foundation
import NablaBoard
import NablaNN

/// Writes TensorBoard logs during `fit` (`keras.callbacks.TensorBoard`).
///
/// As Keras does, training logs go to `<logDir>/train` and validation logs (the `val_` entries,
/// without the prefix) to `<logDir>/validation`, as scalars tagged `epoch_<name>` (`epoch_loss`,
/// `epoch_accuracy`, `epoch_lr`) at step = epoch. With `histogramFreq: k` the weights are logged as
/// histograms (`dense_1/kernel`) every `k` epochs; with `writeGraph` the functional graph goes to the
/// Graphs tab; with `updateFreq: .batch` every batch's loss is logged as `batch_loss` at the global step.
/// ```swift
/// model.fit(x: x, y: y, epochs: 5, validationSplit: 0.1, callbacks: [TensorBoard(logDir: "logs/run1")])
/// // tensorboard --logdir logs
/// ```
public final class TensorBoard: Callback {
    /// Runs on rank 0 only under `mpirun` (it writes files).
    public override var rankZeroOnly: Bool { true }
    /// How often scalars are written (`update_freq`).
    public enum UpdateFrequency: Sendable, Equatable {
        /// Once per epoch.
        case epoch
        /// After every batch (the batch loss) and once per epoch.
        case batch
    }

    /// The root log directory.
    public let logDir: String
    /// Epochs between weight histograms; 0 disables them.
    public let histogramFreq: Int
    /// Whether the model graph is written.
    public let writeGraph: Bool
    /// Scalar frequency.
    public let updateFreq: UpdateFrequency
    private var trainWriter: SummaryWriter?
    private var validationWriter: SummaryWriter?
    private var globalStep = 0
    private var stepsPerEpoch = 0
    private var currentEpoch = 0

    /// Creates the callback; directories are created when training begins.
    public init(logDir: String = "logs", histogramFreq: Int = 0, writeGraph: Bool = true, updateFreq: UpdateFrequency = .epoch) {
        check(histogramFreq >= 0, "TensorBoard: histogramFreq must be >= 0, got \(histogramFreq)")
        self.logDir = logDir; self.histogramFreq = histogramFreq; self.writeGraph = writeGraph; self.updateFreq = updateFreq
    }

    /// The writer for `<logDir>/<run>`; traps with the file error when the directory cannot be created.
    private func open(_ run: String) -> SummaryWriter {
        let dir = (logDir as NSString).appendingPathComponent(run)
        do { return try SummaryWriter(logDir: dir, filenameSuffix: ".v2") } catch { nablaFail("TensorBoard: cannot write logs in \(dir): \(error)") }
    }

    /// Opens the train writer and writes the graph.
    public override func onTrainBegin(logs: Logs) {
        let w = open("train")
        trainWriter = w
        if writeGraph, let g = model?.graph { w.addGraph(GraphDescription(g)) }
    }

    /// Remembers the epoch (for the batch step count).
    public override func onEpochBegin(_ epoch: Int, logs: Logs) {
        if currentEpoch != epoch, stepsPerEpoch > 0 { globalStep = epoch * stepsPerEpoch }
        currentEpoch = epoch
    }

    /// Writes `batch_loss` when `updateFreq` is `.batch`.
    public override func onBatchEnd(_ batch: Int, loss: Double) {
        guard updateFreq == .batch else { return }
        trainWriter?.addScalar("batch_loss", loss, step: globalStep)
        globalStep += 1
        stepsPerEpoch = Swift.max(stepsPerEpoch, batch + 1)
    }

    /// Writes the epoch's scalars and, when due, the weight histograms.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let tw = trainWriter else { return }
        for (k, v) in logs.sorted(by: { $0.key < $1.key }) {
            if k.hasPrefix("val_") {
                if validationWriter == nil { validationWriter = open("validation") }
                validationWriter?.addScalar("epoch_" + k.dropFirst(4), v, step: epoch)
            } else {
                tw.addScalar("epoch_" + k, v, step: epoch)
            }
        }
        if histogramFreq > 0, epoch % histogramFreq == 0, let m = model {
            for (name, w) in m.namedWeights() { tw.addHistogram(name.replacing(".", with: "/"), w.detached(), step: epoch) }
        }
        do { try tw.flush(); try validationWriter?.flush() } catch { nablaFail("TensorBoard: writing logs in \(logDir) failed: \(error)") }
    }

    /// Closes the writers.
    public override func onTrainEnd(logs: Logs) {
        do { try trainWriter?.close(); try validationWriter?.close() } catch { nablaFail("TensorBoard: writing logs in \(logDir) failed: \(error)") }
        trainWriter = nil; validationWriter = nil
    }
}
