import Foundation
import Nabla
import NablaCLI
import Testing

/// `nabla graph`: a config's training step traced into one graph and written as DOT text or a Graphviz picture.
@Suite struct GraphImageTests {
    private func trainer() throws -> Trainer {
        let cfg = try TrainConfig(text: """
        name: graph
        seed: 1
        data: {dataset: fashion-mnist, limit: 64}
        model:
          input: [784]
          layers: [{linear: 16}, relu, {linear: 10}]
        solver: {optimizer: adam, lr: 0.001, epochs: 1, batch_size: 16}
        output: \(NSTemporaryDirectory())nabla-graph-unused
        """, path: "graph.yaml")
        return try Trainer(config: cfg, epochs: 1, compile: true, log: { _ in })
    }

    @Test func theTrainingStepIsOneGraphWrittenAsDotAndAsAPicture() throws {
        let g = try trainer().trainingStepGraph(batchSize: 8)
        let text = "\(g)"
        #expect(text.contains("matmul") && text.contains("optimizerStep(adam)"), "\(text)")
        #expect(g.inputs.map(\.shape) == [[8, 784], [8]])
        let dir = NSTemporaryDirectory() + "nabla-graph-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GraphImage.write(g, to: dir + "/step.dot")
        let dot = try String(contentsOfFile: dir + "/step.dot", encoding: .utf8)
        #expect(dot.hasPrefix("digraph") && dot.contains("optimizerStep"))
        // make deps installs Graphviz; the picture is a real PNG.
        try GraphImage.write(g, to: dir + "/step.png")
        let png = try #require(FileManager.default.contents(atPath: dir + "/step.png"))
        #expect(png.count > 1000 && Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(throws: TrainError.self) { try GraphImage.write(g, to: dir + "/step.jpeg") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/step.jpeg"))
    }
}
