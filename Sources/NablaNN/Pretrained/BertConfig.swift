import Foundation

/// The settings of a BERT encoder, read from a Hugging Face `config.json` (`BertConfig`).
public struct BertConfig: Sendable, Equatable {
    /// Word-piece vocabulary size (`vocab_size`).
    public var vocabSize: Int
    /// Hidden width (`hidden_size`).
    public var hiddenSize: Int
    /// Number of encoder layers (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Attention heads per layer (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Feed-forward width (`intermediate_size`).
    public var intermediateSize: Int
    /// The feed-forward activation: `gelu` (exact, erf), `gelu_new`/`gelu_pytorch_tanh`/`gelu_fast` (tanh), `relu`, `silu`, `tanh`.
    public var hiddenAct: String
    /// Longest sequence the position table covers (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Number of token types (`type_vocab_size`).
    public var typeVocabSize: Int
    /// LayerNorm's epsilon (`layer_norm_eps`).
    public var layerNormEps: Double
    /// Id of the padding token (`pad_token_id`).
    public var padTokenId: Int

    /// A configuration; the defaults are bert-base-uncased's.
    public init(vocabSize: Int = 30522, hiddenSize: Int = 768, numHiddenLayers: Int = 12, numAttentionHeads: Int = 12,
                intermediateSize: Int = 3072, hiddenAct: String = "gelu", maxPositionEmbeddings: Int = 512,
                typeVocabSize: Int = 2, layerNormEps: Double = 1e-12, padTokenId: Int = 0) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads; self.intermediateSize = intermediateSize; self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings; self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps; self.padTokenId = padTokenId
    }

    /// Reads `config.json`; throws `PretrainedError` for a malformed file or a setting this BERT does not implement.
    public init(contentsOf path: String) throws {
        let c = try readJSONObject(path)
        func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
            if let n = c[key] as? NSNumber, n.doubleValue == n.doubleValue.rounded(), n.intValue > 0 || key == "pad_token_id" { return n.intValue }
            if c[key] == nil || c[key] is NSNull, let fallback { return fallback }
            throw PretrainedError.badConfig(path: path, reason: "'\(key)' must be a positive integer, got \(c[key].map { "\($0)" } ?? "nothing")")
        }
        self.init(vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"), numHiddenLayers: try int("num_hidden_layers"),
                  numAttentionHeads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
                  hiddenAct: c["hidden_act"] as? String ?? "gelu", maxPositionEmbeddings: try int("max_position_embeddings", 512),
                  typeVocabSize: try int("type_vocab_size", 2), layerNormEps: (c["layer_norm_eps"] as? NSNumber)?.doubleValue ?? 1e-12,
                  padTokenId: try int("pad_token_id", 0))
        if let t = c["model_type"] as? String, t != "bert" {
            throw PretrainedError.unsupported(path: path, reason: "model_type '\(t)' (only 'bert')")
        }
        if let p = c["position_embedding_type"] as? String, p != "absolute" {
            throw PretrainedError.unsupported(path: path, reason: "position_embedding_type '\(p)' (only 'absolute')")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw PretrainedError.badConfig(path: path, reason: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        guard BertConfig.activations.contains(hiddenAct) else {
            throw PretrainedError.unsupported(path: path, reason: "hidden_act '\(hiddenAct)' (known: \(BertConfig.activations.sorted().joined(separator: ", ")))")
        }
    }

    static let activations: Set<String> = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish", "tanh"]
}
