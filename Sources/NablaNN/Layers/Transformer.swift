// Transformer blocks: TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder
// (torch.nn.Transformer*), with PyTorch's submodule names so state dicts load by name.

/// The feed-forward activation of a Transformer layer (PyTorch's `activation="relu"` / `"gelu"`).
public enum TransformerActivation: Sendable {
    /// `relu` (PyTorch's default).
    case relu
    /// Exact `gelu`.
    case gelu

    func callAsFunction(_ x: Tensor) -> Tensor { self == .relu ? x.relu() : x.gelu() }
    var name: String { self == .relu ? "relu" : "gelu" }
}

/// Applies a row-wise `body` (Linear layers, activations) to `x [..., E]` viewed as 2-D `[rows, E]`, so each weight
/// gradient is one matmul rather than one per batch entry followed by a reduction.
func rowwise(_ x: Tensor, _ body: (Tensor) -> Tensor) -> Tensor {
    guard x.rank > 2 else { return body(x) }
    let lead = Array(x.shape.dropLast())
    let y = body(x.reshape([lead.reduce(1, *), x.shape[x.rank - 1]]))
    return y.reshape(lead + [y.shape[1]])
}

/// Copies every parameter and buffer of `source` into the same-named tensor of `target` (a deep copy's values).
func copyState(from source: Module, to target: Module) {
    let src = source.namedParameters() + source.namedBuffers()
    let dst = Dictionary((target.namedParameters() + target.namedBuffers()).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    noGrad {
        for (name, t) in src { if let d = dst[name] { _ = d.copy_(t) } }
    }
    target.train(source.training)
}

/// The constructor arguments both Transformer layers keep for `copy()`, and the sublayers they build alike.
struct TransformerLayerConfig {
    let dModel: Int, nhead: Int, ff: Int, p: Double, eps: Double, batchFirst: Bool, bias: Bool, dtype: DType

    /// A `dModel`-wide attention with `nhead` heads and the layer's dropout.
    func attention() -> MultiheadAttention {
        MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: p, bias: bias, batchFirst: batchFirst, dtype: dtype)
    }

    /// A LayerNorm over the last `dModel` features.
    func norm() -> LayerNorm { LayerNorm([dModel], eps: eps, bias: bias, dtype: dtype) }
}

/// One residual sub-block: `x + block(norm(x))` when `normFirst` (pre-norm), else `norm(x + block(x))` (post-norm).
func residualBlock(_ x: Tensor, _ norm: LayerNorm, normFirst: Bool, _ block: (Tensor) -> Tensor) -> Tensor {
    normFirst ? x + block(norm(x)) : norm(x + block(x))
}

/// `residual + linear2(relu(linear1(x)))` as two fused ops (`linearRelu`, then `linear(_:weight:bias:residual:)`):
/// a feed-forward block and its residual connection the way a compiled graph's GEMM epilogues run them. Nil unless
/// that is exactly what the block computes: ReLU, every dropout the identity (`p` 0 or eval mode), and both
/// Linear layers called plainly (no hooks, not compiled on their own).
func fusedFeedForward(_ x: Tensor, residual: Tensor, _ linear1: Linear, _ linear2: Linear, activation: TransformerActivation,
                      dropouts: [Dropout]) -> Tensor? {
    guard activation == .relu, linear1.callsForwardDirectly, linear2.callsForwardDirectly,
          dropouts.allSatisfy({ ($0.p == 0 || !$0.training) && $0.callsForwardDirectly }) else { return nil }
    let h = Nabla.linearRelu(x, weight: linear1.weight, bias: linear1.bias)
    return Nabla.linear(h, weight: linear2.weight, bias: linear2.bias, residual: residual)
}

/// One residual self-attention sub-block with its sum fused into the output projection (see
/// `MultiheadAttention.selfAttention(_:residual:...)`), when the dropout after the attention is the identity; nil
/// otherwise.
func fusedSelfAttentionBlock(_ x: Tensor, _ attention: MultiheadAttention, _ norm: LayerNorm, normFirst: Bool, dropout: Dropout,
                             keyPaddingMask: Tensor?, attnMask: Tensor?, isCausal: Bool) -> Tensor? {
    guard (dropout.p == 0 || !dropout.training) && dropout.callsForwardDirectly else { return nil }
    let input = normFirst ? norm(x) : x
    let y = attention.selfAttention(input, residual: x, keyPaddingMask: keyPaddingMask, attnMask: attnMask, isCausal: isCausal)
    return normFirst ? y : norm(y)
}

/// One residual feed-forward sub-block (`residualBlock` with `ff`) through `fusedFeedForward` where it applies.
func feedForwardBlock(_ x: Tensor, _ norm: LayerNorm, normFirst: Bool, _ linear1: Linear, _ linear2: Linear,
                      activation: TransformerActivation, dropouts: [Dropout], _ ff: (Tensor) -> Tensor) -> Tensor {
    let input = normFirst ? norm(x) : x
    guard let y = fusedFeedForward(input, residual: x, linear1, linear2, activation: activation, dropouts: dropouts) else {
        return residualBlock(x, norm, normFirst: normFirst, ff)
    }
    return normFirst ? y : norm(y)
}

/// `numLayers` deep copies of `layer` for a stack (`owner` names the stack in the error when `numLayers` is not positive).
func stackCopies<Layer>(_ owner: String, _ layer: Layer, numLayers: Int, copy: (Layer) -> Layer) -> [Layer] {
    check(numLayers > 0, "\(owner): numLayers must be positive, got \(numLayers)")
    return (0..<numLayers).map { _ in copy(layer) }
}

/// One encoder block: self-attention and a feed-forward network, each with residual, dropout and LayerNorm
/// (post-norm by default, pre-norm with `normFirst`), as `torch.nn.TransformerEncoderLayer`.
///
/// ```swift
/// let layer = TransformerEncoderLayer(dModel: 256, nhead: 4, dimFeedforward: 1024, dropout: 0, batchFirst: true)
/// let y = layer(Tensor.randn([32, 128, 256]))   // [32, 128, 256]
/// ```
public final class TransformerEncoderLayer: Module {
    /// Self-attention.
    public let selfAttn: MultiheadAttention
    /// First feed-forward projection `dModel → dimFeedforward`.
    public let linear1: Linear
    /// Dropout inside the feed-forward network.
    public let dropout: Dropout
    /// Second feed-forward projection `dimFeedforward → dModel`.
    public let linear2: Linear
    /// Whether LayerNorm comes before each sub-block (pre-norm) instead of after the residual add.
    public let normFirst: Bool
    /// LayerNorm of the attention sub-block.
    public let norm1: LayerNorm
    /// LayerNorm of the feed-forward sub-block.
    public let norm2: LayerNorm
    /// Dropout on the attention output.
    public let dropout1: Dropout
    /// Dropout on the feed-forward output.
    public let dropout2: Dropout
    /// The feed-forward activation.
    public let activation: TransformerActivation
    private let config: TransformerLayerConfig

    /// Creates the block with PyTorch's defaults (`dimFeedforward` 2048, `dropout` 0.1, relu, post-norm, sequence-first).
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1, activation: TransformerActivation = .relu,
                layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true, dtype: DType = .float32) {
        let c = TransformerLayerConfig(dModel: dModel, nhead: nhead, ff: dimFeedforward, p: dropout, eps: layerNormEps,
                                       batchFirst: batchFirst, bias: bias, dtype: dtype)
        config = c
        selfAttn = c.attention()
        linear1 = Linear(dModel, dimFeedforward, bias: bias, dtype: dtype)
        self.dropout = Dropout(p: dropout)
        linear2 = Linear(dimFeedforward, dModel, bias: bias, dtype: dtype)
        self.normFirst = normFirst
        norm1 = c.norm()
        norm2 = c.norm()
        dropout1 = Dropout(p: dropout)
        dropout2 = Dropout(p: dropout)
        self.activation = activation
        super.init()
    }

    /// A copy with its own parameters holding the same values (PyTorch's `copy.deepcopy`).
    public func copy() -> TransformerEncoderLayer {
        let c = config
        let layer = TransformerEncoderLayer(dModel: c.dModel, nhead: c.nhead, dimFeedforward: c.ff, dropout: c.p, activation: activation,
                                            layerNormEps: c.eps, batchFirst: c.batchFirst, normFirst: normFirst, bias: c.bias, dtype: c.dtype)
        copyState(from: self, to: layer)
        return layer
    }

    /// The block without masks.
    public override func forward(_ input: Tensor) -> Tensor { self(input, srcMask: nil) }

    /// The block on `src` (`[S, N, E]`, or `[N, S, E]` when `batchFirst`); masks as `MultiheadAttention`'s
    /// (`srcMask` `[S, S]` or `[N·nhead, S, S]`, `srcKeyPaddingMask` `[N, S]`; bool `true` = masked, or float added).
    public func callAsFunction(_ src: Tensor, srcMask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        func sa(_ t: Tensor) -> Tensor {
            dropout1(selfAttn(t, t, t, keyPaddingMask: srcKeyPaddingMask, needWeights: false, attnMask: srcMask, isCausal: isCausal).0)
        }
        func ff(_ t: Tensor) -> Tensor { rowwise(t) { dropout2(linear2(dropout(activation(linear1($0))))) } }
        // The fused forms run the same GEMMs with the residual sums and the ReLU folded into them (eager epilogues).
        let x = fusedSelfAttentionBlock(src, selfAttn, norm1, normFirst: normFirst, dropout: dropout1, keyPaddingMask: srcKeyPaddingMask,
                                        attnMask: srcMask, isCausal: isCausal)
            ?? residualBlock(src, norm1, normFirst: normFirst, sa)
        return feedForwardBlock(x, norm2, normFirst: normFirst, linear1, linear2, activation: activation,
                                dropouts: [dropout, dropout2], ff)
    }
}

/// A stack of `numLayers` copies of an encoder block (each with its own parameters), then an optional norm,
/// as `torch.nn.TransformerEncoder`; parameters are named `layers.0.self_attn.in_proj_weight`, ..., `norm.weight`.
///
/// ```swift
/// let encoder = TransformerEncoder(TransformerEncoderLayer(dModel: 64, nhead: 4, batchFirst: true), numLayers: 2)
/// let y = encoder(Tensor.randn([8, 10, 64]))
/// ```
public final class TransformerEncoder: Module {
    /// The blocks, applied in order.
    public let layers: [TransformerEncoderLayer]
    /// Applied to the last block's output when set.
    public let norm: Module?

    /// `numLayers` deep copies of `encoderLayer`, then `norm`.
    public init(_ encoderLayer: TransformerEncoderLayer, numLayers: Int, norm: Module? = nil) {
        layers = stackCopies("TransformerEncoder", encoderLayer, numLayers: numLayers) { $0.copy() }
        self.norm = norm
        super.init()
    }

    /// The stack without masks.
    public override func forward(_ input: Tensor) -> Tensor { self(input, mask: nil) }

    /// Runs every block with the same masks, then `norm`.
    public func callAsFunction(_ src: Tensor, mask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        var x = src
        for layer in layers { x = layer(x, srcMask: mask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: isCausal) }
        if let norm { x = norm(x) }
        return x
    }
}

/// One decoder block: self-attention, cross-attention over `memory`, and a feed-forward network, each with
/// residual, dropout and LayerNorm, as `torch.nn.TransformerDecoderLayer`.
///
/// ```swift
/// let layer = TransformerDecoderLayer(dModel: 64, nhead: 4, batchFirst: true)
/// let y = layer(Tensor.randn([2, 7, 64]), memory: Tensor.randn([2, 9, 64]), tgtIsCausal: true)
/// ```
public final class TransformerDecoderLayer: Module {
    /// Self-attention over the target.
    public let selfAttn: MultiheadAttention
    /// Cross-attention from the target to the memory.
    public let multiheadAttn: MultiheadAttention
    /// First feed-forward projection.
    public let linear1: Linear
    /// Dropout inside the feed-forward network.
    public let dropout: Dropout
    /// Second feed-forward projection.
    public let linear2: Linear
    /// Whether LayerNorm comes before each sub-block.
    public let normFirst: Bool
    /// LayerNorm of the self-attention sub-block.
    public let norm1: LayerNorm
    /// LayerNorm of the cross-attention sub-block.
    public let norm2: LayerNorm
    /// LayerNorm of the feed-forward sub-block.
    public let norm3: LayerNorm
    /// Dropout on the self-attention output.
    public let dropout1: Dropout
    /// Dropout on the cross-attention output.
    public let dropout2: Dropout
    /// Dropout on the feed-forward output.
    public let dropout3: Dropout
    /// The feed-forward activation.
    public let activation: TransformerActivation
    private let config: TransformerLayerConfig

    /// Creates the block with PyTorch's defaults (`dimFeedforward` 2048, `dropout` 0.1, relu, post-norm, sequence-first).
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1, activation: TransformerActivation = .relu,
                layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true, dtype: DType = .float32) {
        let c = TransformerLayerConfig(dModel: dModel, nhead: nhead, ff: dimFeedforward, p: dropout, eps: layerNormEps,
                                       batchFirst: batchFirst, bias: bias, dtype: dtype)
        config = c
        selfAttn = c.attention()
        multiheadAttn = c.attention()
        linear1 = Linear(dModel, dimFeedforward, bias: bias, dtype: dtype)
        self.dropout = Dropout(p: dropout)
        linear2 = Linear(dimFeedforward, dModel, bias: bias, dtype: dtype)
        self.normFirst = normFirst
        norm1 = c.norm()
        norm2 = c.norm()
        norm3 = c.norm()
        dropout1 = Dropout(p: dropout); dropout2 = Dropout(p: dropout); dropout3 = Dropout(p: dropout)
        self.activation = activation
        super.init()
    }

    /// A copy with its own parameters holding the same values (PyTorch's `copy.deepcopy`).
    public func copy() -> TransformerDecoderLayer {
        let c = config
        let layer = TransformerDecoderLayer(dModel: c.dModel, nhead: c.nhead, dimFeedforward: c.ff, dropout: c.p, activation: activation,
                                            layerNormEps: c.eps, batchFirst: c.batchFirst, normFirst: normFirst, bias: c.bias, dtype: c.dtype)
        copyState(from: self, to: layer)
        return layer
    }

    /// Self-attention over `input` used as its own memory (a decoder block needs `memory`: prefer the full call).
    public override func forward(_ input: Tensor) -> Tensor { self(input, memory: input) }

    /// The block on `tgt` (`[T, N, E]`, or `[N, T, E]` when `batchFirst`) attending to `memory` (`[S, N, E]`).
    /// Masks as `MultiheadAttention`'s: `tgtMask` `[T, T]`, `memoryMask` `[T, S]`, padding masks `[N, T]` / `[N, S]`.
    public func callAsFunction(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Tensor {
        func sa(_ t: Tensor) -> Tensor {
            dropout1(selfAttn(t, t, t, keyPaddingMask: tgtKeyPaddingMask, needWeights: false, attnMask: tgtMask, isCausal: tgtIsCausal).0)
        }
        func mha(_ t: Tensor) -> Tensor {
            dropout2(multiheadAttn(t, memory, memory, keyPaddingMask: memoryKeyPaddingMask, needWeights: false,
                                   attnMask: memoryMask, isCausal: memoryIsCausal).0)
        }
        func ff(_ t: Tensor) -> Tensor { rowwise(t) { dropout3(linear2(dropout(activation(linear1($0))))) } }
        var x = fusedSelfAttentionBlock(tgt, selfAttn, norm1, normFirst: normFirst, dropout: dropout1, keyPaddingMask: tgtKeyPaddingMask,
                                        attnMask: tgtMask, isCausal: tgtIsCausal)
            ?? residualBlock(tgt, norm1, normFirst: normFirst, sa)
        x = residualBlock(x, norm2, normFirst: normFirst, mha)
        return feedForwardBlock(x, norm3, normFirst: normFirst, linear1, linear2, activation: activation,
                                dropouts: [dropout, dropout3], ff)
    }
}

/// A stack of `numLayers` copies of a decoder block, then an optional norm, as `torch.nn.TransformerDecoder`.
///
/// ```swift
/// let decoder = TransformerDecoder(TransformerDecoderLayer(dModel: 64, nhead: 4), numLayers: 2)
/// let y = decoder(Tensor.randn([7, 2, 64]), memory: Tensor.randn([9, 2, 64]))
/// ```
public final class TransformerDecoder: Module {
    /// The blocks, applied in order.
    public let layers: [TransformerDecoderLayer]
    /// Applied to the last block's output when set.
    public let norm: Module?

    /// `numLayers` deep copies of `decoderLayer`, then `norm`.
    public init(_ decoderLayer: TransformerDecoderLayer, numLayers: Int, norm: Module? = nil) {
        layers = stackCopies("TransformerDecoder", decoderLayer, numLayers: numLayers) { $0.copy() }
        self.norm = norm
        super.init()
    }

    /// Self-attention over `input` used as its own memory (prefer the full call).
    public override func forward(_ input: Tensor) -> Tensor { self(input, memory: input) }

    /// Runs every block with the same memory and masks, then `norm`.
    public func callAsFunction(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Tensor {
        var x = tgt
        for layer in layers {
            x = layer(x, memory: memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
                      memoryKeyPaddingMask: memoryKeyPaddingMask, tgtIsCausal: tgtIsCausal, memoryIsCausal: memoryIsCausal)
        }
        if let norm { x = norm(x) }
        return x
    }
}
