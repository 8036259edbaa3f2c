import ArgumentParser
import NablaCLI

/// `nabla graph CONFIG.yaml --out step.png`.
struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the compiled training step of a config: forward, backward and optimizer update as one graph.",
        discussion: """
            The step is traced on the first --batch-size training samples (the config's batch size by default) and \
            optimised as `nabla train --compile` runs it. OUT ending in .png, .svg or .pdf is rendered by Graphviz's \
            `dot` (installed by `make deps`); .dot writes the Graphviz text. The text form of the graph is printed \
            with --print.
            """)

    @Argument(help: "The YAML config file.") var config: String
    @Option(help: "The picture to write (.png, .svg, .pdf or .dot).") var out: String
    @Option(help: "Samples in the traced batch (default: the config's batch size).") var batchSize: Int?
    @Flag(help: "Also print the graph as text.") var print = false

    func run() throws {
        try reportingErrors {
            let cfg = try TrainConfig(contentsOf: config)
            let trainer = try Trainer(config: cfg, epochs: 1, compile: true, log: { _ in })
            let graph = try trainer.trainingStepGraph(batchSize: batchSize)
            try GraphImage.write(graph, to: out)
            if self.print { Swift.print(graph) }
            Swift.print("Wrote the training step of \(cfg.name) to \(out): \(graph.nodes.count) nodes (\(graph.tracedNodeCount) backend calls traced), \(graph.plan.peakBytes) bytes of planned intermediates")
        }
    }
}
