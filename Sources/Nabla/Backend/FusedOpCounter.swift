import Synchronization

/// How many times each fused op reached one backend: the proof, in tests, that an op took the road its device
/// asks for (a `.reference` tensor never reaches a CPU kernel).
///
/// One relaxed atomic increment per call, indexed by the op's ordinal: no lock and no hashing on the op path.
/// `@unchecked Sendable`: the counters are atomics in a buffer that lives as long as the counter and is never
/// reallocated.
package final class FusedOpCounter: @unchecked Sendable {
    private let counts: UnsafeMutablePointer<Atomic<Int>>

    package init() {
        counts = .allocate(capacity: FusedOp.caseCount)
        for i in 0..<FusedOp.caseCount { (counts + i).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: FusedOp.caseCount)
        counts.deallocate()
    }

    /// Counts one call of `op`.
    @inline(__always) package func bump(_ op: FusedOp) {
        counts[op.ordinal].wrappingAdd(1, ordering: .relaxed)
    }

    /// The calls of `op` so far.
    package func count(_ op: FusedOp) -> Int { counts[op.ordinal].load(ordering: .relaxed) }

    /// Every op's count.
    package var snapshot: [FusedOp: Int] {
        Dictionary(uniqueKeysWithValues: FusedOp.allCases.map { ($0, count($0)) })
    }
}

extension FusedOp {
    /// The number of fused ops.
    package static let caseCount = allCases.count

    /// The op's position in `allCases` (declaration order), the index of its counter.
    package var ordinal: Int {
        switch self {
        case .conv2d: 0
        case .conv2dBackward: 1
        case .softmax: 2
        case .softmaxBackward: 3
        case .normRows: 4
        case .normRowsBackward: 5
        case .batchNormStats: 6
        case .batchNormAffine: 7
        case .batchNormBackward: 8
        case .attention: 9
        case .attentionBackward: 10
        case .recurrentSequence: 11
        case .recurrentSequenceBackward: 12
        case .lstmCell: 13
        case .lstmCellBackward: 14
        case .sgdStep: 15
        case .adamStep: 16
        case .rmspropStep: 17
        case .adagradStep: 18
        case .adadeltaStep: 19
        case .linearEpilogue: 20
        }
    }
}
