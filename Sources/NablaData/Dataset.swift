@_exported import Nabla

/// A map-style dataset (`torch.utils.data.Dataset`): a count and samples by index.
///
/// ```swift
/// struct Squares: Dataset {
///     var count: Int { 10 }
///     subscript(index: Int) -> Tensor { Tensor(Double(index * index)) }
/// }
/// ```
/// When a `DataLoader` runs with `numWorkers > 0`, samples are read from several threads at once:
/// the subscript must be safe to call concurrently (reading tensors is), and the type is used from those threads
/// (hence `SendableMetatype`, which every non-isolated type satisfies).
public protocol Dataset<Sample>: SendableMetatype {
    /// The type of one sample (e.g. `(Tensor, Tensor)`).
    associatedtype Sample
    /// Number of samples.
    var count: Int { get }
    /// Sample `index` (0-based).
    subscript(index: Int) -> Sample { get }
    /// Sample `index`, with `generator` driving any random transform (each sample gets its own
    /// generator from the `DataLoader`, so results never depend on which worker read it).
    /// The default ignores the generator and returns `self[index]`.
    func sample(_ index: Int, generator: Generator) -> Sample
}

extension Dataset {
    /// Returns `self[index]`: a dataset without random transforms ignores the generator.
    public func sample(_ index: Int, generator: Generator) -> Sample { self[index] }
}

/// A dataset that can produce a whole batch from a list of indices at once (fast path for `DataLoader`).
public protocol BatchDataset: Dataset {
    /// The samples at `indices` (int64, 1-D) stacked into a batch that has the structure of one sample.
    func batch(_ indices: Tensor) -> Sample
}

/// Samples from tensors that share their first dimension (`torch.utils.data.TensorDataset`).
///
/// Two tensors give `(input, target)` tuple samples, so PyTorch's loop ports as it is written; one tensor, three or
/// more, or an array of tensors give `[Tensor]` samples:
/// ```swift
/// let ds = TensorDataset(x, y)                 // ds[i] == (x[i], y[i])
/// for (xb, yb) in DataLoader(ds, batchSize: 32, shuffle: true) { ... }
/// let triples = TensorDataset(a, b, c)         // triples[i] == [a[i], b[i], c[i]]
/// let pairsAsArrays = TensorDataset([x, y])    // [x[i], y[i]]: the array form for two tensors
/// ```
/// The sample type is the generic parameter: `TensorDataset<(Tensor, Tensor)>` or `TensorDataset<[Tensor]>`.
public struct TensorDataset<Sample>: BatchDataset, Sendable {
    /// The tensors; sample `i` holds `tensors.map { $0[i] }`.
    public let tensors: [Tensor]
    /// Packs one row of every tensor into a sample.
    let pack: @Sendable ([Tensor]) -> Sample

    init(checking tensors: [Tensor], pack: @escaping @Sendable ([Tensor]) -> Sample) {
        check(!tensors.isEmpty, "TensorDataset: needs at least one tensor")
        let n = tensors[0].shape.first ?? 0
        for t in tensors { check(!t.shape.isEmpty && t.shape[0] == n, "TensorDataset: size mismatch between tensors: \(tensors.map(\.shape))") }
        self.tensors = tensors
        self.pack = pack
    }
    /// Number of samples.
    public var count: Int { tensors[0].shape[0] }
    /// The `index`-th slice of every tensor.
    public subscript(index: Int) -> Sample {
        check(index >= 0 && index < count, "TensorDataset: index \(index) is out of range for \(count) samples")
        return pack(tensors.map { $0.select(0, index) })
    }
    /// The rows at `indices` of every tensor.
    public func batch(_ indices: Tensor) -> Sample { pack(tensors.map { $0.indexSelect(dim: 0, index: indices) }) }
}

extension TensorDataset where Sample == (Tensor, Tensor) {
    /// A dataset of `(input, target)` pairs, `(x[i], y[i])` (PyTorch's `TensorDataset(x, y)`).
    public init(_ x: Tensor, _ y: Tensor) { self.init(checking: [x, y], pack: { ($0[0], $0[1]) }) }
}

extension TensorDataset where Sample == [Tensor] {
    /// A dataset whose sample `i` is `[t[i] for t in tensors]` (PyTorch's `TensorDataset(*tensors)`); two tensors
    /// given this way make `(input, target)` pairs instead (`init(_:_:)`).
    @_disfavoredOverload
    public init(_ tensors: Tensor...) { self.init(tensors) }
    /// A dataset whose sample `i` is `[t[i] for t in tensors]`, for any number of tensors.
    public init(_ tensors: [Tensor]) { self.init(checking: tensors, pack: { $0 }) }
}
