/// A dataset that can produce a whole batch from a list of indices at once (fast path for `DataLoader`).
public protocol BatchDataset: Dataset {
    /// The samples at `indices` (int64, 1-D) stacked into a batch.
    func batch(_ indices: Tensor) -> (Tensor, Tensor)
}

extension FashionMNIST: BatchDataset {
    /// Images `[B, 1, 28, 28]` and labels `[B]` at `indices`.
    public func batch(_ indices: Tensor) -> (Tensor, Tensor) {
        (images.indexSelect(dim: 0, index: indices), labels.indexSelect(dim: 0, index: indices))
    }
}

/// Iterates over a dataset in (optionally shuffled) batches, as `torch.utils.data.DataLoader`.
///
/// ```swift
/// let train = try FashionMNIST(train: true)
/// let loader = DataLoader(train, batchSize: 128, shuffle: true, generator: Generator(seed: 0))
/// for (x, y) in loader { ... }
/// ```
/// Each pass (`makeIterator()`) draws a new permutation from `generator` when shuffling.
public struct DataLoader<D: BatchDataset>: Sequence {
    /// The dataset.
    public let dataset: D
    /// Samples per batch.
    public let batchSize: Int
    /// Whether to reshuffle at every pass.
    public let shuffle: Bool
    /// Whether to drop the last incomplete batch.
    public let dropLast: Bool
    /// The generator that shuffles (default: the global one).
    public let generator: Generator

    /// Creates a loader.
    public init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, generator: Generator? = nil) {
        check(batchSize >= 1, "DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset; self.batchSize = batchSize; self.shuffle = shuffle; self.dropLast = dropLast
        self.generator = generator ?? .default
    }

    /// Number of batches per pass.
    public var count: Int { dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize }

    /// A pass over the data.
    public func makeIterator() -> Iterator {
        let order = shuffle ? Tensor.randperm(dataset.count, generator: generator) : Tensor.arange(dataset.count)
        return Iterator(loader: self, order: order, position: 0)
    }

    /// Yields batches in order.
    public struct Iterator: IteratorProtocol {
        let loader: DataLoader
        let order: Tensor
        var position: Int
        /// The next batch, or nil at the end of the pass.
        public mutating func next() -> (Tensor, Tensor)? {
            let n = order.shape[0]
            guard position < n else { return nil }
            let len = Swift.min(loader.batchSize, n - position)
            if loader.dropLast && len < loader.batchSize { return nil }
            let idx = order.narrow(0, start: position, length: len)
            position += len
            return loader.dataset.batch(idx)
        }
    }
}
