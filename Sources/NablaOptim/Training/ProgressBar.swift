import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The training display of Keras' `fit` and `nabla train`: on a terminal a Keras-like bar redrawn in
/// place (at most ten times a second), otherwise one line per epoch, so logs stay readable.
///
/// ```
/// Epoch 1/3
/// 234/422 [===============>..............] - ETA: 9s - loss: 0.5100 - accuracy: 0.8200
/// ```
/// Off a terminal, or with `verbose: 2`, each epoch is one line:
/// `Epoch 1/3 - 422 steps - 9s 21ms/step - loss: 0.5100 - accuracy: 0.8200`.
public struct ProgressBar {
    /// 0: silent; 1: the bar on a terminal, one line per epoch otherwise; 2: one line per epoch.
    public let verbose: Int
    /// Whether the bar is redrawn in place (standard output is a terminal, unless the caller said otherwise).
    public let isTTY: Bool
    /// Where the text goes (standard output by default; tests capture it).
    public let emit: (String) -> Void
    /// The number of epochs of the run.
    public let epochs: Int
    /// The number of batches per epoch (0 when unknown).
    public private(set) var steps: Int
    private var start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawnWidth = 0

    /// Creates a display for a run of `epochs` epochs of `steps` batches each (0 when unknown).
    /// - Parameters:
    ///   - verbose: 0 silent, 1 the bar (plain lines off a terminal), 2 one line per epoch.
    ///   - isTTY: Forces the bar (true) or plain lines (false); default: whether standard output is a terminal.
    public init(epochs: Int, steps: Int = 0, verbose: Int = 1, isTTY: Bool? = nil,
                emit: @escaping (String) -> Void = ProgressBar.standardOutput) {
        self.epochs = epochs; self.steps = steps; self.verbose = verbose
        self.isTTY = isTTY ?? (isatty(STDOUT_FILENO) != 0)
        self.emit = emit
    }

    /// Writes `s` to standard output unbuffered.
    public static func standardOutput(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }

    private var drawsBar: Bool { verbose == 1 && isTTY }

    /// Starts epoch `epoch` (1-based), of `steps` batches when given.
    public mutating func begin(epoch: Int, steps: Int? = nil) {
        if let steps { self.steps = steps }
        start = .now
        lastDraw = start
        drawnWidth = 0
        if drawsBar { emit("Epoch \(epoch)/\(epochs)\n") }
    }

    /// Redraws the bar after batch `step` (1-based) on a terminal; `values` is called only when drawing.
    public mutating func update(step: Int, _ values: () -> [(String, Double)]) {
        guard drawsBar else { return }
        let now = ContinuousClock.now
        guard step == 1 || step == steps || Self.seconds(now - lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = Self.seconds(now - start)
        let eta = steps > 0 ? elapsed / Double(step) * Double(max(steps - step, 0)) : 0
        draw(bar(step, of: steps) + " - ETA: \(Self.duration(eta))" + Self.format(values()), newline: false)
    }

    /// Ends epoch `epoch` (1-based) after `steps` batches (default: the epoch's count) with its final values.
    public mutating func end(epoch: Int, steps done: Int? = nil, _ values: [(String, Double)]) {
        guard verbose >= 1 else { return }
        let n = done ?? steps
        let elapsed = Self.seconds(ContinuousClock.now - start)
        let perStep = n > 0 ? elapsed / Double(n) : 0
        let timing = "\(Self.duration(elapsed)) "
            + (perStep >= 1 ? String(format: "%.0fs", perStep) : String(format: "%.0fms", perStep * 1000)) + "/step"
        if drawsBar {
            draw(bar(n, of: n) + " - " + timing + Self.format(values), newline: true)
        } else {
            emit("Epoch \(epoch)/\(epochs) - \(n) steps - \(timing)" + Self.format(values) + "\n")
        }
    }

    private mutating func draw(_ text: String, newline: Bool) {
        var line = text
        if line.count < drawnWidth { line += String(repeating: " ", count: drawnWidth - line.count) }
        drawnWidth = line.count
        emit("\r" + line + (newline ? "\n" : ""))
    }

    private func bar(_ step: Int, of total: Int) -> String {
        let width = 30
        let digits = String(total).count
        let stepText = String(repeating: " ", count: max(0, digits - String(step).count)) + String(step)
        guard total > 0 else { return "\(stepText)/Unknown" }
        let filled = min(width, step * width / total)
        var b = String(repeating: "=", count: filled)
        if filled < width { b += ">" + String(repeating: ".", count: width - filled - 1) }
        return "\(stepText)/\(total) [\(b)]"
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// ` - loss: 0.5100 - accuracy: 0.8200`.
    public static func format(_ values: [(String, Double)]) -> String {
        values.map { " - \($0.0): \(String(format: "%.4f", $0.1))" }.joined()
    }

    /// `9s`, `1:05`, `1:02:03`.
    public static func duration(_ s: Double) -> String {
        if s >= 3600 { return "\(Int(s) / 3600):\(String(format: "%02d", (Int(s) % 3600) / 60)):\(String(format: "%02d", Int(s) % 60))" }
        if s >= 60 { return "\(Int(s) / 60):\(String(format: "%02d", Int(s) % 60))" }
        return "\(Int(s.rounded()))s"
    }
}
