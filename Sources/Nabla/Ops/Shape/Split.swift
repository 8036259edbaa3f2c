// Splitting a tensor into views: split, chunk, unbind. Each piece is a `narrow`/`select` view, so
// gradients flow through the view ops.

/// Splits `input` into pieces of `splitSize` along `dim` (the last may be smaller), as views (`torch.split`).
///
/// ```swift
/// let parts = split(Tensor.arange(5), splitSize: 2)   // sizes 2, 2, 1
/// ```
public func split(_ input: Tensor, splitSize: Int, dim: Int = 0) -> [Tensor] {
    let d = Shape.normalize(dim, input.rank, op: "split")
    check(input.rank >= 1, "split: expects a tensor with at least 1 dimension, got shape \(input.shape)")
    let n = input.shape[d]
    check(splitSize > 0 || (splitSize == 0 && n == 0), "split: splitSize must be positive, got \(splitSize) for dimension \(d) of size \(n)")
    if n == 0 { return [input] }
    return stride(from: 0, to: n, by: splitSize).map { input.narrow(d, start: $0, length: Swift.min(splitSize, n - $0)) }
}

/// Splits `input` into pieces of the given `sizes` along `dim` (sum must equal the dim's size), as views (`torch.split`).
public func split(_ input: Tensor, sizes: [Int], dim: Int = 0) -> [Tensor] {
    check(input.rank >= 1, "split: expects a tensor with at least 1 dimension, got shape \(input.shape)")
    let d = Shape.normalize(dim, input.rank, op: "split")
    let n = input.shape[d]
    check(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == n,
          "split: sizes \(sizes) must be non-negative and sum exactly to the size \(n) of dimension \(d) (shape \(input.shape))")
    var start = 0
    return sizes.map { len in defer { start += len }; return input.narrow(d, start: start, length: len) }
}

/// Splits `input` into `chunks` nearly equal views along `dim` (`torch.chunk`); fewer when the dim is small.
public func chunk(_ input: Tensor, _ chunks: Int, dim: Int = 0) -> [Tensor] {
    check(chunks > 0, "chunk: number of chunks must be positive, got \(chunks)")
    check(input.rank >= 1, "chunk: expects a tensor with at least 1 dimension, got shape \(input.shape)")
    let d = Shape.normalize(dim, input.rank, op: "chunk")
    let n = input.shape[d]
    let size = (n + chunks - 1) / chunks
    if size == 0 { return Array(repeating: input, count: Swift.min(chunks, 1)) }
    return split(input, splitSize: size, dim: d)
}

/// All slices along `dim`, each with the dim removed, as views (`torch.unbind`).
public func unbind(_ input: Tensor, dim: Int = 0) -> [Tensor] {
    check(input.rank >= 1, "unbind: expects a tensor with at least 1 dimension, got shape \(input.shape)")
    let d = Shape.normalize(dim, input.rank, op: "unbind")
    return (0..<input.shape[d]).map { input.select(d, $0) }
}

/// All slices along `dim` as views: the inverse of `stack` (`torch.unbind`, `tf.unstack`).
public func unstack(_ input: Tensor, dim: Int = 0) -> [Tensor] { unbind(input, dim: dim) }

extension Tensor {
    /// Pieces of `splitSize` along `dim` (`Tensor.split`).
    public func split(splitSize: Int, dim: Int = 0) -> [Tensor] { Nabla.split(self, splitSize: splitSize, dim: dim) }
    /// Pieces of the given `sizes` along `dim` (`Tensor.split` with a list).
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] { Nabla.split(self, sizes: sizes, dim: dim) }
    /// `chunks` nearly equal pieces along `dim` (`Tensor.chunk`).
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] { Nabla.chunk(self, chunks, dim: dim) }
    /// All slices along `dim`, the dim removed (`Tensor.unbind`).
    public func unbind(dim: Int = 0) -> [Tensor] { Nabla.unbind(self, dim: dim) }
    /// All slices along `dim`, the inverse of `stack` (alias of `unbind`).
    public func unstack(dim: Int = 0) -> [Tensor] { Nabla.unbind(self, dim: dim) }
}
