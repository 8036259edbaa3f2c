import Foundation
import Synchronization

/// Everything needed to build batch `i` of one pass; a pure function of `i`, so any thread may run it.
///
/// `@unchecked Sendable`: the dataset and collate function are only read, as documented on `Dataset`.
final class BatchPlan<D: Dataset, Batch>: @unchecked Sendable {
    let dataset: D
    let collate: ([D.Sample]) -> Batch
    let fastBatch: ((Tensor) -> Batch?)?
    let order: [Int]
    let batchSize: Int
    let batches: Int
    let seed: UInt64
    let epoch: Int

    init(dataset: D, collate: @escaping ([D.Sample]) -> Batch, fastBatch: ((Tensor) -> Batch?)?, order: [Int],
         batchSize: Int, batches: Int, seed: UInt64, epoch: Int) {
        self.dataset = dataset; self.collate = collate; self.fastBatch = fastBatch; self.order = order
        self.batchSize = batchSize; self.batches = batches; self.seed = seed; self.epoch = epoch
    }

    /// Batch `i`: its samples, each read with its own generator, collated (or read at once on the fast path).
    func batch(_ i: Int) -> Batch {
        let start = i * batchSize
        let indices = order[start..<Swift.min(start + batchSize, order.count)]
        if let fast = fastBatch, let b = fast(Tensor(shape: [indices.count], data: indices.map { Int64($0) })) { return b }
        return collate(indices.map { dataset.sample($0, generator: sampleGenerator(seed: seed, epoch: epoch, index: $0)) })
    }
}

/// Counts the DataLoader worker threads alive in the process (diagnostics and tests).
public enum DataLoaderWorkers {
    static let counter = Atomic<Int>(0)
    /// Worker threads currently running, over all loaders.
    public static var running: Int { counter.load(ordering: .acquiring) }
}

/// Shared between the consumer and the workers of one pass; every field is guarded by `condition`.
final class PrefetchState<Batch>: @unchecked Sendable {
    let condition = NSCondition()
    var ready: [Int: Batch] = [:]
    var consumed = 0
    var cancelled = false
    var running = 0
}

/// Background threads loading the batches of one pass ahead of the consumer; worker `w` builds batches
/// `w, w + numWorkers, ...`, at most `numWorkers * prefetchFactor` past the last batch taken.
/// Deinit (the iterator dropped, e.g. on `break`) cancels the workers and waits for them to exit.
final class Prefetcher<D: Dataset, Batch> {
    let state = PrefetchState<Batch>()
    let plan: BatchPlan<D, Batch>

    init(plan: BatchPlan<D, Batch>, workers: Int, prefetchFactor: Int) {
        self.plan = plan
        let window = workers * prefetchFactor
        let state = self.state
        let n = Swift.min(workers, plan.batches)
        state.running = n
        for w in 0..<n {
            DataLoaderWorkers.counter.add(1, ordering: .acquiringAndReleasing)
            let thread = Thread {
                var i = w
                while i < plan.batches {
                    state.condition.lock()
                    while !state.cancelled && i >= state.consumed + window { state.condition.wait() }
                    let stop = state.cancelled
                    state.condition.unlock()
                    if stop { break }
                    let b = plan.batch(i)
                    state.condition.lock()
                    state.ready[i] = b
                    state.condition.broadcast()
                    state.condition.unlock()
                    i += workers
                }
                DataLoaderWorkers.counter.subtract(1, ordering: .acquiringAndReleasing)
                state.condition.lock()
                state.running -= 1
                state.condition.broadcast()
                state.condition.unlock()
            }
            thread.name = "nabla-dataloader-\(w)"
            thread.start()
        }
    }

    /// Waits for batch `i` and takes it.
    func take(_ i: Int) -> Batch {
        state.condition.lock()
        defer { state.condition.unlock() }
        while true {
            if let b = state.ready.removeValue(forKey: i) {
                state.consumed = i + 1
                state.condition.broadcast()
                return b
            }
            state.condition.wait()
        }
    }

    deinit {
        state.condition.lock()
        state.cancelled = true
        state.condition.broadcast()
        while state.running > 0 { state.condition.wait() }
        state.ready.removeAll()
        state.condition.unlock()
    }
}
