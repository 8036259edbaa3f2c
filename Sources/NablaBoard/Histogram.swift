import Nabla

/// How `SummaryWriter.addHistogram` places bucket edges (`bins=` of `add_histogram`).
public enum HistogramBins: Sendable, Hashable {
    /// TensorFlow's fixed edges: 0 and ±1e-12·1.1^k up to 1e20 (`bins="tensorflow"`, the default).
    case tensorflow
    /// `count` equal-width buckets from the minimum to the maximum value (`bins=count`, NumPy's rule).
    case uniform(Int)
    /// Explicit, strictly increasing bucket edges (`bins=[...]`).
    case edges([Double])
}

/// A histogram as `tensorboardX`'s `make_histogram` builds it: only the buckets that span the data,
/// plus one empty bucket on the left so TensorBoard knows where the first one starts.
struct Histogram {
    var min = 0.0, max = 0.0, num = 0.0, sum = 0.0, sumSquares = 0.0
    /// Right edge of every bucket.
    var bucketLimits: [Double] = []
    var bucketCounts: [Double] = []

    /// TensorFlow's default edges: `-1e20 ... -1e-12, 0, 1e-12 ... 1e20` in ratios of 1.1.
    static let tensorflowEdges: [Double] = {
        var positive: [Double] = []
        var v = 1e-12
        while v < 1e20 { positive.append(v); v *= 1.1 }
        return positive.reversed().map { -$0 } + [0] + positive
    }()

    /// Builds the histogram of the finite `values` (NaN and infinities are left out), or nil when none is finite.
    init?(values: [Double], bins: HistogramBins) {
        let finite = values.filter { $0.isFinite }
        guard let lo = finite.min(), let hi = finite.max() else { return nil }
        let edges: [Double]
        switch bins {
        case .tensorflow:
            edges = Histogram.tensorflowEdges
        case .uniform(let n):
            check(n > 0, "addHistogram: bins must be positive, got \(n)")
            let (a, b) = lo == hi ? (lo - 0.5, hi + 0.5) : (lo, hi)
            edges = (0...n).map { $0 == n ? b : a + (b - a) / Double(n) * Double($0) }
        case .edges(let e):
            check(e.count >= 2 && zip(e, e.dropFirst()).allSatisfy { $0 < $1 },
                  "addHistogram: bucket edges must be at least 2 strictly increasing values, got \(e)")
            edges = e
        }
        var counts = [Double](repeating: 0, count: edges.count - 1)
        for v in finite where v >= edges[0] && v <= edges[edges.count - 1] {
            // Index of the last edge <= v (binary search); the last bucket is closed on the right.
            var low = 0, high = edges.count
            while low < high {
                let mid = (low + high) / 2
                if edges[mid] <= v { low = mid + 1 } else { high = mid }
            }
            counts[Swift.min(low - 1, counts.count - 1)] += 1
        }
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else {
            return nil
        }
        bucketCounts = first > 0 ? Array(counts[(first - 1)...last]) : [0] + counts[...last]
        bucketLimits = Array(edges[first...(last + 1)])
        min = lo
        max = hi
        num = Double(finite.count)
        sum = finite.reduce(0, +)
        sumSquares = finite.reduce(0) { $0 + $1 * $1 }
    }
}
