import Foundation
import Synchronization
import Testing
import NablaData
import NablaTestSupport

/// A dataset whose reads sleep briefly and record how many run at once; each sample also holds a draw
/// from its per-sample generator, so batches show whether random transforms are reproducible.
final class SlowDataset: Dataset, @unchecked Sendable {
    let inFlight = Atomic<Int>(0)
    let maxInFlight = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
    let count: Int
    let sleepMicros: UInt32
    init(count: Int, sleepMicros: UInt32 = 2000) { self.count = count; self.sleepMicros = sleepMicros }
    subscript(index: Int) -> Tensor { sample(index, generator: Generator(seed: 0)) }
    func sample(_ index: Int, generator: Generator) -> Tensor {
        let now = inFlight.add(1, ordering: .sequentiallyConsistent).newValue
        var seen = maxInFlight.load(ordering: .sequentiallyConsistent)
        while now > seen {
            let (done, current) = maxInFlight.compareExchange(expected: seen, desired: now, ordering: .sequentiallyConsistent)
            if done { break }
            seen = current
        }
        usleep(sleepMicros)
        reads.add(1, ordering: .relaxed)
        inFlight.subtract(1, ordering: .sequentiallyConsistent)
        return Tensor(shape: [2], data: [Double(index), generator.nextUnit()])
    }
}

/// All batches of `passes` passes as flat arrays.
func collect<D: Dataset>(_ loader: DataLoader<D, Tensor>, passes: Int = 1) -> [[Double]] {
    var out: [[Double]] = []
    for _ in 0..<passes { for b in loader { out.append(b.toDoubleArray()) } }
    return out
}

@Suite(.serialized) struct DataLoaderTests {
    @Test func workersGiveTheSameBatchesAsTheMainThreadAndRunConcurrently() {
        let serialData = SlowDataset(count: 23, sleepMicros: 0)
        let serial = DataLoader(serialData, batchSize: 3, shuffle: true, generator: Generator(seed: 7))
        let expected = collect(serial, passes: 2)
        #expect(expected.count == 16)
        for workers in [1, 2, 4] {
            let data = SlowDataset(count: 23)
            let parallel = DataLoader(data, batchSize: 3, shuffle: true, numWorkers: workers, prefetchFactor: 2, generator: Generator(seed: 7))
            #expect(collect(parallel, passes: 2) == expected)
            if workers > 1 { #expect(data.maxInFlight.load(ordering: .sequentiallyConsistent) >= 2) }
        }
        #expect(DataLoaderWorkers.running == 0)
        // Different epochs shuffle and draw differently; the last batch keeps the remainder.
        #expect(expected[0] != expected[8])
        #expect(expected[7].count == 4)
    }

    @Test func breakingOutEarlyStopsTheWorkers() {
        let data = SlowDataset(count: 200, sleepMicros: 1000)
        let loader = DataLoader(data, batchSize: 2, numWorkers: 3, prefetchFactor: 2)
        for _ in 0..<3 {
            for (k, _) in loader.enumerated() where k == 1 { break }
            #expect(DataLoaderWorkers.running == 0)
        }
        _ = loader.makeIterator()                      // started and dropped without reading
        #expect(DataLoaderWorkers.running == 0)
        // Prefetching is bounded: far fewer than all 200 samples were read.
        #expect(data.reads.load(ordering: .relaxed) < 100)
        let first = loader.makeIterator()
        var it = first
        #expect(it.next()?.toDoubleArray().count == 4)
    }

    @Test func batchCountsAndDropLast() {
        let data = TensorDataset([Tensor.arange(10, dtype: .float32), Tensor.arange(10)])
        let keep = DataLoader(data, batchSize: 4)
        let drop = DataLoader(data, batchSize: 4, dropLast: true, numWorkers: 2)
        #expect(keep.count == 3 && drop.count == 2)
        let kb = Array(keep), db = Array(drop)
        #expect(kb.map { $0[0].shape[0] } == [4, 4, 2] && db.count == 2)
        #expect(kb[2][1].toIntArray() == [8, 9])
        // The BatchDataset fast path and per-sample collate agree.
        let viaCollate = DataLoader(data, batchSize: 4, shuffle: true, generator: Generator(seed: 1)) { defaultCollate($0) }
        let fast = DataLoader(data, batchSize: 4, shuffle: true, generator: Generator(seed: 1))
        for (a, b) in zip(viaCollate, fast) { #expect(a[0].equal(b[0]) && a[1].equal(b[1])) }
    }

    @Test func collatesTuplesIntLabelsAndCustomFunctions() {
        struct Pairs: Dataset {
            var count: Int { 5 }
            subscript(index: Int) -> (Tensor, Int) { (Tensor.full([2], Double(index)), index % 2) }
        }
        let loader = DataLoader(Pairs(), batchSize: 2, numWorkers: 2)
        let batches = Array(loader)
        #expect(batches.count == 3 && batches[0].0.shape == [2, 2] && batches[1].1.toIntArray() == [0, 1] && batches[1].1.dtype == .int64)
        let sums = DataLoader(Pairs(), batchSize: 5) { samples in samples.map(\.1).reduce(0, +) }
        #expect(Array(sums) == [2])
    }

    @Test func resumedLoaderReshufflesIdentically() throws {
        let data = SlowDataset(count: 10, sleepMicros: 0)
        let a = DataLoader(data, batchSize: 4, shuffle: true, generator: Generator(seed: 3))
        _ = collect(a)
        let saved = a.stateDict()
        #expect(saved.int("epoch") == 1 && saved.keys == ["epoch", "generator.seed", "generator.counter"])
        let next = collect(a, passes: 2)
        let b = DataLoader(data, batchSize: 4, shuffle: true, numWorkers: 2, generator: Generator(seed: 99))
        try b.loadStateDict(saved)
        #expect(b.epoch == 1)
        #expect(collect(b, passes: 2) == next)
        var extra = saved
        extra.set("other", 1)
        #expect(throws: StateDictError.self) { try b.loadStateDict(extra) }
        try b.loadStateDict(extra, strict: false)
        var missing = saved
        missing["epoch"] = nil
        #expect(throws: StateDictError.self) { try b.loadStateDict(missing, strict: false) }
    }

    @Test func fashionMNISTLoaderBatchesAndShufflesReproducibly() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultRoot + "/t10k-labels-idx1-ubyte.gz") else { return }
        let test = try FashionMNIST(train: false)
        let a = DataLoader(test, batchSize: 128, shuffle: true, generator: Generator(seed: 5))
        let b = DataLoader(test, batchSize: 128, shuffle: true, numWorkers: 2, generator: Generator(seed: 5))
        #expect(a.count == 79)
        var ia = a.makeIterator(), ib = b.makeIterator()
        guard let (xa, ya) = ia.next(), let (xb, yb) = ib.next() else { Issue.record("empty loader"); return }
        #expect(xa.shape == [128, 1, 28, 28] && xa.equal(xb) && ya.equal(yb))
    }
}
