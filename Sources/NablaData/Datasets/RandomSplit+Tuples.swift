// `let (train, val) = randomSplit(ds, [80, 20])`: PyTorch's destructuring of `random_split`'s list.
// The tuple forms are disfavoured, so `let parts = randomSplit(...)` stays an array; a tuple pattern picks them.

/// Splits `dataset` into non-overlapping random subsets of the given `lengths` (PyTorch's positional
/// `random_split(ds, [800, 200])`); the array form of `randomSplit(_:lengths:generator:)`.
public func randomSplit<D: Dataset>(_ dataset: D, _ lengths: [Int], generator: Generator? = nil) -> [Subset<D>] {
    randomSplit(dataset, lengths: lengths, generator: generator)
}

/// Two random subsets of the given lengths, as a tuple for `let (train, val) = randomSplit(ds, lengths: [800, 200])`
/// (PyTorch's `train, val = random_split(ds, [800, 200])`).
/// - Precondition: `lengths` has two elements that add up to `dataset.count`.
@_disfavoredOverload
public func randomSplit<D: Dataset>(_ dataset: D, lengths: [Int], generator: Generator? = nil) -> (Subset<D>, Subset<D>) {
    check(lengths.count == 2, "randomSplit: `let (a, b) =` needs 2 lengths, got \(lengths.count) (\(lengths)); use the array result for more")
    let parts: [Subset<D>] = randomSplit(dataset, lengths: lengths, generator: generator)
    return (parts[0], parts[1])
}

/// Two random subsets, positional lengths: `let (train, val) = randomSplit(ds, [800, 200])`.
@_disfavoredOverload
public func randomSplit<D: Dataset>(_ dataset: D, _ lengths: [Int], generator: Generator? = nil) -> (Subset<D>, Subset<D>) {
    randomSplit(dataset, lengths: lengths, generator: generator)
}

/// Two random subsets by fractions: `let (train, val) = randomSplit(ds, fractions: [0.8, 0.2])`.
@_disfavoredOverload
public func randomSplit<D: Dataset>(_ dataset: D, fractions: [Double], generator: Generator? = nil) -> (Subset<D>, Subset<D>) {
    check(fractions.count == 2, "randomSplit: `let (a, b) =` needs 2 fractions, got \(fractions.count) (\(fractions)); use the array result for more")
    let parts: [Subset<D>] = randomSplit(dataset, fractions: fractions, generator: generator)
    return (parts[0], parts[1])
}

/// Three random subsets: `let (train, val, test) = randomSplit(ds, lengths: [700, 150, 150])`.
@_disfavoredOverload
public func randomSplit<D: Dataset>(_ dataset: D, lengths: [Int], generator: Generator? = nil) -> (Subset<D>, Subset<D>, Subset<D>) {
    check(lengths.count == 3, "randomSplit: `let (a, b, c) =` needs 3 lengths, got \(lengths.count) (\(lengths))")
    let parts: [Subset<D>] = randomSplit(dataset, lengths: lengths, generator: generator)
    return (parts[0], parts[1], parts[2])
}
