import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The training display of `nabla train`: on a terminal a Keras-like bar redrawn in place (at most ten
/// times a second), otherwise one line per epoch, so logs stay readable.
///
/// ```
/// Epoch 1/3
/// 234/422 [===============>..............] - ETA: 9s - loss: 0.5100 - accuracy: 0.8200
/// ```
public struct ProgressDisplay {
    /// Whether standard output is a terminal (bar redrawn in place).
    public let isTTY: Bool
    /// Where lines go (standard output by default; tests capture it).
    public let emit: (String) -> Void
    private let epochs: Int
    private var steps = 0
    private var start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawnWidth = 0

    /// Creates a display for a run of `epochs` epochs; `isTTY` defaults to `isatty(stdout)`.
    public init(epochs: Int, isTTY: Bool? = nil, emit: @escaping (String) -> Void = ProgressDisplay.standardOutput) {
        self.epochs = epochs
        self.isTTY = isTTY ?? (isatty(STDOUT_FILENO) != 0)
        self.emit = emit
    }

    /// Writes `s` to standard output unbuffered.
    public static func standardOutput(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }

    /// Starts epoch `epoch` (1-based) of `steps` batches.
    public mutating func begin(epoch: Int, steps: Int) {
        self.steps = steps
        start = .now
        lastDraw = start
        drawnWidth = 0
        if isTTY { emit("Epoch \(epoch)/\(epochs)\n") }
    }

    /// Redraws the bar after batch `step` (1-based) on a terminal; `values` is called only when drawing.
    public mutating func update(step: Int, _ values: () -> [(String, Double)]) {
        guard isTTY else { return }
        let now = ContinuousClock.now
        guard step == 1 || step == steps || seconds(now - lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = seconds(now - start)
        let eta = elapsed / Double(step) * Double(max(steps - step, 0))
        draw(bar(step) + " - ETA: \(Self.duration(eta))" + Self.format(values()), newline: false)
    }

    /// Ends epoch `epoch` with its final values (train, validation and test metrics).
    public mutating func end(epoch: Int, _ values: [(String, Double)]) {
        let elapsed = seconds(ContinuousClock.now - start)
        let perStep = steps > 0 ? elapsed / Double(steps) : 0
        let timing = "\(Self.duration(elapsed)) \(String(format: "%.0fms", perStep * 1000))/step"
        if isTTY {
            draw(bar(steps) + " - " + timing + Self.format(values), newline: true)
        } else {
            emit("Epoch \(epoch)/\(epochs) - \(steps) steps - \(timing)" + Self.format(values) + "\n")
        }
    }

    private mutating func draw(_ text: String, newline: Bool) {
        var line = text
        if line.count < drawnWidth { line += String(repeating: " ", count: drawnWidth - line.count) }
        drawnWidth = line.count
        emit("\r" + line + (newline ? "\n" : ""))
    }

    private func bar(_ step: Int) -> String {
        let width = 30
        let digits = String(steps).count
        let stepText = String(repeating: " ", count: max(0, digits - String(step).count)) + String(step)
        let filled = steps > 0 ? min(width, step * width / steps) : width
        var b = String(repeating: "=", count: filled)
        if filled < width { b += ">" + String(repeating: ".", count: width - filled - 1) }
        return "\(stepText)/\(steps) [\(b)]"
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// ` - loss: 0.5100 - accuracy: 0.8200`.
    static func format(_ values: [(String, Double)]) -> String {
        values.map { " - \($0.0): \(String(format: "%.4f", $0.1))" }.joined()
    }

    /// `9s`, `1:05`, `1:02:03`.
    static func duration(_ s: Double) -> String {
        if s >= 3600 { return "\(Int(s) / 3600):\(String(format: "%02d", (Int(s) % 3600) / 60)):\(String(format: "%02d", Int(s) % 60))" }
        if s >= 60 { return "\(Int(s) / 60):\(String(format: "%02d", Int(s) % 60))" }
        return "\(Int(s.rounded()))s"
    }
}
