@_exported import Nabla
import NablaNN
import Synchronization

/// Unique layer names per process: `dense_1`, `dense_2`, `conv2d_1`, ... (Keras 2 style).
enum LayerNames {
    private static let counters = Mutex<[String: Int]>([:])

    /// The next name for a layer type whose Keras name is `base` (`dense`).
    static func next(_ base: String) -> String {
        let n = counters.withLock { c -> Int in
            let v = (c[base] ?? 0) + 1
            c[base] = v
            return v
        }
        return "\(base)_\(n)"
    }

    /// Keras' snake case of a class name: `Dense` → `dense`, `Conv2D` → `conv2d`,
    /// `MaxPooling2D` → `max_pooling2d`, `SimpleRNN` → `simple_rnn`, `BatchNormalization` → `batch_normalization`.
    static func snake(_ name: String) -> String {
        let chars = Array(name)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase && i > 0 {
                let prev = chars[i - 1]
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prev.isLowercase || (prev.isUppercase && nextLower) { out.append("_") }
            }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }
}

/// Formats a Keras shape with the free batch dimension as `None`: `(None, 64)`.
func kerasShape(_ shape: [Int]) -> String {
    let parts = shape.map { $0 < 0 ? "None" : String($0) }
    return "(" + parts.joined(separator: ", ") + (parts.count == 1 ? ",)" : ")")
}
