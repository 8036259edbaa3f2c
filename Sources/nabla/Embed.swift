import ArgumentParser
import Foundation
import NablaCLI

/// `nabla embed --model DIR --input sentences.txt --output emb.npy`: sentence embeddings as a float32 array.
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed each line of a text file with a sentence-transformers model; write a float32 [n, dim] .npy.")

    @Option(help: "A sentence-transformers model folder.") var model: String
    @Option(help: "A UTF-8 text file, one sentence per line.") var input: String
    @Option(help: "The .npy file to write.") var output: String
    @Option(help: "Sentences per forward pass.") var batchSize: Int = 32
    @Flag(help: "Run each batch as a compiled graph (batches padded to a length bucket, one graph per batch size and bucket, made by a symbolic trace).") var compile = false
    @Option(help: "With --compile: pad batches to lengths in multiples of this.") var lengthMultiple: Int = 4
    @Flag(help: "With --compile: print the compiled graphs and why each was traced (to standard error).") var explain = false

    func run() throws {
        try reportingErrors {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
            guard lengthMultiple > 0 else { throw ValidationError("--length-multiple must be positive") }
            let embedder = try SentenceEmbedder(folder: model)
            if compile { embedder.compile(lengthMultiple: lengthMultiple) }
            let lines = try TextCommands.readLines(input)
            let clock = ContinuousClock()
            let start = clock.now
            let e = embedder.encode(lines, batchSize: batchSize)
            let d = clock.now - start
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            try saveNpy(e, to: output)
            print("Wrote \(e.shape[0]) embeddings of dimension \(embedder.dimension) to \(output)")
            print(String(format: "Encoded in %.3f s (%.1f sentences/s)", seconds, Double(e.shape[0]) / max(seconds, 1e-9)))
            if compile {
                let fs = embedder.compiledFunctions
                print("Compiled \(fs.count) graph\(fs.count == 1 ? "" : "s") (batch × padded length: "
                      + fs.map { "\($0.batch)×\($0.length)" }.joined(separator: ", ")
                      + String(format: "), compile time %.3f s", fs.map(\.function.compileSeconds).reduce(0, +)))
                if explain { FileHandle.standardError.write(Data((embedder.explain() + "\n").utf8)) }
            }
        }
    }
}
