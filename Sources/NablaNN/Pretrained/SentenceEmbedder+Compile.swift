import Foundation

extension SentenceEmbedder {
    /// Runs every batch as a compiled graph (the whole embedding: BERT, pooling and normalisation in one graph, the
    /// token ids and mask its inputs).
    ///
    /// A graph is made for one batch shape, and batches of sentences have every length, so each batch is padded to a
    /// *length bucket*: its longest sentence rounded up to a multiple of `lengthMultiple` (at most `maxSeqLength`).
    /// The attention mask hides the padding from attention and pooling, so the embeddings equal the unpadded ones up
    /// to float rounding. Each (batch size, bucket) gets its graph from a symbolic trace (`MetaCompiledFunction`: the
    /// model's Swift code runs on probe tensors, no kernel runs), so making one costs milliseconds and its first
    /// batch already runs the graph; at most `maxGraphs` are kept, the least recently used dropped first.
    /// `explain()` lists them and why each was made or dropped.
    /// ```swift
    /// let embedder = try SentenceEmbedder(folder: ".build/models/all-MiniLM-L6-v2")
    /// embedder.compile()                           // or SentenceEmbedder(folder:, compiled: true)
    /// let e = embedder.encode(sentences)           // every batch runs a graph, made on first use of its shape
    /// print(embedder.explain())
    /// ```
    /// Calling it again starts over with an empty cache (after replacing weights' storages, say).
    public func compile(lengthMultiple: Int = 4, maxGraphs: Int = 16) {
        check(lengthMultiple > 0, "SentenceEmbedder.compile: lengthMultiple must be positive, got \(lengthMultiple)")
        check(maxGraphs > 0, "SentenceEmbedder.compile: maxGraphs must be positive, got \(maxGraphs)")
        graphs = EmbeddingGraphCache(lengthMultiple: lengthMultiple, capacity: maxGraphs)
    }

    /// Undoes `compile()`: batches run eagerly again, padded to their longest sentence.
    public func uncompile() { graphs = nil }

    /// Whether batches run as compiled graphs.
    public var isCompiled: Bool { graphs != nil }

    /// The compiled functions now cached, by (batch size, padded length), least recently used first.
    public var compiledFunctions: [(batch: Int, length: Int, function: MetaCompiledFunction)] {
        graphs?.entries ?? []
    }

    /// What compiling did: each cached graph (its signature, node count, planned bytes, compile time) and every
    /// graph made or dropped, in order; a graph break is listed with its reason and Swift line.
    public func explain() -> String {
        guard let graphs else { return "SentenceEmbedder: not compiled (call compile())" }
        return graphs.explain()
    }
}

/// The compiled functions of a `SentenceEmbedder`, one per (batch size, padded length), each from a symbolic trace,
/// bounded, least recently used dropped first.
final class EmbeddingGraphCache {
    struct Key: Hashable { let batch: Int, length: Int }

    /// Sequence lengths are padded up to a multiple of this.
    let lengthMultiple: Int
    /// The most graphs kept.
    let capacity: Int
    private var functions: [Key: MetaCompiledFunction] = [:]
    /// Keys, least recently used first.
    private var recent: [Key] = []
    private var events: [String] = []
    /// Graphs made so far, evicted ones included.
    private(set) var traced = 0
    /// Seconds spent making them.
    private(set) var compileSeconds = 0.0

    init(lengthMultiple: Int, capacity: Int) {
        self.lengthMultiple = lengthMultiple
        self.capacity = capacity
    }

    /// The bucket of a batch whose longest sequence has `longest` tokens: rounded up to `lengthMultiple`, but never
    /// above `limit` (the model's maximum, itself at least `longest`).
    func bucketLength(_ longest: Int, limit: Int) -> Int {
        let up = (longest + lengthMultiple - 1) / lengthMultiple * lengthMultiple
        return max(1, min(up, limit))
    }

    /// The compiled function for batches of `batch` sequences padded to `length`, made on first use.
    func function(batch: Int, length: Int, embedder: SentenceEmbedder) -> MetaCompiledFunction {
        let key = Key(batch: batch, length: length)
        if let f = functions[key] {
            if recent.last != key, let i = recent.firstIndex(of: key) { recent.remove(at: i); recent.append(key) }
            return f
        }
        if functions.count >= capacity, let old = recent.first {
            recent.removeFirst()
            functions[old] = nil
            events.append("dropped the graph for batch \(old.batch) × length \(old.length) (least recently used; at most \(capacity) kept)")
        }
        // A symbolic trace: no kernel runs, and this batch already runs the graph. BERT in eval mode creates no
        // state lazily, so nothing needs an eager call first.
        let specs = [TensorSpec(shape: [batch, length], dtype: .int64), TensorSpec(shape: [batch, length], dtype: .int64)]
        let f = MetaCompiledFunction(name: "SentenceEmbedder[\(batch)x\(length)]", inputs: specs) { [unowned embedder] xs in
            [embedder.embedBatch(xs[0], xs[1])]
        }
        compileSeconds += f.compileSeconds
        functions[key] = f
        recent.append(key)
        traced += 1
        events.append("trace: new batch shape \(batch) × \(length), compiled in \(String(format: "%.3f", f.compileSeconds)) s (\(functions.count) graph\(functions.count == 1 ? "" : "s") cached)")
        return f
    }

    /// The cached functions, least recently used first.
    var entries: [(batch: Int, length: Int, function: MetaCompiledFunction)] {
        recent.map { (batch: $0.batch, length: $0.length, function: functions[$0]!) }
    }

    /// Each cached graph, then the trace and eviction log.
    func explain() -> String {
        var lines = ["SentenceEmbedder compiled: lengths padded to multiples of \(lengthMultiple), \(functions.count) of at most \(capacity) graphs cached, \(traced) made in \(String(format: "%.3f", compileSeconds)) s"]
        for (b, l, f) in entries {
            lines.append("  batch \(b) × length \(l):")
            lines += f.explain().split(separator: "\n").map { "    " + $0 }
        }
        lines += events.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}
