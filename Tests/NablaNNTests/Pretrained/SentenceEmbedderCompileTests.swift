import Foundation
import Testing
import NablaNN
import NablaTestSupport

/// The package root (three levels above this file).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

private func fixtureJSON(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Tests/Fixtures/" + name))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Worst cosine and worst absolute difference, row by row, between `got` [n, d] and `want` rows.
private func compare(_ got: Tensor, _ want: [[Float]]) -> (cosine: Double, maxDiff: Float) {
    var worstCos = 1.0, worstDiff: Float = 0
    for (i, w) in want.enumerated() {
        let g = got.select(0, i).contiguous().toArray(Float.self)
        let dot = zip(g, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        let n1 = g.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot(), n2 = w.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        worstCos = min(worstCos, g.count == w.count ? dot / max(n1 * n2, 1e-30) : -1)
        worstDiff = max(worstDiff, zip(g, w).map { abs($0 - $1) }.max() ?? .infinity)
    }
    return (worstCos, worstDiff)
}

@Suite struct SentenceEmbedderCompileTests {
    /// The tiny sentence-transformers folder (CLS pooling, max_seq_length 8) compiled: a graph per (batch, bucket),
    /// buckets capped at max_seq_length, sentence-transformers' embeddings on the traced and on the graph runs.
    @Test func tinyFolderCompiledMatchesSentenceTransformers() throws {
        let ref = try fixtureJSON("st-tiny.json")
        let sentences = try #require(ref["sentences"] as? [String])
        let want = (ref["embeddings"] as? [[NSNumber]] ?? []).map { $0.map(\.floatValue) }
        let embedder = try SentenceEmbedder(folder: packageRoot + "/Tests/Fixtures/st-tiny", compiled: true)
        #expect(embedder.isCompiled)
        for run in 0..<2 {   // the first run makes the graphs (symbolically) and runs them, the second reuses them
            let e = embedder.encode(sentences, batchSize: 2)
            let (cos, diff) = compare(e, want)
            #expect(cos >= 0.9999 && diff <= 2e-5, "run \(run): cosine \(cos), max abs diff \(diff)")
        }
        let fs = embedder.compiledFunctions
        #expect(!fs.isEmpty && fs.allSatisfy { $0.length <= 8 && $0.function.graph != nil && $0.function.graphBreak == nil },
                "\(embedder.explain())")
        #expect(embedder.explain().contains("trace: new batch shape"))
        embedder.uncompile()
        #expect(!embedder.isCompiled && embedder.compiledFunctions.isEmpty)
    }

    /// Padding to a bucket changes nothing but rounding: a compiled batch padded far beyond its longest sentence
    /// gives the eager unpadded embeddings; the cache keeps at most `maxGraphs`, dropping the least recently used.
    @Test func bucketsAndBoundedCache() throws {
        let folder = packageRoot + "/Tests/Fixtures/st-tiny"
        let ref = try fixtureJSON("st-tiny.json")
        let sentences = try #require(ref["sentences"] as? [String])
        let eager = try SentenceEmbedder(folder: folder)
        let compiled = try SentenceEmbedder(folder: folder)
        compiled.compile(lengthMultiple: 8, maxGraphs: 2)
        for batch in [1, 2, 3, 5] {
            let a = eager.encode(sentences, batchSize: batch), b = compiled.encode(sentences, batchSize: batch)
            let diff = (a - b).abs().max().item()
            #expect(diff <= 1e-5, "batch \(batch): max abs diff \(diff)")
        }
        let fs = compiled.compiledFunctions
        #expect(fs.count == 2, "\(compiled.explain())")
        #expect(fs.allSatisfy { $0.length == 8 })                        // every batch padded to the bucket
        #expect(fs.map(\.batch) == [5, 3] || fs.map(\.batch) == [3, 5] || fs.map(\.batch).contains(5))
        #expect(compiled.explain().contains("dropped the graph"))
    }

    @Test func notCompiledExplains() throws {
        let embedder = try SentenceEmbedder(folder: packageRoot + "/Tests/Fixtures/st-tiny")
        #expect(!embedder.isCompiled && embedder.explain().contains("not compiled"))
    }

    @Test func badBucketIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().path + "/Tests/Fixtures/st-tiny"
            try SentenceEmbedder(folder: folder).compile(lengthMultiple: 0)
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("SentenceEmbedder.compile") && text.contains("lengthMultiple must be positive, got 0"), "stderr: \(text)")
    }

    /// The token ids are an input of the compiled graph, read by the gather kernel: an id out of range in a later
    /// run (not the traced one) fails there, naming the id, the table size and the compiled node.
    @Test func compiledEmbeddingChecksIdsAtRunTime() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let table = Embedding(10, 4)
            let f = compile { (ids: Tensor) in table(ids) }
            _ = noGrad { f(Tensor(shape: [2, 3], data: [Int64](arrayLiteral: 1, 2, 3, 4, 5, 6))) }   // warm-up
            _ = noGrad { f(Tensor(shape: [2, 3], data: [Int64](arrayLiteral: 1, 2, 3, 4, 5, 6))) }   // traced
            _ = noGrad { f(Tensor(shape: [2, 3], data: [Int64](arrayLiteral: 1, 2, 3, 4, 5, 6))) }   // the graph
            _ = noGrad { f(Tensor(shape: [2, 3], data: [Int64](arrayLiteral: 1, 2, 3, 4, 12, 6))) }
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("index 12 is out of bounds") && text.contains("size 10") && text.contains("compiled node"), "stderr: \(text)")
    }
}

/// all-MiniLM-L6-v2 compiled: the fixture sentences give sentence-transformers' token ids and embeddings (cosine ≥
/// 0.9999, max abs diff ≤ 1e-4) on the traced run and on the compiled graphs' runs, and the whole model compiles
/// into one graph per batch shape (no graph break: the token ids are a graph input).
@Suite(.enabled(if: miniLMAvailable, "all-MiniLM-L6-v2 is not unpacked (run `make models`)"))
struct MiniLMCompileTests {
    @Test func compiledEmbeddingsMatchSentenceTransformers() throws {
        let root = try fixtureJSON("minilm.json")
        let cases = try #require(root["cases"] as? [[String: Any]])
        try #require(cases.count >= 30)
        let texts = cases.map { $0["text"] as? String ?? "" }
        let ids = cases.map { ($0["ids"] as? [NSNumber] ?? []).map(\.intValue) }
        let want = cases.map { ($0["embedding"] as? [NSNumber] ?? []).map(\.floatValue) }
        let embedder = try SentenceEmbedder(folder: miniLMFolder)
        embedder.compile()
        #expect(texts.map { embedder.tokenizer.encode($0, maxLength: embedder.maxSeqLength) } == ids)
        for run in 0..<2 {
            let e = embedder.encode(texts, batchSize: 8)
            #expect(e.shape == [cases.count, 384])
            for (i, w) in want.enumerated() {
                let (cos, diff) = compare(e.narrow(0, start: i, length: 1), [w])
                #expect(cos >= 0.9999 && diff <= 1e-4, "run \(run), \(texts[i].debugDescription): cosine \(cos), max abs diff \(diff)")
            }
        }
        let fs = embedder.compiledFunctions
        #expect(!fs.isEmpty)
        for f in fs {
            #expect(f.function.graphBreak == nil && f.function.graph != nil, "\(embedder.explain())")
            #expect(f.length % 4 == 0 || f.length == embedder.maxSeqLength)
            #expect(f.function.lastBackendCalls > 0)   // every batch ran its graph, none eagerly
        }
    }
}
