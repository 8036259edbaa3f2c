/// The samples of `dataset` at `indices`, in that order (`torch.utils.data.Subset`).
///
/// ```swift
/// let firstHundred = Subset(train, indices: Array(0..<100))
/// ```
public struct Subset<Base: Dataset>: Dataset {
    /// The underlying dataset.
    public let dataset: Base
    /// The indices into `dataset`.
    public let indices: [Int]

    /// Creates the subset; every index must be valid for `dataset`.
    public init(_ dataset: Base, indices: [Int]) {
        let n = dataset.count
        for i in indices { check(i >= 0 && i < n, "Subset: index \(i) is out of range for a dataset of \(n) samples") }
        self.dataset = dataset; self.indices = indices
    }

    /// Number of samples.
    public var count: Int { indices.count }
    /// Sample `indices[index]` of the dataset.
    public subscript(index: Int) -> Base.Sample {
        check(index >= 0 && index < indices.count, "Subset: index \(index) is out of range for \(indices.count) samples")
        return dataset[indices[index]]
    }
    /// Sample `indices[index]` of the dataset, with `generator` for its random transforms.
    public func sample(_ index: Int, generator: Generator) -> Base.Sample {
        check(index >= 0 && index < indices.count, "Subset: index \(index) is out of range for \(indices.count) samples")
        return dataset.sample(indices[index], generator: generator)
    }
}

extension Subset: BatchDataset where Base: BatchDataset {
    /// The batch at `indices` (int64, 1-D), mapped through the subset's indices.
    public func batch(_ indices: Tensor) -> Base.Sample {
        let mapped = indices.toIntArray().map { i -> Int64 in
            check(i >= 0 && i < self.indices.count, "Subset: index \(i) is out of range for \(self.indices.count) samples")
            return Int64(self.indices[i])
        }
        return dataset.batch(Tensor(shape: [mapped.count], data: mapped))
    }
}

/// Splits `dataset` into non-overlapping random subsets of the given `lengths`
/// (`torch.utils.data.random_split`); the lengths must add up to `dataset.count`.
///
/// ```swift
/// let parts = randomSplit(train, lengths: [50_000, 10_000], generator: Generator(seed: 42))
/// ```
public func randomSplit<D: Dataset>(_ dataset: D, lengths: [Int], generator: Generator? = nil) -> [Subset<D>] {
    check(lengths.allSatisfy { $0 >= 0 }, "randomSplit: lengths must be non-negative, got \(lengths)")
    check(lengths.reduce(0, +) == dataset.count,
          "randomSplit: sum of input lengths \(lengths.reduce(0, +)) does not equal the length of the input dataset (\(dataset.count))")
    let perm = Tensor.randperm(dataset.count, generator: generator).toIntArray()
    var out: [Subset<D>] = []
    var start = 0
    for n in lengths {
        out.append(Subset(dataset, indices: Array(perm[start..<(start + n)])))
        start += n
    }
    return out
}

/// Splits `dataset` by `fractions` that sum to 1 (`random_split` with fractions): each part gets
/// `floor(count * fraction)` samples and the remainder goes one by one to the parts in order, as PyTorch.
public func randomSplit<D: Dataset>(_ dataset: D, fractions: [Double], generator: Generator? = nil) -> [Subset<D>] {
    check(fractions.allSatisfy { $0 >= 0 && $0 <= 1 }, "randomSplit: fractions must lie in [0, 1], got \(fractions)")
    check(Swift.abs(fractions.reduce(0, +) - 1) < 1e-6, "randomSplit: fractions must sum to 1, got \(fractions) (sum \(fractions.reduce(0, +)))")
    let n = dataset.count
    var lengths = fractions.map { Int((Double(n) * $0).rounded(.down)) }
    var rest = n - lengths.reduce(0, +)
    var i = 0
    while rest > 0 && !lengths.isEmpty { lengths[i % lengths.count] += 1; rest -= 1; i += 1 }
    return randomSplit(dataset, lengths: lengths, generator: generator)
}
