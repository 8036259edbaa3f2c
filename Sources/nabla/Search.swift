import Foundation
import ArgumentParser
import NablaCLI

/// `nabla search --model DIR --corpus corpus.txt "query"`: the corpus lines closest to the query.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the lines of a corpus most similar to a query (cosine of sentence embeddings).")

    @Option(help: "A sentence-transformers model folder.") var model: String
    @Option(help: "A UTF-8 text file, one document per line.") var corpus: String
    @Option(name: .short, help: "How many lines to print.") var k: Int = 5
    @Argument(help: "The query.") var query: String

    func run() throws {
        try reportingErrors {
            guard k > 0 else { throw ValidationError("-k must be positive") }
            let embedder = try SentenceEmbedder(folder: model)
            let hits = TextCommands.search(query, corpus: try TextCommands.readLines(corpus), embedder: embedder, k: k)
            for h in hits { print(String(format: "%.4f", h.score) + "\t" + h.text) }
        }
    }
}
