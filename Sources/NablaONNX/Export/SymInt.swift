/// A size or index of an exported graph that may grow with the batch: `perBatch · batch + constant`.
///
/// The exporter traces the model at two batch sizes and merges each integer it derives (shapes, slice starts,
/// reshape targets) from the two traces: equal values are fixed, values that differ are taken as affine in the
/// batch, which covers every size a batch-major model computes (`batch`, `batch · seq`, `(seq - 1) · batch`).
struct SymInt: Hashable, CustomStringConvertible {
    /// The factor of the batch size.
    var perBatch: Int
    /// The constant term.
    var constant: Int

    /// A fixed value.
    init(_ value: Int) { perBatch = 0; constant = value }

    /// `perBatch · batch + constant`.
    init(perBatch: Int, constant: Int) { self.perBatch = perBatch; self.constant = constant }

    /// The value when it does not depend on the batch.
    var fixed: Int? { perBatch == 0 ? constant : nil }

    /// Whether it is exactly the batch size.
    var isBatch: Bool { perBatch == 1 && constant == 0 }

    /// `7`, `batch`, `4·batch`, `4·batch+2`.
    var description: String {
        if perBatch == 0 { return "\(constant)" }
        let b = perBatch == 1 ? "batch" : "\(perBatch)·batch"
        return constant == 0 ? b : "\(b)\(constant > 0 ? "+" : "")\(constant)"
    }

    /// Merges the values one integer took in the traces at batch sizes `batches.0` and `batches.1`.
    static func merge(_ a: Int, _ b: Int, batches: (Int, Int)) -> SymInt {
        if a == b || batches.0 == batches.1 { return SymInt(a) }
        let d = batches.1 - batches.0
        let k = (b - a) / d
        return SymInt(perBatch: k, constant: a - k * batches.0)
    }

    /// Merges two integer lists of the same length (nil when the lengths differ).
    static func merge(_ a: [Int], _ b: [Int], batches: (Int, Int)) -> [SymInt]? {
        guard a.count == b.count else { return nil }
        return zip(a, b).map { merge($0, $1, batches: batches) }
    }
}
