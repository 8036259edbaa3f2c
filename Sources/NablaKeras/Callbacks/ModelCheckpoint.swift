import NablaNN

/// Saves the model's weights (safetensors) after each epoch, or only when the monitored quantity
/// improves (`keras.callbacks.ModelCheckpoint` with `save_weights_only=True`).
///
/// `filepath` may contain `{epoch}` (1-based, as Keras) and any log name, e.g.
/// `"ckpt-{epoch}-{val_loss}.safetensors"`. Weights are keyed by layer (`dense_1.kernel`).
public final class ModelCheckpoint: Callback {
    /// Runs on rank 0 only under `mpirun` (it writes files).
    public override var rankZeroOnly: Bool { true }
    /// The path pattern.
    public let filepath: String
    /// The log name watched by `saveBestOnly`.
    public let monitor: String
    /// Whether to save only when `monitor` improves.
    public let saveBestOnly: Bool
    let maximize: Bool
    /// The best value seen.
    public private(set) var best: Double
    /// The paths written, in order.
    public private(set) var saved: [String] = []

    /// Creates the callback.
    public init(_ filepath: String, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: MonitorMode = .auto) {
        self.filepath = filepath; self.monitor = monitor; self.saveBestOnly = saveBestOnly
        maximize = mode.isMax(monitor)
        best = maximize ? -.infinity : .infinity
    }

    /// Saves when due; traps with the file error when writing fails.
    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let m = model else { return }
        if saveBestOnly {
            guard let v = logs[monitor] else {
                nablaFail("ModelCheckpoint: monitored quantity \"\(monitor)\" is not in the logs; available: \(logs.keys.sorted().joined(separator: ", "))")
            }
            guard maximize ? v > best : v < best else { return }
            best = v
        }
        var path = filepath.replacing("{epoch}", with: String(epoch + 1))
        for (k, v) in logs { path = path.replacing("{\(k)}", with: String(format4(v))) }
        do { try m.saveWeights(path) } catch { nablaFail("ModelCheckpoint: \(error)") }
        saved.append(path)
    }

    private func format4(_ v: Double) -> String {
        let r = (v * 10000).rounded() / 10000
        return String(r)
    }
}
