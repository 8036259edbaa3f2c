/// An N-dimensional array with autograd, as `torch.Tensor`.
///
/// A `Tensor` is a view: `shape`, `strides` (in elements) and `offset` over a shared `Storage`.
/// Views (`view`, `permute`, `expand`, slicing) share the storage; `contiguous()` copies only
/// when it must. Identity matters (for `.grad`, hooks and in-place ops), so it is a class.
///
/// Thread safety: reading a tensor from several threads at once is safe; one writer at a time.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4]], dtype: .float32, requiresGrad: true)
/// let y = (x * x).sum()
/// y.backward()
/// print(x.grad!)   // tensor([[2., 4.], [6., 8.]])
/// ```
public final class Tensor: @unchecked Sendable {
    /// The buffer this tensor views.
    @exclusivity(unchecked) public internal(set) var storage: Storage
    /// Size of each dimension.
    @exclusivity(unchecked) public internal(set) var shape: [Int]
    /// Step in elements between neighbours along each dimension (0 for broadcast dims).
    @exclusivity(unchecked) public internal(set) var strides: [Int]
    /// Index of the first element in `storage`.
    @exclusivity(unchecked) public internal(set) var offset: Int

    /// The autograd node that produced this tensor (nil for leaves and tensors without history).
    @exclusivity(unchecked) public internal(set) var gradFn: Node?
    /// Which output of `gradFn` this tensor is.
    @exclusivity(unchecked) var outputNr: Int = 0
    @exclusivity(unchecked) var requiresGradFlag: Bool = false
    /// Autograd state that most tensors never need (gradient, hooks, tangent), allocated on first use
    /// so that creating and freeing an ordinary tensor stays cheap (PyTorch's `AutogradMeta`).
    @exclusivity(unchecked) var meta: AutogradMeta?

    /// The metadata, created if needed.
    @inline(__always) var ensuredMeta: AutogradMeta {
        if let m = meta { return m }
        let m = AutogradMeta()
        meta = m
        return m
    }
    /// The accumulated gradient (leaves, or non-leaves after `retainGrad()`).
    public var grad: Tensor? {
        get { meta?.grad }
        set { if newValue != nil || meta != nil { ensuredMeta.grad = newValue } }
    }
    var retainsGradFlag: Bool {
        get { meta?.retainsGrad ?? false }
        set { if newValue || meta != nil { ensuredMeta.retainsGrad = newValue } }
    }
    var hooks: [(Tensor) -> Tensor?]? {
        get { meta?.hooks }
        set { if newValue != nil || meta != nil { ensuredMeta.hooks = newValue } }
    }
    var accumulatorCache: AccumulateGrad? {
        get { meta?.accumulator }
        set { if newValue != nil || meta != nil { ensuredMeta.accumulator = newValue } }
    }
    /// Forward-mode tangent, when this tensor is a dual tensor (see `jvp`).
    var tangent: Tensor? {
        get { meta?.tangent }
        set { if newValue != nil || meta != nil { ensuredMeta.tangent = newValue } }
    }
    /// Set by NablaNN for parameters (`Parameter` semantics without subclassing); not a core concept, so `package`.
    @exclusivity(unchecked) package var isParameter: Bool = false
    /// Set by NablaNN for buffers (BatchNorm running statistics); not a core concept, so `package`.
    @exclusivity(unchecked) package var isBuffer: Bool = false
    /// The tensor whose memory this view aliases (the root: never itself a view), or nil when `self` is not a
    /// view (PyTorch's `_base`). Autograd carries in-place writes through it (`Tensor+ViewHistory.swift`).
    @exclusivity(unchecked) var viewBase: Tensor?
    /// The storage version when this view's history was last taken from `viewBase`.
    @exclusivity(unchecked) var viewVersion: Int = 0

    /// Creates a view over `storage`.
    public init(storage: Storage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// Allocates an uninitialised contiguous tensor.
    public convenience init(empty shape: [Int], dtype: DType = .float32, device: Device = .current) {
        let n = Shape.count(shape, op: "empty")
        self.init(storage: Storage.allocate(count: n, dtype: dtype, backend: device.backend),
                  shape: shape, strides: Shape.contiguousStrides(shape))
    }

    /// Element type.
    public var dtype: DType { storage.dtype }
    /// Device holding the storage.
    public var device: Device { storage.backend.device }
    /// The backend running this tensor's kernels (while `compile` traces on this thread, a recorder in front of it).
    public var backend: any Backend {
        let b = storage.backend
        if let t = AutogradState.flags.pointee.tracer { return Tracer.recording(t, b) }
        return b
    }
    /// Number of dimensions (`dim()` in PyTorch).
    public var rank: Int { shape.count }
    /// Number of dimensions.
    public var ndim: Int { shape.count }
    /// Number of dimensions (PyTorch's `dim()`).
    public func dim() -> Int { shape.count }
    /// Total number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Total number of elements (PyTorch's `numel()`).
    public func numel() -> Int { count }
    /// Size of one dimension (negative counts from the end).
    public func size(_ dim: Int) -> Int { shape[Shape.normalize(dim, rank, op: "size")] }
    /// Stride of one dimension (negative counts from the end).
    public func stride(_ dim: Int) -> Int { strides[Shape.normalize(dim, rank, op: "stride")] }

    /// Whether the elements are laid out densely in row-major order.
    @inline(__always) public var isContiguous: Bool { shape.count == 0 || Shape.isContiguous(shape, strides) }

    /// Whether autograd records operations on this tensor.
    public var requiresGrad: Bool {
        get { tracksGrad }
        set {
            check(gradFn == nil || newValue, "requiresGrad: you can only change requiresGrad of leaf tensors; use detach() for a non-leaf")
            check(!newValue || dtype.isFloatingPoint, "requiresGrad: only floating point tensors can require gradients, got \(dtype)")
            requiresGradFlag = newValue
        }
    }

    /// Whether the tensor is a leaf of the autograd graph (created by the user, not by an op that recorded).
    public var isLeaf: Bool { gradFn == nil }

    /// Sets `requiresGrad` and returns `self`, like `tensor.requires_grad_()`.
    @discardableResult
    public func requiresGrad_(_ flag: Bool = true) -> Tensor { requiresGrad = flag; return self }

    /// The storage version counter (bumped by in-place ops on any view).
    public var version: Int { storage.version }

    /// Whether two tensors view the same storage.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

/// The rarely used autograd fields of a tensor, kept out of line.
final class AutogradMeta {
    @exclusivity(unchecked) var grad: Tensor?
    @exclusivity(unchecked) var retainsGrad = false
    @exclusivity(unchecked) var hooks: [(Tensor) -> Tensor?]?
    @exclusivity(unchecked) weak var accumulator: AccumulateGrad?
    @exclusivity(unchecked) var tangent: Tensor?
}
