/// The cosine similarity of two inputs along `dim` (`nn.CosineSimilarity`); see `cosineSimilarity(_:_:dim:eps:)`.
///
/// ```swift
/// let cos = CosineSimilarity(dim: 1, eps: 1e-6)
/// let s = cos(Tensor.randn([100, 128]), Tensor.randn([100, 128]))   // [100]
/// ```
public final class CosineSimilarity: Module {
    /// The vector dim.
    public let dim: Int
    /// The smallest norm a vector is divided by.
    public let eps: Double

    /// Creates the module (PyTorch's defaults: `dim=1, eps=1e-8`).
    public init(dim: Int = 1, eps: Double = 1e-8) {
        self.dim = dim
        self.eps = eps
        super.init()
    }

    /// `cosineSimilarity(x1, x2, dim:eps:)`.
    public func callAsFunction(_ x1: Tensor, _ x2: Tensor) -> Tensor { forward(x1, x2) }

    /// `cosineSimilarity(x1, x2, dim:eps:)`.
    public func forward(_ x1: Tensor, _ x2: Tensor) -> Tensor { cosineSimilarity(x1, x2, dim: dim, eps: eps) }

    /// A one-input call cannot compare two inputs: use `cos(x1, x2)`.
    public override func forward(_ input: Tensor) -> Tensor {
        nablaFail("CosineSimilarity: takes two inputs; call it as cos(x1, x2), got one input of shape \(input.shape)")
    }
}

/// The `p`-norm distance between two inputs over the last dim (`nn.PairwiseDistance`); see `pairwiseDistance`.
///
/// ```swift
/// let pdist = PairwiseDistance(p: 2)
/// let d = pdist(Tensor.randn([100, 128]), Tensor.randn([100, 128]))   // [100]
/// ```
public final class PairwiseDistance: Module {
    /// The norm degree.
    public let p: Double
    /// Added to the difference before the norm.
    public let eps: Double
    /// Whether the reduced dim is kept with size 1.
    public let keepDim: Bool

    /// Creates the module (PyTorch's defaults: `p=2, eps=1e-6, keepdim=False`).
    public init(p: Double = 2, eps: Double = 1e-6, keepDim: Bool = false) {
        self.p = p
        self.eps = eps
        self.keepDim = keepDim
        super.init()
    }

    /// `pairwiseDistance(x1, x2, p:eps:keepDim:)`.
    public func callAsFunction(_ x1: Tensor, _ x2: Tensor) -> Tensor { forward(x1, x2) }

    /// `pairwiseDistance(x1, x2, p:eps:keepDim:)`.
    public func forward(_ x1: Tensor, _ x2: Tensor) -> Tensor { pairwiseDistance(x1, x2, p: p, eps: eps, keepDim: keepDim) }

    /// A one-input call cannot compare two inputs: use `pdist(x1, x2)`.
    public override func forward(_ input: Tensor) -> Tensor {
        nablaFail("PairwiseDistance: takes two inputs; call it as pdist(x1, x2), got one input of shape \(input.shape)")
    }
}
