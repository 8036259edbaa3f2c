import ArgumentParser
import NablaCLI

/// `nabla eval CONFIG.yaml --checkpoint PATH`.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Report the test accuracy and loss of trained weights.")

    @Argument(help: "The YAML config file.") var config: String
    @Option(help: "A checkpoint (checkpoints/epoch-N.safetensors) or weights file (model.safetensors).") var checkpoint: String

    func run() throws {
        try reportingErrors {
            let (cfg, model, data) = try loadTrained(config: config, checkpoint: checkpoint)
            let r = Trainer.evaluate(model.module, data: data, loss: cfg.solver.loss, images: data.testImages, labels: data.testLabels)
            print("\(cfg.name): \(data.testLabels.shape[0]) test samples")
            print(String(format: "test accuracy %.2f%%  test loss %.4f", r.accuracy * 100, r.loss))
        }
    }
}

/// What `eval` and `predict` start from: the config file `config`, its model holding the weights of `checkpoint`,
/// and its test data.
func loadTrained(config: String, checkpoint: String) throws -> (TrainConfig, BuiltModel, DataSource) {
    let cfg = try TrainConfig(contentsOf: config)
    let model = try BuiltModel(cfg.model)
    let data = try DataSource(config: cfg, train: false)
    try loadWeights(into: model.module, from: checkpoint)
    return (cfg, model, data)
}
