/// Stacks samples into a batch along a new first dimension (`torch.utils.data.default_collate`).
public func defaultCollate(_ samples: [Tensor]) -> Tensor {
    check(!samples.isEmpty, "defaultCollate: no samples to collate")
    return stack(samples, dim: 0)
}

/// Stacks `(input, target)` samples into `(inputs, targets)` (`default_collate` on tuples).
public func defaultCollate(_ samples: [(Tensor, Tensor)]) -> (Tensor, Tensor) {
    check(!samples.isEmpty, "defaultCollate: no samples to collate")
    return (stack(samples.map(\.0), dim: 0), stack(samples.map(\.1), dim: 0))
}

/// Stacks `(input, label)` samples into inputs and an int64 label tensor `[B]` (`default_collate` on `(tensor, int)`).
public func defaultCollate(_ samples: [(Tensor, Int)]) -> (Tensor, Tensor) {
    check(!samples.isEmpty, "defaultCollate: no samples to collate")
    return (stack(samples.map(\.0), dim: 0), Tensor(shape: [samples.count], data: samples.map { Int64($0.1) }))
}

/// Stacks samples that are arrays of tensors, position by position (`default_collate` on lists).
public func defaultCollate(_ samples: [[Tensor]]) -> [Tensor] {
    check(!samples.isEmpty, "defaultCollate: no samples to collate")
    let n = samples[0].count
    for (i, s) in samples.enumerated() {
        check(s.count == n, "defaultCollate: each sample should have the same number of tensors, got \(n) in sample 0 and \(s.count) in sample \(i)")
    }
    return (0..<n).map { k in stack(samples.map { $0[k] }, dim: 0) }
}

/// The generator for sample `index` in pass `epoch` of a loader seeded with `seed`: a pure function of
/// the three numbers, so random transforms give the same result whichever thread reads the sample.
public func sampleGenerator(seed: UInt64, epoch: Int, index: Int) -> Generator {
    func mix(_ x: UInt64) -> UInt64 {                       // splitmix64 finaliser
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    let s = mix(mix(mix(seed) ^ UInt64(truncatingIfNeeded: epoch)) ^ UInt64(truncatingIfNeeded: index))
    return Generator(seed: s)
}
