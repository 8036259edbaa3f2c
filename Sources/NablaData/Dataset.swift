@_exported import Nabla

/// A map-style dataset (`torch.utils.data.Dataset`): a count and samples by index.
public protocol Dataset<Sample> {
    /// The type of one sample (e.g. `(Tensor, Tensor)`).
    associatedtype Sample
    /// Number of samples.
    var count: Int { get }
    /// Sample `index` (0-based).
    subscript(index: Int) -> Sample { get }
}

/// Samples from tensors that share their first dimension (`TensorDataset`).
public struct TensorDataset: Dataset {
    /// The tensors; sample `i` is `tensors.map { $0[i] }`.
    public let tensors: [Tensor]
    /// Creates the dataset; all tensors must have the same first dimension.
    public init(_ tensors: Tensor...) {
        check(!tensors.isEmpty, "TensorDataset: needs at least one tensor")
        let n = tensors[0].shape.first ?? 0
        for t in tensors { check(t.shape.first == n, "TensorDataset: size mismatch between tensors: \(tensors.map(\.shape))") }
        self.tensors = tensors
    }
    /// Number of samples.
    public var count: Int { tensors[0].shape[0] }
    /// The `index`-th slice of every tensor.
    public subscript(index: Int) -> [Tensor] { tensors.map { $0.select(0, index) } }
}
