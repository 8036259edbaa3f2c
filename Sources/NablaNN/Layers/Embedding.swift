/// A lookup table of `numEmbeddings` vectors of size `embeddingDim` (`nn.Embedding`).
///
/// The weight starts as N(0, 1), with the `paddingIdx` row zero; that row never receives a gradient.
/// ```swift
/// let emb = Embedding(1000, 64, paddingIdx: 0)
/// let v = emb(Tensor([[1, 5, 0]]))   // [1, 3, 64]
/// ```
public final class Embedding: Module {
    /// Size of the dictionary.
    public let numEmbeddings: Int
    /// Size of each vector.
    public let embeddingDim: Int
    /// Row whose gradient is always zero (normalised to be non-negative), or nil.
    public let paddingIdx: Int?
    /// `[numEmbeddings, embeddingDim]`.
    public var weight: Tensor

    /// Creates the layer (`nn.Embedding(num_embeddings, embedding_dim, padding_idx)`).
    // Disfavoured: in a file that also imports NablaKeras, a call both types accept means Keras' `Embedding`.
    @_disfavoredOverload
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIdx: Int? = nil, dtype: DType = .float32,
                generator: Generator? = nil) {
        check(numEmbeddings >= 0 && embeddingDim >= 0,
              "Embedding: sizes must be non-negative, got \(numEmbeddings) and \(embeddingDim)")
        if let p = paddingIdx {
            check(p >= -numEmbeddings && p < numEmbeddings,
                  "Embedding: paddingIdx \(p) must be within numEmbeddings \(numEmbeddings)")
        }
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        self.paddingIdx = paddingIdx.map { $0 < 0 ? $0 + numEmbeddings : $0 }
        let w = SkipInitialization.active ? Tensor.zeros([numEmbeddings, embeddingDim], dtype: dtype)
            : Tensor.randn([numEmbeddings, embeddingDim], dtype: dtype, generator: generator)
        if let p = self.paddingIdx { w.select(0, p).zero_() }
        weight = Parameter(w)
        super.init()
    }

    /// Creates the layer with PyTorch's keywords (`nn.Embedding(num_embeddings=1000, embedding_dim=64)`), the
    /// spelling that also names this type in a file importing NablaKeras.
    public convenience init(numEmbeddings: Int, embeddingDim: Int, paddingIdx: Int? = nil, dtype: DType = .float32,
                            generator: Generator? = nil) {
        self.init(numEmbeddings, embeddingDim, paddingIdx: paddingIdx, dtype: dtype, generator: generator)
    }

    /// Wraps an existing `[numEmbeddings, embeddingDim]` matrix (`nn.Embedding.from_pretrained`).
    public init(pretrained: Tensor, freeze: Bool = true, paddingIdx: Int? = nil) {
        check(pretrained.rank == 2, "Embedding(pretrained:): expected a 2-D weight, got shape \(pretrained.shape)")
        numEmbeddings = pretrained.shape[0]
        embeddingDim = pretrained.shape[1]
        self.paddingIdx = paddingIdx.map { $0 < 0 ? $0 + pretrained.shape[0] : $0 }
        weight = Parameter(pretrained.detached(), requiresGrad: !freeze)
        super.init()
    }

    /// `embedding(indices, weight, paddingIdx:)`.
    public override func forward(_ input: Tensor) -> Tensor { embedding(input, weight, paddingIdx: paddingIdx) }

    /// `1000, 64, padding_idx=0`.
    public override var extraDescription: String {
        "\(numEmbeddings), \(embeddingDim)" + (paddingIdx.map { ", padding_idx=\($0)" } ?? "")
    }
}
