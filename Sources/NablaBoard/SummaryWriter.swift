import Foundation
import Nabla
import Synchronization

/// Writes TensorBoard event files, as `torch.utils.tensorboard.SummaryWriter`.
///
/// Each writer owns one `events.out.tfevents.<time>.<host>.<pid>.<n>` file in `logDir`. Records are
/// appended as they are added (never rewritten), so `tensorboard --logdir runs` shows them while training
/// runs. All methods are thread-safe. Writing errors are kept and thrown by the next `flush()` or `close()`.
///
/// ```swift
/// let writer = try SummaryWriter(logDir: "runs/mlp")
/// for step in 0..<100 {
///     writer.addScalar("loss/train", loss.item(), step: step)
/// }
/// writer.addHistogram("fc1/weight", model.fc1.weight, step: 100)
/// try writer.close()
/// ```
public final class SummaryWriter: Sendable {
    /// The directory holding this writer's events file.
    public let logDir: String
    /// The path of this writer's events file.
    public let filePath: String
    private let filenameSuffix: String

    private struct State {
        var file: EventFile?
        /// `addScalars` writes each series to its own run `<logDir>/<mainTag>_<tag>`.
        var children: [String: EventFile] = [:]
        var error: SummaryWriterError?
    }

    private let state: Mutex<State>

    /// Opens a new events file in `logDir` (created when missing).
    ///
    /// - Parameters:
    ///   - logDir: The run directory; nil picks `runs/<MonDD_HH-MM-SS>_<host><comment>` as PyTorch does.
    ///   - comment: Appended to the default directory name; ignored when `logDir` is given.
    ///   - filenameSuffix: Appended to the events file name.
    /// - Throws: `SummaryWriterError` when the directory or the file cannot be created.
    public init(logDir: String? = nil, comment: String = "", filenameSuffix: String = "") throws(SummaryWriterError) {
        let dir = logDir ?? SummaryWriter.defaultLogDir(comment: comment)
        let file = try EventFile(directory: dir, suffix: filenameSuffix)
        self.logDir = dir
        self.filePath = file.path
        self.filenameSuffix = filenameSuffix
        self.state = Mutex(State(file: file))
    }

    deinit {
        state.withLock { s in
            try? s.file?.close()
            for key in s.children.keys { try? s.children[key]?.close() }
        }
    }

    /// `runs/<MonDD_HH-MM-SS>_<host><comment>`, PyTorch's default run directory.
    static func defaultLogDir(comment: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMMdd_HH-mm-ss"
        return "runs/" + formatter.string(from: Date()) + "_" + ProcessInfo.processInfo.hostName + comment
    }

    // MARK: - Summaries

    /// Logs one scalar (`add_scalar`); TensorBoard stores it as float32.
    public func addScalar(_ tag: String, _ value: Double, step: Int = 0, wallTime: Double? = nil) {
        write(summary: [Summaries.scalar(tag, value)], step: step, wallTime: wallTime)
    }

    /// Logs the value of a one-element tensor, such as a loss (`add_scalar` with a tensor).
    public func addScalar(_ tag: String, _ value: Tensor, step: Int = 0, wallTime: Double? = nil) {
        addScalar(tag, value.item(), step: step, wallTime: wallTime)
    }

    /// Logs several scalars on one chart (`add_scalars`): each key becomes a run `<logDir>/<mainTag>_<key>`
    /// holding the series `mainTag`.
    public func addScalars(_ mainTag: String, _ values: [String: Double], step: Int = 0, wallTime: Double? = nil) {
        let time = wallTime ?? Date().timeIntervalSince1970
        state.withLock { s in
            guard s.file != nil, s.error == nil else { return }
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                let run = mainTag.replacingOccurrences(of: "/", with: "_") + "_" + key
                do throws(SummaryWriterError) {
                    if s.children[run] == nil {
                        s.children[run] = try EventFile(directory: (logDir as NSString).appendingPathComponent(run),
                                                        suffix: filenameSuffix)
                    }
                    try s.children[run]?.write(SummaryWriter.event([Summaries.scalar(mainTag, value)], step: step, wallTime: time))
                } catch {
                    s.error = error
                    return
                }
            }
        }
    }

    /// Logs a histogram of the values of `values` (`add_histogram`); NaN and infinities are left out,
    /// and nothing is written when no value is finite.
    public func addHistogram(_ tag: String, _ values: Tensor, step: Int = 0, bins: HistogramBins = .tensorflow,
                             wallTime: Double? = nil) {
        guard let value = Summaries.histogram(tag, values, bins: bins) else { return }
        write(summary: [value], step: step, wallTime: wallTime)
    }

    /// Logs an image (`add_image`), encoded as PNG.
    ///
    /// Floating and bool images hold values in [0, 1] (scaled by 255, clipped, truncated as tensorboardX does);
    /// integer images hold bytes in [0, 255]. 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels.
    /// - Precondition: `image` has rank 3 for `.chw`/`.hwc` and rank 2 for `.hw`.
    public func addImage(_ tag: String, _ image: Tensor, step: Int = 0, dataFormat: ImageDataFormat = .chw,
                         wallTime: Double? = nil) {
        do throws(SummaryWriterError) {
            write(summary: [try Summaries.image(tag, image, format: dataFormat)], step: step, wallTime: wallTime)
        } catch {
            state.withLock { s in if s.error == nil { s.error = error } }
        }
    }

    /// Logs a text (`add_text`), shown as Markdown in the Text tab under `<tag>/text_summary`.
    public func addText(_ tag: String, _ text: String, step: Int = 0, wallTime: Double? = nil) {
        write(summary: [Summaries.text(tag, text)], step: step, wallTime: wallTime)
    }

    /// Logs a run's hyperparameters and final metrics for the HParams tab (`add_hparams`).
    ///
    /// As PyTorch does, writes them in a sub-run `<logDir>/<runName>` (default: the current time), together
    /// with each metric as a scalar with step 0.
    public func addHparams(_ hparams: [String: HParamValue], metrics: [String: Double], runName: String? = nil) {
        do throws(SummaryWriterError) {
            let run = runName ?? String(Date().timeIntervalSince1970)
            let sub = try SummaryWriter(logDir: (logDir as NSString).appendingPathComponent(run), filenameSuffix: filenameSuffix)
            sub.write(summary: try Summaries.hparams(hparams, metrics: Array(metrics.keys)), step: 0, wallTime: nil)
            for (tag, value) in metrics.sorted(by: { $0.key < $1.key }) { sub.addScalar(tag, value) }
            try sub.close()
        } catch {
            state.withLock { s in if s.error == nil { s.error = error } }
        }
    }

    /// Logs a model graph for the Graphs tab (`add_graph`), written as a TensorFlow `GraphDef`.
    public func addGraph(_ graph: GraphDescription, wallTime: Double? = nil) {
        do {
            var event = Tensorflow_Event()
            event.wallTime = wallTime ?? Date().timeIntervalSince1970
            event.graphDef = Data(try Summaries.graph(graph).serializedBytes() as [UInt8])
            write(event)
        } catch {
            state.withLock { s in if s.error == nil { s.error = .serialization("\(error)") } }
        }
    }

    // MARK: - Files

    /// Flushes the events files to disk (`flush`).
    ///
    /// - Throws: The first error met while writing since the writer was opened.
    public func flush() throws(SummaryWriterError) {
        try state.withLock { (s: inout State) throws(SummaryWriterError) in
            if let error = s.error { throw error }
            try s.file?.sync()
            for file in s.children.values { try file.sync() }
        }
    }

    /// Flushes and closes the events files (`close`); later summaries are ignored. Closing twice does nothing.
    ///
    /// - Throws: The first error met while writing since the writer was opened.
    public func close() throws(SummaryWriterError) {
        try state.withLock { (s: inout State) throws(SummaryWriterError) in
            var firstError = s.error
            s.error = nil
            var files = Array(s.children.values)
            if let file = s.file { files.append(file) }
            s.file = nil
            s.children = [:]
            for var file in files {
                do throws(SummaryWriterError) {
                    try file.sync()
                    try file.close()
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            if let firstError { throw firstError }
        }
    }

    private static func event(_ values: [Tensorflow_Summary.Value], step: Int, wallTime: Double?) -> Tensorflow_Event {
        var event = Tensorflow_Event()
        event.wallTime = wallTime ?? Date().timeIntervalSince1970
        event.step = Int64(step)
        event.summary.value = values
        return event
    }

    private func write(summary values: [Tensorflow_Summary.Value], step: Int, wallTime: Double?) {
        write(SummaryWriter.event(values, step: step, wallTime: wallTime))
    }

    private func write(_ event: Tensorflow_Event) {
        state.withLock { s in
            guard let file = s.file, s.error == nil else { return }
            do throws(SummaryWriterError) { try file.write(event) } catch { s.error = error }
        }
    }
}
