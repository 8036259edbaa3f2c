import ArgumentParser
import Foundation
import NablaCLI

/// `nabla demo`: two epochs of the Fashion-MNIST CNN of Examples/configs/fashion_cnn.yaml. One epoch lands at about
/// 88.0% test accuracy, on the line that the demo must clear, so any change of float rounding order could tip it
/// either way; the second epoch brings it to about 88.8%.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the Fashion-MNIST CNN (Examples/configs/fashion_cnn.yaml) for two epochs and report its test accuracy.")

    @Option(help: "The config to train.") var config = "Examples/configs/fashion_cnn.yaml"
    @Option(help: "Epochs to train.") var epochs = 2
    @Option(help: "Output folder.") var output = "runs/demo"

    func run() throws {
        try reportingErrors {
            guard FileManager.default.fileExists(atPath: config) else {
                throw TrainError("\(config) not found: run `nabla demo` from the root of the Nabla repository (or pass --config)")
            }
            let cfg = try TrainConfig(contentsOf: config)
            print("Nabla demo: training \(config) on Fashion-MNIST (\(epochs) epoch\(epochs == 1 ? "" : "s"))\n")
            let trainer = try Trainer(config: cfg, epochs: epochs, output: output)
            print(trainer.model.summary(name: cfg.name) + "\n")
            let t0 = Date()
            let result = try trainer.run()
            let seconds = Date().timeIntervalSince(t0)
            guard let last = result.history.last else { return }
            print(String(format: "\nTest accuracy: %.2f%% (%d test images), test loss %.4f; trained in %.1f s",
                         last.test.accuracy * 100, trainer.data.testLabels.shape[0], last.test.loss, seconds))
            print("TensorBoard logs: \(result.logDir)   view them with: tensorboard --logdir \(result.logDir)")
            if let ckpt = result.checkpoint { print("Checkpoint:       \(ckpt)   (resume with: nabla train \(config) --output \(output) --resume)") }
            print("Weights:          \(result.modelPath)   (evaluate with: nabla eval \(config) --checkpoint \(result.modelPath))")
        }
    }
}
