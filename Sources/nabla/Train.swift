import ArgumentParser
import NablaCLI

/// `nabla train CONFIG.yaml [--resume] [--epochs N] [--output DIR]`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the model of a config; writes checkpoints and TensorBoard logs to the output folder.")

    @Argument(help: "The YAML config file.") var config: String
    @Flag(help: "Continue from the latest checkpoint of the output folder.") var resume = false
    @Option(help: "Train to this many epochs instead of solver.epochs.") var epochs: Int?
    @Option(help: "Output folder instead of the config's `output`.") var output: String?
    @Flag(inversion: .prefixedNo, help: "Run each training step as a compiled graph (overrides the config's `compile`).")
    var compile: Bool?

    func run() throws {
        try reportingErrors {
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be positive, got \(epochs)") }
            let cfg = try TrainConfig(contentsOf: config)
            let trainer = try Trainer(config: cfg, epochs: epochs, output: output, compile: compile)
            if trainer.isRoot { print(trainer.model.summary(name: cfg.name)) }
            let result = try trainer.run(resume: resume)
            guard trainer.isRoot else { return }   // under mpirun, rank 0 reports
            if let last = result.history.last {
                print(String(format: "Test accuracy %.2f%%, test loss %.4f after epoch %d", last.test.accuracy * 100, last.test.loss, last.epoch))
            }
            print("TensorBoard logs: \(result.logDir)  (tensorboard --logdir \(result.logDir))")
            if let ckpt = result.checkpoint { print("Checkpoint: \(ckpt)") }
            print("Weights: \(result.modelPath)")
        }
    }
}
