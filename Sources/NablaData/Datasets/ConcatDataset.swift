/// Several datasets with the same sample type, one after the other (`torch.utils.data.ConcatDataset`).
///
/// ```swift
/// let all = ConcatDataset([trainA, trainB])   // all.count == trainA.count + trainB.count
/// ```
public struct ConcatDataset<Sample>: Dataset {
    /// The datasets, in order.
    public let datasets: [any Dataset<Sample>]
    /// Running totals: `cumulativeSizes[k]` is the number of samples in datasets `0...k`.
    public let cumulativeSizes: [Int]

    /// Concatenates `datasets` (at least one).
    public init(_ datasets: [any Dataset<Sample>]) {
        check(!datasets.isEmpty, "ConcatDataset: datasets should not be an empty list")
        self.datasets = datasets
        var total = 0
        cumulativeSizes = datasets.map { total += $0.count; return total }
    }

    /// Total number of samples.
    public var count: Int { cumulativeSizes.last ?? 0 }

    /// The dataset holding global sample `index` and the index inside it.
    func locate(_ index: Int) -> (Int, Int) {
        check(index >= 0 && index < count, "ConcatDataset: index \(index) is out of range for \(count) samples")
        var lo = 0, hi = cumulativeSizes.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulativeSizes[mid] > index { hi = mid } else { lo = mid + 1 }
        }
        return (lo, index - (lo == 0 ? 0 : cumulativeSizes[lo - 1]))
    }

    /// Sample `index` counted across all datasets.
    public subscript(index: Int) -> Sample {
        let (d, i) = locate(index)
        return datasets[d][i]
    }

    /// Sample `index` counted across all datasets, with `generator` for its random transforms.
    public func sample(_ index: Int, generator: Generator) -> Sample {
        let (d, i) = locate(index)
        return datasets[d].sample(i, generator: generator)
    }
}
