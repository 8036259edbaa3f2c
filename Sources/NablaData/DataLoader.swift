/// Iterates over a dataset in (optionally shuffled) batches, as `torch.utils.data.DataLoader`.
///
/// ```swift
/// let train = try FashionMNIST(train: true)
/// let loader = DataLoader(train, batchSize: 128, shuffle: true, numWorkers: 2, generator: Generator(seed: 0))
/// for (x, y) in loader { ... }
/// ```
/// Each pass (`makeIterator()`) starts a new epoch: it draws a new permutation from `generator` when
/// shuffling, and gives every sample its own generator derived from (the generator's seed, the epoch,
/// the sample index) for random transforms. With `numWorkers > 0`, background threads load up to
/// `numWorkers * prefetchFactor` batches ahead; the batches are exactly those of `numWorkers: 0`, in the
/// same order. Breaking out of the loop stops and joins the workers. Datasets that are `BatchDataset`s
/// and use the default collate are read a whole batch at a time.
///
/// The loader is `Stateful`: `stateDict()` holds the epoch counter and the generator's state, so a
/// resumed run reshuffles exactly as the original would have.
public final class DataLoader<D: Dataset, Batch>: Sequence, Stateful {
    /// The dataset.
    public let dataset: D
    /// Samples per batch.
    public let batchSize: Int
    /// Whether to reshuffle at every pass.
    public let shuffle: Bool
    /// Whether to drop the last incomplete batch.
    public let dropLast: Bool
    /// Number of background threads that load batches (0: load on the iterating thread).
    public let numWorkers: Int
    /// Batches loaded ahead per worker.
    public let prefetchFactor: Int
    /// The generator that shuffles and seeds the per-sample generators (default: the global one).
    public let generator: Generator
    /// Turns a list of samples into a batch (`collate_fn`).
    public let collate: ([D.Sample]) -> Batch
    /// Whole-batch reader used instead of per-sample reads and `collate` (BatchDataset fast path).
    var fastBatch: ((Tensor) -> Batch?)?
    /// Number of passes started so far; the next pass uses this epoch number.
    public private(set) var epoch: Int = 0

    /// Creates a loader that turns lists of samples into batches with `collate`.
    ///
    /// - Parameters:
    ///   - dataset: Any `Dataset`; with `numWorkers > 0` its subscript is called from several threads.
    ///   - batchSize: Samples per batch.
    ///   - shuffle: Reshuffle at every pass with `generator`.
    ///   - dropLast: Drop the last batch when it is smaller than `batchSize`.
    ///   - numWorkers: Background loading threads (0 loads on the calling thread).
    ///   - prefetchFactor: Batches each worker loads ahead.
    ///   - generator: Shuffling and per-sample seeds (default: `Generator.default`).
    ///   - collate: Combines the samples of a batch (`collate_fn`).
    public init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
                prefetchFactor: Int = 2, generator: Generator? = nil, collate: @escaping ([D.Sample]) -> Batch) {
        check(batchSize >= 1, "DataLoader: batchSize must be positive, got \(batchSize)")
        check(numWorkers >= 0, "DataLoader: numWorkers must be non-negative, got \(numWorkers)")
        check(prefetchFactor >= 1, "DataLoader: prefetchFactor must be positive, got \(prefetchFactor)")
        self.dataset = dataset; self.batchSize = batchSize; self.shuffle = shuffle; self.dropLast = dropLast
        self.numWorkers = numWorkers; self.prefetchFactor = prefetchFactor
        self.generator = generator ?? .default
        self.collate = collate
    }

    /// Number of batches per pass.
    public var count: Int { dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize }

    /// The number of batches, for `Array(loader)` and friends.
    public var underestimatedCount: Int { count }

    /// Starts a pass over the data (a new epoch).
    public func makeIterator() -> Iterator {
        let n = dataset.count
        let order = shuffle ? Tensor.randperm(n, generator: generator).toIntArray() : Array(0..<n)
        let plan = BatchPlan(dataset: dataset, collate: collate, fastBatch: fastBatch, order: order, batchSize: batchSize,
                             batches: count, seed: generator.initialSeed, epoch: epoch)
        epoch += 1
        return Iterator(plan: plan, prefetcher: numWorkers > 0 && plan.batches > 0
                        ? Prefetcher(plan: plan, workers: numWorkers, prefetchFactor: prefetchFactor) : nil)
    }

    /// Yields the batches of one pass in order; dropping it (e.g. `break`) stops its worker threads.
    public struct Iterator: IteratorProtocol {
        let plan: BatchPlan<D, Batch>
        let prefetcher: Prefetcher<D, Batch>?
        var position = 0
        /// The next batch, or nil at the end of the pass.
        public mutating func next() -> Batch? {
            guard position < plan.batches else { return nil }
            defer { position += 1 }
            if let p = prefetcher { return p.take(position) }
            return plan.batch(position)
        }
    }

    /// The epoch counter and the shuffling generator's state: `epoch`, and the generator's `stateDict()` under
    /// `generator.` (`generator.seed` with `generator.counter` on Philox, or `generator.mt19937` on MT19937).
    public func stateDict() -> StateDict {
        var s = StateDict()
        s.set("epoch", epoch)
        let g = generator.stateDict()
        for key in g.keys { s["generator." + key] = g[key] }
        return s
    }

    /// Restores the epoch counter and the generator's state saved by `stateDict()`.
    public func loadStateDict(_ state: StateDict, strict: Bool) throws {
        let unexpected = state.keys.filter { $0 != "epoch" && !$0.hasPrefix("generator.") }
        if state["epoch"] == nil || (strict && !unexpected.isEmpty) {
            throw StateDictError("DataLoader.loadStateDict: missing keys \(state["epoch"] == nil ? ["epoch"] : []), unexpected keys \(strict ? unexpected : [])")
        }
        let epochValue = try state.scalarInt("epoch", owner: "DataLoader.loadStateDict")
        guard let e = epochValue, e >= 0 else {
            throw StateDictError("DataLoader.loadStateDict: 'epoch' must be a non-negative integer, got \(epochValue.map(String.init) ?? "nothing")")
        }
        var g = StateDict()
        for key in state.keys where key.hasPrefix("generator.") { g[String(key.dropFirst("generator.".count))] = state[key] }
        do {
            try generator.loadStateDict(g, strict: true)
        } catch let error as StateDictError {
            throw StateDictError("DataLoader.loadStateDict: \(error.message)")
        }
        epoch = e
    }
}

/// The whole-batch reader of `dataset` when it is a `BatchDataset` whose batches have type `Batch`.
func batchFastPath<D: Dataset, Batch>(_ dataset: D, _: Batch.Type) -> ((Tensor) -> Batch?)? {
    guard let b = dataset as? any BatchDataset else { return nil }
    return { indices in b.batch(indices) as? Batch }
}

extension DataLoader where D.Sample == Tensor, Batch == Tensor {
    /// Creates a loader whose batches stack the tensor samples (`default_collate`).
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
                            prefetchFactor: Int = 2, generator: Generator? = nil) {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers,
                  prefetchFactor: prefetchFactor, generator: generator, collate: { defaultCollate($0) })
        fastBatch = batchFastPath(dataset, Batch.self)
    }
}

extension DataLoader where D.Sample == (Tensor, Tensor), Batch == (Tensor, Tensor) {
    /// Creates a loader whose batches stack inputs and targets (`default_collate`).
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
                            prefetchFactor: Int = 2, generator: Generator? = nil) {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers,
                  prefetchFactor: prefetchFactor, generator: generator, collate: { defaultCollate($0) })
        fastBatch = batchFastPath(dataset, Batch.self)
    }
}

extension DataLoader where D.Sample == (Tensor, Int), Batch == (Tensor, Tensor) {
    /// Creates a loader whose batches stack inputs and turn integer labels into an int64 tensor (`default_collate`).
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
                            prefetchFactor: Int = 2, generator: Generator? = nil) {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers,
                  prefetchFactor: prefetchFactor, generator: generator, collate: { defaultCollate($0) })
    }
}

extension DataLoader where D.Sample == [Tensor], Batch == [Tensor] {
    /// Creates a loader whose batches stack each position of the samples (`default_collate` on lists).
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
                            prefetchFactor: Int = 2, generator: Generator? = nil) {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers,
                  prefetchFactor: prefetchFactor, generator: generator, collate: { defaultCollate($0) })
        fastBatch = batchFastPath(dataset, Batch.self)
    }
}
