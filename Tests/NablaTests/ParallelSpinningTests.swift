import Foundation
import Synchronization
import Testing
import Nabla

/// The kernel threads' spinning pool (`Parallel.forEach`): every chunk runs exactly once whoever claims it,
/// the workers take part, nested and concurrent calls complete, and the spin time is a setting.
@Suite(.serialized) struct ParallelSpinningTests {
    /// Runs `n` chunks and counts how often each ran.
    static func runCounting(_ n: Int) -> [Int] {
        let counts = Mutex([Int](repeating: 0, count: n))
        Parallel.forEach(n) { i in counts.withLock { $0[i] += 1 } }
        return counts.withLock { $0 }
    }

    @Test func everyChunkRunsExactlyOnce() {
        for n in [0, 1, 2, 3, 7, 64, 1000] {
            #expect(Self.runCounting(n) == [Int](repeating: 1, count: n), "n = \(n)")
        }
    }

    @Test func theWorkersTakePartInLongerChunks() {
        guard Parallel.threads >= 2 else { return }
        let before = Parallel.spinningPoolCounters.workerChunks
        for _ in 0..<200 {
            Parallel.forEach(8) { _ in
                let until = DispatchTime.now().uptimeNanoseconds + 50_000
                while DispatchTime.now().uptimeNanoseconds < until {}
            }
        }
        #expect(Parallel.spinningPoolCounters.workerChunks > before, "no chunk ran on a worker in 200 jobs of 8 x 50 µs")
    }

    @Test func aNestedCallRunsOnTheCallingThread() {
        let total = Mutex(0)
        Parallel.forEach(4) { _ in
            Parallel.forEach(5) { j in total.withLock { $0 += j + 1 } }
        }
        #expect(total.withLock { $0 } == 4 * 15)
    }

    @Test func concurrentCallersAllComplete() async {
        let sums = await withTaskGroup(of: Int.self) { group in
            for t in 0..<4 {
                group.addTask {
                    var s = 0
                    for _ in 0..<100 {
                        let part = Mutex(0)
                        Parallel.forEach(6) { i in part.withLock { $0 += i + t } }
                        s += part.withLock { $0 }
                    }
                    return s
                }
            }
            var out: [Int] = []
            for await s in group { out.append(s) }
            return out.sorted()
        }
        #expect(sums == (0..<4).map { t in 100 * (15 + 6 * t) })
    }

    @Test func theSpinTimeIsASetting() {
        let old = Parallel.spinMicroseconds
        defer { Parallel.spinMicroseconds = old }
        Parallel.spinMicroseconds = 0
        #expect(Parallel.spinMicroseconds == 0)
        #expect(Self.runCounting(16) == [Int](repeating: 1, count: 16))   // workers asleep: woken, or the caller runs all
        Parallel.spinMicroseconds = 50
        #expect(Parallel.spinMicroseconds == 50)
    }
}
