import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keras' training output: on a terminal a bar redrawn in place (at most 10 times a second),
/// otherwise one plain line per epoch.
///
/// ```
/// Epoch 1/5
/// 234/469 [==============>...............] - ETA: 3s - loss: 0.5100 - accuracy: 0.8200
/// ```
struct ProgressBar {
    let verbose: Int
    let isTTY: Bool
    let epochs: Int
    var target: Int
    private var start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawnWidth = 0

    init(verbose: Int, epochs: Int, target: Int) {
        self.verbose = verbose; self.epochs = epochs; self.target = target
        isTTY = isatty(STDOUT_FILENO) != 0
    }

    static func emit(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func format(_ values: [(String, Double)]) -> String {
        values.map { " - \($0.0): \(String(format: "%.4f", $0.1))" }.joined()
    }

    mutating func epochBegin(_ epoch: Int) {
        start = .now
        lastDraw = start
        drawnWidth = 0
        if verbose == 1 && isTTY { ProgressBar.emit("Epoch \(epoch + 1)/\(epochs)\n") }
    }

    /// Redraws after batch `step` (1-based) when on a terminal and 0.1 s have passed; `values` is only called then.
    mutating func update(_ step: Int, _ values: () -> [(String, Double)]) {
        guard verbose == 1 && isTTY else { return }
        let now = ContinuousClock.now
        guard step == 1 || ProgressBar.seconds(now - lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = ProgressBar.seconds(now - start)
        let eta = target > 0 ? elapsed / Double(step) * Double(max(target - step, 0)) : 0
        var line = bar(step) + " - ETA: \(ProgressBar.duration(eta))" + ProgressBar.format(values())
        if line.count < drawnWidth { line += String(repeating: " ", count: drawnWidth - line.count) }
        drawnWidth = line.count
        ProgressBar.emit("\r" + line)
    }

    private func bar(_ step: Int) -> String {
        let width = 30
        let digits = String(target).count
        let stepText = String(repeating: " ", count: max(0, digits - String(step).count)) + String(step)
        guard target > 0 else { return "\(stepText)/Unknown" }
        let filled = min(width, step * width / target)
        var b = String(repeating: "=", count: filled)
        if filled < width { b += ">" + String(repeating: ".", count: width - filled - 1) }
        return "\(stepText)/\(target) [\(b)]"
    }

    static func duration(_ s: Double) -> String {
        if s >= 3600 { return "\(Int(s) / 3600):\(String(format: "%02d", (Int(s) % 3600) / 60)):\(String(format: "%02d", Int(s) % 60))" }
        if s >= 60 { return "\(Int(s) / 60):\(String(format: "%02d", Int(s) % 60))" }
        return "\(Int(s.rounded()))s"
    }

    /// The epoch's final line (bar complete, timing, all values).
    mutating func epochEnd(_ epoch: Int, steps: Int, _ values: [(String, Double)]) {
        guard verbose >= 1 else { return }
        let elapsed = ProgressBar.seconds(ContinuousClock.now - start)
        let perStep = steps > 0 ? elapsed / Double(steps) : 0
        let timing = "\(ProgressBar.duration(elapsed)) \(perStep >= 1 ? String(format: "%.0fs", perStep) : String(format: "%.0fms", perStep * 1000))/step"
        if verbose == 1 && isTTY {
            var line = bar(steps) + " - " + timing + ProgressBar.format(values)
            if line.count < drawnWidth { line += String(repeating: " ", count: drawnWidth - line.count) }
            ProgressBar.emit("\r" + line + "\n")
        } else {
            ProgressBar.emit("Epoch \(epoch + 1)/\(epochs) - \(steps)/\(steps) - \(timing)" + ProgressBar.format(values) + "\n")
        }
    }
}
