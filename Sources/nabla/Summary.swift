import ArgumentParser
import NablaCLI

/// `nabla summary CONFIG.yaml`.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a config and print its model: layers, output shapes, parameters.")

    @Argument(help: "The YAML config file.") var config: String

    func run() throws {
        try reportingErrors {
            let cfg = try TrainConfig(contentsOf: config)
            print(try BuiltModel(cfg.model).summary(name: cfg.name))
        }
    }
}
