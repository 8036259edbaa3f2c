import NablaNN

/// A symbolic input of a functional model (`keras.Input`): a graph placeholder whose batch
/// dimension is free.
///
/// `shape` excludes the batch dimension; `-1` marks other free dimensions (variable lengths).
/// ```swift
/// let x = Input(shape: [784])          // (None, 784)
/// let ids = Input(shape: [-1], dtype: .int64)   // (None, None) token ids
/// ```
public func Input(shape: [Int], dtype: DType = .float32, name: String? = nil) -> SymbolicTensor {
    for s in shape { check(s > 0 || s == -1, "Input: sizes must be positive or -1 (free), got shape \(shape)") }
    return Graph.placeholder(shape: [-1] + shape, dtype: dtype, name: name ?? LayerNames.next("input"))
}
