import Foundation
import Nabla
import NablaData

/// Splits a dataset's indices between the ranks of a data-parallel job (`torch.utils.data.DistributedSampler`).
///
/// ```swift
/// let sampler = DistributedSampler(count: train.count, group: group, shuffle: true, seed: 0)
/// let loader = DataLoader(sampler.subset(of: train), batchSize: 16)
/// for epoch in 0..<epochs {
///     sampler.setEpoch(epoch)            // a new shuffle, the same on every rank
///     for (x, y) in loader { ... }
/// }
/// ```
/// The semantics are PyTorch's: with `shuffle`, the order is a permutation drawn from `seed + epoch` (the same on
/// every rank); without `dropLast` the order is padded with its own first indices up to a multiple of the number of
/// replicas, with `dropLast` its tail is cut to one; rank `r` takes positions `r, r + n, r + 2n, ...` (interleaved).
/// Every rank gets `count` indices, so every rank runs the same number of steps.
///
/// The permutation comes from Nabla's `Generator` (Philox), so the indices differ from PyTorch's for the same seed
/// while following the same rules.
public final class DistributedSampler: Sequence, @unchecked Sendable {
    /// Number of samples in the dataset.
    public let datasetCount: Int
    /// Number of replicas (ranks) the data is split between.
    public let numReplicas: Int
    /// This replica's rank.
    public let rank: Int
    /// Whether each epoch draws a new permutation.
    public let shuffle: Bool
    /// The seed of the permutation (the same on every rank).
    public let seed: UInt64
    /// Whether the tail is dropped (rather than padded) to divide evenly.
    public let dropLast: Bool
    /// The epoch whose order `indices` holds.
    public private(set) var epoch: Int = 0
    /// This rank's indices for the current epoch.
    public private(set) var indices: [Int] = []

    /// Number of indices each rank gets (`num_samples`).
    public var count: Int {
        if dropLast && datasetCount % numReplicas != 0 {
            return Int((Double(datasetCount - numReplicas) / Double(numReplicas)).rounded(.up))
        }
        return (datasetCount + numReplicas - 1) / numReplicas
    }

    /// `count * numReplicas` (`total_size`).
    public var totalSize: Int { count * numReplicas }

    /// A sampler over `count` samples for `rank` of `numReplicas`.
    ///
    /// - Precondition: `0 <= rank < numReplicas`.
    public init(count: Int, numReplicas: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        check(numReplicas >= 1, "DistributedSampler: numReplicas must be positive, got \(numReplicas)")
        check(rank >= 0 && rank < numReplicas, "DistributedSampler: invalid rank \(rank), rank should be in the interval [0, \(numReplicas - 1)]")
        check(count >= 0, "DistributedSampler: count must be non-negative, got \(count)")
        self.datasetCount = count; self.numReplicas = numReplicas; self.rank = rank
        self.shuffle = shuffle; self.seed = seed; self.dropLast = dropLast
        indices = makeIndices()
    }

    /// A sampler for this process's rank in `group` (default: the initialised group, else a group of one).
    public convenience init(count: Int, group: ProcessGroup? = nil, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        let g = group ?? ProcessGroup.default
        self.init(count: count, numReplicas: g?.worldSize ?? 1, rank: g?.rank ?? 0, shuffle: shuffle, seed: seed, dropLast: dropLast)
    }

    /// Sets the epoch, which reseeds the shuffle (`set_epoch`): call it before each epoch's pass.
    public func setEpoch(_ epoch: Int) {
        self.epoch = epoch
        indices = makeIndices()
    }

    /// This rank's indices for the current epoch.
    public func makeIterator() -> IndexingIterator<[Int]> { indices.makeIterator() }

    /// A dataset that reads `dataset` through this sampler's current indices, for a `DataLoader`
    /// (`DataLoader(sampler: ...)` in PyTorch). Keep the loader's `shuffle` off: the sampler shuffles.
    public func subset<D: Dataset>(of dataset: D) -> DistributedSubset<D> {
        check(dataset.count == datasetCount, "DistributedSampler.subset: the sampler covers \(datasetCount) samples, the dataset has \(dataset.count)")
        return DistributedSubset(dataset: dataset, sampler: self)
    }

    private func makeIndices() -> [Int] {
        let n = datasetCount
        guard n > 0 else { return [] }
        var order = shuffle
            ? Tensor.randperm(n, generator: Nabla.Generator(seed: seed &+ UInt64(truncatingIfNeeded: epoch))).toIntArray()
            : Array(0..<n)
        let total = totalSize
        if !dropLast {
            let padding = total - order.count
            if padding > 0 {
                if padding <= order.count { order += order.prefix(padding) } else {
                    let copies = (padding + order.count - 1) / order.count
                    order += Array(Array(repeating: order, count: copies).joined().prefix(padding))
                }
            }
        } else {
            order = Array(order.prefix(total))
        }
        return stride(from: rank, to: total, by: numReplicas).map { order[$0] }
    }
}

/// A dataset's samples in the order of a `DistributedSampler`'s current indices (this rank's share).
public struct DistributedSubset<D: Dataset>: Dataset, @unchecked Sendable {
    /// The whole dataset.
    public let dataset: D
    /// The sampler that picks this rank's indices.
    public let sampler: DistributedSampler

    /// The number of samples this rank sees.
    public var count: Int { sampler.count }
    /// This rank's `index`-th sample.
    public subscript(index: Int) -> D.Sample { dataset[sampler.indices[index]] }
    /// This rank's `index`-th sample, drawing any randomness from `generator`.
    public func sample(_ index: Int, generator: Nabla.Generator) -> D.Sample {
        dataset.sample(sampler.indices[index], generator: generator)
    }
}

extension DistributedSubset: BatchDataset where D: BatchDataset {
    /// The samples at `indices` (positions in this rank's share), read as one batch from the dataset.
    public func batch(_ indices: Tensor) -> D.Sample {
        let map = sampler.indices
        return dataset.batch(Tensor(shape: [indices.count], data: indices.toIntArray().map { Int64(map[$0]) }))
    }
}
