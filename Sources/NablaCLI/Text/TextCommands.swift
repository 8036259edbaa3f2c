import Foundation

/// The work behind `nabla tokenize`, `nabla embed` and `nabla search` on a sentence-transformers folder.
public enum TextCommands {
    /// Reads `path` as UTF-8 lines (a final newline does not add an empty line; `\r\n` endings are understood).
    public static func readLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PretrainedError.missingFile(folder: path, what: "input file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw PretrainedError.badConfig(path: path, reason: "not UTF-8 text") }
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }

    /// One line of space-separated ids per text: `[CLS] ... [SEP]`, truncated at `maxLength`, no padding.
    public static func tokenize(_ texts: [String], tokenizer: BertTokenizer, maxLength: Int) -> [String] {
        texts.map { tokenizer.encode($0, maxLength: maxLength).map(String.init).joined(separator: " ") }
    }

    /// The maximum length a model folder asks for: `sentence_bert_config.json`'s `max_seq_length`, else the
    /// tokenizer's truncation setting, else 512.
    public static func maxLength(folder: String, tokenizer: BertTokenizer) throws -> Int {
        let cfg = folder + "/sentence_bert_config.json"
        if FileManager.default.fileExists(atPath: cfg), let data = FileManager.default.contents(atPath: cfg),
           let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            if let n = obj["max_seq_length"] as? NSNumber, n.intValue >= 2 { return n.intValue }
        }
        return tokenizer.configuredMaxLength ?? 512
    }

    /// The `k` lines of `corpus` most similar to `query` (cosine of the embeddings), best first.
    public static func search(_ query: String, corpus: [String], embedder: SentenceEmbedder, k: Int = 5, batchSize: Int = 32)
        -> [(index: Int, score: Double, text: String)] {
        guard !corpus.isEmpty else { return [] }
        let c = embedder.encode(corpus, batchSize: batchSize), q = embedder.encode([query])
        let unit = { (t: Tensor) in t / t.norm(p: 2, dim: 1, keepDim: true).clamp(min: 1e-12) }
        let scores = matmul(unit(c), unit(q).t()).contiguous().toArray(Float.self)
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return order.prefix(k).map { (index: $0, score: Double(scores[$0]), text: corpus[$0]) }
    }
}
