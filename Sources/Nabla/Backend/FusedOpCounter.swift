import Synchronization

/// How many times each fused op reached one backend: the proof, in tests, that an op took the road its device
/// asks for (a `.reference` tensor never reaches a CPU kernel).
package final class FusedOpCounter: Sendable {
    private let counts = Mutex([Int](repeating: 0, count: FusedOp.allCases.count))
    private static let index: [FusedOp: Int] = Dictionary(uniqueKeysWithValues: FusedOp.allCases.enumerated().map { ($1, $0) })

    package init() {}

    /// Counts one call of `op`.
    @inline(__always) package func bump(_ op: FusedOp) {
        let i = Self.index[op]!
        counts.withLock { $0[i] += 1 }
    }

    /// The calls of `op` so far.
    package func count(_ op: FusedOp) -> Int {
        let i = Self.index[op]!
        return counts.withLock { $0[i] }
    }

    /// Every op's count.
    package var snapshot: [FusedOp: Int] {
        counts.withLock { c in Dictionary(uniqueKeysWithValues: FusedOp.allCases.enumerated().map { ($1, c[$0]) }) }
    }
}
