import Foundation

/// Sentence embeddings from a sentence-transformers folder (`SentenceTransformer(folder).encode`):
/// tokenizer → BERT → pooling over the attention mask → L2 normalisation.
///
/// Reads `modules.json` (the transformer's subfolder, whether a `Normalize` module follows), `sentence_bert_config.json`
/// (`max_seq_length`), `1_Pooling/config.json` (mean, CLS, max or mean-sqrt-len pooling) and the transformer folder's
/// `config.json`, weights and tokenizer. A plain Hugging Face BERT folder works too (mean pooling, normalised).
/// ```swift
/// let embedder = try SentenceEmbedder(folder: ".build/models/all-MiniLM-L6-v2")
/// let e = embedder.encode(["A man is eating food.", "A man is riding a horse."])   // [2, 384], unit rows
/// let similarity = (e[0] * e[1]).sum()
/// ```
/// `compile()` (or `SentenceEmbedder(folder:, compiled: true)`) runs each batch as a compiled graph instead: batches
/// are padded to a length bucket so that few graphs serve every batch (see `compile(lengthMultiple:maxGraphs:)`).
public final class SentenceEmbedder {
    /// How token vectors become one sentence vector.
    public enum Pooling: String, Sendable { case mean, cls, max, meanSqrtLen }

    /// The folder's tokenizer.
    public let tokenizer: BertTokenizer
    /// The transformer.
    public let model: BertModel
    /// How token states become one vector (`1_Pooling/config.json`).
    public let pooling: Pooling
    /// Whether the embeddings are L2-normalised (a `Normalize` module in `modules.json`).
    public let normalize: Bool
    /// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included.
    public var maxSeqLength: Int
    /// Lowercase texts before tokenizing (`do_lower_case` of `sentence_bert_config.json`).
    public var doLowerCase: Bool
    /// The embedding size.
    public var dimension: Int { model.config.hiddenSize }
    /// The compiled graphs, one per (batch size, padded length), when `compile()` was called.
    var graphs: EmbeddingGraphCache?

    /// Loads the folder; `maxSeqLength` overrides `sentence_bert_config.json`'s; `compiled: true` calls `compile()`.
    public init(folder: String, maxSeqLength: Int? = nil, compiled: Bool = false) throws {
        let fm = FileManager.default
        var transformerPath = "", poolingPath: String? = nil
        var normalize = true
        let modulesPath = folder + "/modules.json"
        if fm.fileExists(atPath: modulesPath) {
            guard let data = fm.contents(atPath: modulesPath),
                  let mods = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
                throw PretrainedError.badConfig(path: modulesPath, reason: "expected a JSON array of modules")
            }
            normalize = false
            for m in mods {
                let type = m["type"] as? String ?? "", path = m["path"] as? String ?? ""
                guard !path.contains(".."), !path.hasPrefix("/") else { throw PretrainedError.badConfig(path: modulesPath, reason: "module path '\(path)' leaves the folder") }
                switch type.split(separator: ".").last.map(String.init) ?? "" {
                case "Transformer": transformerPath = path
                case "Pooling": poolingPath = path
                case "Normalize": normalize = true
                default: throw PretrainedError.unsupported(path: modulesPath, reason: "module type '\(type)'")
                }
            }
        }
        let tf = transformerPath.isEmpty ? folder : folder + "/" + transformerPath
        var pooling = Pooling.mean
        if let poolingPath {
            let p = try readJSONObject(folder + "/" + poolingPath + "/config.json")
            if p["pooling_mode_cls_token"] as? Bool == true { pooling = .cls }
            else if p["pooling_mode_max_tokens"] as? Bool == true { pooling = .max }
            else if p["pooling_mode_mean_sqrt_len_tokens"] as? Bool == true { pooling = .meanSqrtLen }
            else if p["pooling_mode_mean_tokens"] as? Bool == true { pooling = .mean }
            else if let mode = p["pooling_mode"] as? String, let m = Pooling(rawValue: mode) { pooling = m }
            else { throw PretrainedError.unsupported(path: folder + "/" + poolingPath + "/config.json", reason: "no supported pooling mode set") }
        }
        tokenizer = try BertTokenizer(folder: tf)
        model = try BertModel.fromPretrained(tf)
        if let top = tokenizer.vocab.values.max(), top >= model.config.vocabSize {
            throw PretrainedError.badConfig(path: tf, reason: "the tokenizer has ids up to \(top), but config.json's vocab_size is \(model.config.vocabSize)")
        }
        var maxLen = model.config.maxPositionEmbeddings
        var lower = false
        for cfg in [tf + "/sentence_bert_config.json", folder + "/sentence_bert_config.json"] where fm.fileExists(atPath: cfg) {
            let c = try readJSONObject(cfg)
            if let n = c["max_seq_length"] as? NSNumber, n.intValue > 2 { maxLen = min(n.intValue, maxLen) }
            lower = c["do_lower_case"] as? Bool ?? false
            break
        }
        self.doLowerCase = lower
        self.maxSeqLength = maxSeqLength ?? maxLen
        self.pooling = pooling
        self.normalize = normalize
        if compiled { self.compile() }
    }

    /// The embeddings of `sentences`, `[n, dimension]` float32 (`model.encode(sentences, batch_size=32)`).
    ///
    /// Sentences are sorted by length and run in batches of `batchSize` (so padding stays short), then put back in order.
    public func encode(_ sentences: [String], batchSize: Int = 32) -> Tensor {
        check(batchSize > 0, "SentenceEmbedder.encode: batchSize must be positive, got \(batchSize)")
        let maxLen = maxSeqLength
        let ids = sentences.map { tokenizer.encode(doLowerCase ? $0.lowercased() : $0, maxLength: maxLen) }
        let order = ids.indices.sorted { ids[$0].count > ids[$1].count }
        var rows = [Tensor?](repeating: nil, count: sentences.count)
        inferenceMode {
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let chunk = Array(order[start..<min(start + batchSize, order.count)])
                let e = embed(chunk.map { ids[$0] })
                for (j, i) in chunk.enumerated() { rows[i] = e.select(0, j) }
            }
        }
        if sentences.isEmpty { return Tensor.zeros([0, dimension]) }
        return stack(rows.map { $0! }, dim: 0)
    }

    /// The embedding of one sentence, `[dimension]`.
    public func encode(_ sentence: String) -> Tensor { encode([sentence]).select(0, 0) }

    /// Embeddings of already tokenised, unpadded id sequences: padded to the longest (eager) or to its length bucket
    /// (compiled), then through the model.
    func embed(_ seqs: [[Int]]) -> Tensor {
        let longest = seqs.map(\.count).max() ?? 0
        let width = graphs.map { $0.bucketLength(longest, limit: Swift.max(longest, Swift.min(maxSeqLength, model.config.maxPositionEmbeddings))) } ?? longest
        var idData = [Int64](repeating: Int64(tokenizer.padId), count: seqs.count * width)
        var maskData = [Int64](repeating: 0, count: seqs.count * width)
        for (i, s) in seqs.enumerated() { for (j, id) in s.enumerated() { idData[i * width + j] = Int64(id); maskData[i * width + j] = 1 } }
        let inputIds = Tensor(shape: [seqs.count, width], data: idData)
        let mask = Tensor(shape: [seqs.count, width], data: maskData)
        if let graphs { return graphs.function(batch: seqs.count, length: width, embedder: self).call([inputIds, mask])[0] }
        return embedBatch(inputIds, mask)
    }

    /// The pooled (and normalised) embeddings of a padded batch: `inputIds` and `mask` `[B, L]` int64 → `[B, dimension]`.
    /// This is the function `compile()` traces. Token types are all 0 (one-segment input, as `encode` gives).
    func embedBatch(_ inputIds: Tensor, _ mask: Tensor) -> Tensor {
        let h = model(inputIds: inputIds, attentionMask: mask).lastHiddenState
        let m = mask.to(h.dtype).unsqueeze(-1)
        var pooled: Tensor
        switch pooling {
        case .cls: pooled = h.select(1, 0)
        case .max: pooled = h.maskedFill(m.eq(0), value: -1e9).max(dim: 1).values
        case .mean, .meanSqrtLen:
            let count = m.sum(dim: 1).clamp(min: 1e-9)
            pooled = (h * m).sum(dim: 1) / (pooling == .mean ? count : count.sqrt())
        }
        if normalize { pooled = pooled / pooled.norm(p: 2, dim: 1, keepDim: true).clamp(min: 1e-12) }
        return pooled
    }
}
