import Foundation

/// A BERT encoder with Hugging Face's parameter names (`transformers.BertModel`), so its checkpoints load as is.
///
/// Embeddings (word + absolute position + token type, then LayerNorm), `numHiddenLayers` post-norm encoder
/// layers (self-attention, then the feed-forward block with the config's activation), and the pooler
/// (`tanh(dense(h[:, 0]))`). Dropout is not applied: this is the inference model.
/// ```swift
/// let bert = try BertModel.fromPretrained("all-MiniLM-L6-v2")
/// let out = bert(inputIds: batch.inputIds, attentionMask: batch.attentionMask)
/// out.lastHiddenState   // [batch, length, hidden]
/// ```
public final class BertModel: Module {
    /// The configuration the model was built from.
    public let config: BertConfig
    /// Word, position and token-type embeddings (`embeddings.*`).
    public let embeddings: BertEmbeddings
    /// The stack of encoder layers (`encoder.layer.N.*`).
    public let encoder: BertEncoder
    /// The pooler over the first token, when the checkpoint has one (`pooler.dense`).
    public let pooler: BertPooler?

    /// A randomly initialised BERT of `config` (`BertModel(config)`); `addPoolingLayer: false` drops the pooler.
    public init(config: BertConfig, addPoolingLayer: Bool = true) {
        self.config = config
        embeddings = BertEmbeddings(config)
        encoder = BertEncoder(config)
        pooler = addPoolingLayer ? BertPooler(config) : nil
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = [("embeddings", embeddings), ("encoder", encoder)]
        if let pooler { out.append(("pooler", pooler)) }
        return out
    }

    /// The encoder's output for `inputIds [B, L]` (int64); `attentionMask [B, L]` is 1 for tokens, 0 for padding
    /// (all ones when nil); `tokenTypeIds` default to zeros.
    public func callAsFunction(inputIds: Tensor, attentionMask: Tensor? = nil, tokenTypeIds: Tensor? = nil) -> BertOutput {
        check(inputIds.rank == 2, "BertModel: expected inputIds [batch, length], got shape \(inputIds.shape)")
        check(inputIds.shape[1] <= config.maxPositionEmbeddings,
              "BertModel: sequence length \(inputIds.shape[1]) exceeds max_position_embeddings \(config.maxPositionEmbeddings)")
        let h0 = embeddings(inputIds: inputIds, tokenTypeIds: tokenTypeIds)
        var bias: Tensor? = nil
        if let attentionMask {
            check(attentionMask.shape == inputIds.shape, "BertModel: attentionMask \(attentionMask.shape) must match inputIds \(inputIds.shape)")
            // Additive mask [B, 1, 1, L]: 0 for tokens, the most negative float for padding (as transformers does).
            let keep = attentionMask.to(h0.dtype)
            bias = ((1 - keep) * -Double(Float.greatestFiniteMagnitude)).view([inputIds.shape[0], 1, 1, inputIds.shape[1]])
        }
        let h = encoder(h0, mask: bias)
        return BertOutput(lastHiddenState: h, poolerOutput: pooler.map { $0(h) })
    }

    /// The last hidden state for `input` ids with no padding.
    public override func forward(_ input: Tensor) -> Tensor { self(inputIds: input).lastHiddenState }

    /// Loads a BERT from a Hugging Face model folder (`BertModel.from_pretrained(folder)`): `config.json` and the
    /// weights in `model.safetensors`, sharded safetensors with `model.safetensors.index.json`, or `pytorch_model.bin`.
    ///
    /// Names may carry a `bert.` prefix (checkpoints of `BertForMaskedLM` and friends); heads (`cls.*`) and
    /// `embeddings.position_ids` are ignored; old `gamma`/`beta` LayerNorm names are understood. A missing
    /// weight (other than the pooler's) or a weight of the wrong shape throws `PretrainedError.badWeights`.
    public static func fromPretrained(_ folder: String) throws -> BertModel {
        let config = try BertConfig(contentsOf: folder + "/config.json")
        var state = StateDict()
        for (k0, v) in try loadPretrainedWeights(folder: folder) {
            var k = k0
            if k.hasPrefix("bert.") { k.removeFirst(5) }
            if k.hasSuffix(".gamma") { k = String(k.dropLast(6)) + ".weight" }
            if k.hasSuffix(".beta") { k = String(k.dropLast(5)) + ".bias" }
            state[k] = v
        }
        let hasPooler = state["pooler.dense.weight"] != nil
        let model = withoutInitialization { BertModel(config: config, addPoolingLayer: hasPooler) }
        let keys: IncompatibleKeys
        do { keys = try model.loadStateDictReportingKeys(state, strict: false) } catch {
            throw PretrainedError.badWeights(path: folder, reason: "\(error)")
        }
        if !keys.missingKeys.isEmpty {
            throw PretrainedError.badWeights(path: folder, reason: "missing weights: \(keys.missingKeys.prefix(8).joined(separator: ", "))"
                                             + (keys.missingKeys.count > 8 ? " and \(keys.missingKeys.count - 8) more" : ""))
        }
        return model.eval()
    }
}

/// The outputs of `BertModel`: the last hidden state `[B, L, H]` and the pooled `[CLS]` vector `[B, H]`.
public struct BertOutput {
    /// The last layer's hidden states `[batch, length, hidden]`.
    public let lastHiddenState: Tensor
    /// tanh(dense(first token)) `[batch, hidden]`, when the model has a pooler.
    public let poolerOutput: Tensor?
}

/// Word, position and token-type embeddings, summed, then LayerNorm (`BertEmbeddings`).
public final class BertEmbeddings: Module {
    /// `word_embeddings`.
    public let wordEmbeddings: Embedding
    /// `position_embeddings`.
    public let positionEmbeddings: Embedding
    /// `token_type_embeddings`.
    public let tokenTypeEmbeddings: Embedding
    /// `LayerNorm` applied to the summed embeddings.
    public let layerNorm: LayerNorm

    init(_ c: BertConfig) {
        wordEmbeddings = Embedding(c.vocabSize, c.hiddenSize, paddingIdx: c.padTokenId < c.vocabSize ? c.padTokenId : nil)
        positionEmbeddings = Embedding(c.maxPositionEmbeddings, c.hiddenSize)
        tokenTypeEmbeddings = Embedding(c.typeVocabSize, c.hiddenSize)
        layerNorm = LayerNorm([c.hiddenSize], eps: c.layerNormEps)
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] {
        [("word_embeddings", wordEmbeddings), ("position_embeddings", positionEmbeddings),
         ("token_type_embeddings", tokenTypeEmbeddings), ("LayerNorm", layerNorm)]
    }

    func callAsFunction(inputIds: Tensor, tokenTypeIds: Tensor?) -> Tensor {
        let (b, l) = (inputIds.shape[0], inputIds.shape[1])
        let positions = Tensor.arange(0, Double(l), dtype: .int64).view([1, l])
        var h = wordEmbeddings(inputIds) + positionEmbeddings(positions)
        if let tokenTypeIds { h = h + tokenTypeEmbeddings(tokenTypeIds) }
        else { h = h + tokenTypeEmbeddings.weight.select(0, 0).view([1, 1, -1]) }
        _ = b
        return layerNorm(h)
    }

    public override func forward(_ input: Tensor) -> Tensor { self(inputIds: input, tokenTypeIds: nil) }
}

/// The stack of encoder layers (`BertEncoder`, parameters under `layer.<i>`).
public final class BertEncoder: Module {
    /// The encoder layers, in order (`layer.N`).
    public let layer: [BertLayer]

    init(_ c: BertConfig) {
        layer = (0..<c.numHiddenLayers).map { _ in BertLayer(c) }
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] { layer.enumerated().map { ("layer.\($0.offset)", $0.element) } }

    func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        var h = x
        for l in layer { h = l(h, mask: mask) }
        return h
    }

    public override func forward(_ input: Tensor) -> Tensor { self(input, mask: nil) }
}

/// One post-norm encoder layer: self-attention (`attention.self.{query,key,value}`, `attention.output.{dense,LayerNorm}`),
/// then `intermediate.dense` → activation → `output.dense` → residual → `output.LayerNorm` (`BertLayer`).
public final class BertLayer: Module {
    /// The self-attention projections (`attention.self.query/key/value`).
    public let query: Linear, key: Linear, value: Linear
    /// `attention.output.dense`.
    public let attentionOutput: Linear
    /// `attention.output.LayerNorm`.
    public let attentionLayerNorm: LayerNorm
    /// `intermediate.dense` (followed by the configured activation).
    public let intermediate: Linear
    /// `output.dense`.
    public let output: Linear
    /// `output.LayerNorm`.
    public let outputLayerNorm: LayerNorm
    let heads: Int
    let act: String

    init(_ c: BertConfig) {
        let h = c.hiddenSize
        query = Linear(h, h); key = Linear(h, h); value = Linear(h, h)
        attentionOutput = Linear(h, h)
        attentionLayerNorm = LayerNorm([h], eps: c.layerNormEps)
        intermediate = Linear(h, c.intermediateSize)
        output = Linear(c.intermediateSize, h)
        outputLayerNorm = LayerNorm([h], eps: c.layerNormEps)
        heads = c.numAttentionHeads
        act = c.hiddenAct
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] {
        [("attention.self.query", query), ("attention.self.key", key), ("attention.self.value", value),
         ("attention.output.dense", attentionOutput), ("attention.output.LayerNorm", attentionLayerNorm),
         ("intermediate.dense", intermediate), ("output.dense", output), ("output.LayerNorm", outputLayerNorm)]
    }

    func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        let (b, l, e) = (x.shape[0], x.shape[1], x.shape[2])
        let d = e / heads
        func split(_ t: Tensor) -> Tensor { t.view([b, l, heads, d]).permute(0, 2, 1, 3) }
        let ctx = attentionHeads(split(query(x)), split(key(x)), split(value(x)), mask: mask, scale: 1 / Double(d).squareRoot())
        let merged = ctx.permute(0, 2, 1, 3).reshape([b, l, e])
        let a = attentionLayerNorm(attentionOutput(merged) + x)
        let f = output(BertLayer.activation(act, intermediate(a)))
        return outputLayerNorm(f + a)
    }

    public override func forward(_ input: Tensor) -> Tensor { self(input, mask: nil) }

    static func activation(_ name: String, _ x: Tensor) -> Tensor {
        switch name {
        case "gelu": return gelu(x)
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return gelu(x, approximate: .tanh)
        case "relu": return relu(x)
        case "silu", "swish": return silu(x)
        case "tanh": return tanh(x)
        default: nablaFail("BertLayer: unknown activation '\(name)'")
        }
    }
}

/// `tanh(dense(h[:, 0]))`: the `[CLS]` vector through a dense layer (`BertPooler`).
public final class BertPooler: Module {
    /// `pooler.dense`.
    public let dense: Linear

    init(_ c: BertConfig) {
        dense = Linear(c.hiddenSize, c.hiddenSize)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { tanh(dense(input.select(1, 0))) }
}

/// The weights of a Hugging Face model folder, from whichever file it has: `model.safetensors`, sharded
/// `model-0000k-of-0000n.safetensors` listed in `model.safetensors.index.json`, `pytorch_model.bin`, or sharded
/// `pytorch_model-0000k-of-0000n.bin` listed in `pytorch_model.bin.index.json`.
public func loadPretrainedWeights(folder: String) throws -> StateDict {
    let fm = FileManager.default
    let single = folder + "/model.safetensors"
    if fm.fileExists(atPath: single) { return try loadSafetensors(from: single) }
    for (index, loader) in [("model.safetensors.index.json", loadSafetensors(from:)), ("pytorch_model.bin.index.json", loadTorch(from:))] {
        let path = folder + "/" + index
        guard fm.fileExists(atPath: path) else { continue }
        let json = try readJSONObject(path)
        guard let map = json["weight_map"] as? [String: Any] else { throw PretrainedError.badConfig(path: path, reason: "no 'weight_map' object") }
        var shards: [String] = []
        for (name, v) in map {
            guard let f = v as? String else { throw PretrainedError.badConfig(path: path, reason: "weight_map['\(name)'] is not a file name") }
            guard !f.contains("/"), !f.hasPrefix(".") else { throw PretrainedError.badConfig(path: path, reason: "shard '\(f)' is not a plain file name") }
            if !shards.contains(f) { shards.append(f) }
        }
        var state = StateDict()
        for f in shards.sorted() {
            let shard = try loader(folder + "/" + f)
            for (k, t) in shard where map[k] != nil { state[k] = t }
        }
        let missing = map.keys.filter { state[$0] == nil }
        guard missing.isEmpty else {
            throw PretrainedError.badWeights(path: path, reason: "tensors listed in the index are absent from their shards: \(missing.sorted().prefix(5).joined(separator: ", "))")
        }
        return state
    }
    let bin = folder + "/pytorch_model.bin"
    if fm.fileExists(atPath: bin) { return try loadTorch(from: bin) }
    throw PretrainedError.missingFile(folder: folder, what: "model weights (model.safetensors, model.safetensors.index.json or pytorch_model.bin)")
}
