import ArgumentParser
import Nabla
import NablaCLI

/// `nabla predict CONFIG.yaml --checkpoint PATH --input FILE.npy [--output FILE.npy] [--logits]`.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the classes of the samples in a .npy file with trained weights.",
        discussion: "The input holds one sample or a batch; integer (uint8) images are scaled to [0, 1] as the datasets are.")

    @Argument(help: "The YAML config file.") var config: String
    @Option(help: "A checkpoint or weights file.") var checkpoint: String
    @Option(help: "The samples, a .npy file ([N, ...] or one sample).") var input: String
    @Option(help: "Write the predicted class indices (int64 [N]) to this .npy file.") var output: String?
    @Flag(help: "Write the model's raw outputs [N, classes] instead of class indices.") var logits = false

    func run() throws {
        try reportingErrors {
            let (_, model, data) = try loadTrained(config: config, checkpoint: checkpoint)
            let (outputs, classes) = try predict(model: model, data: data, input: try loadNpy(from: input))
            let names = data.classNames
            let ids = classes.toIntArray()
            for (i, c) in ids.prefix(20).enumerated() { print("\(i): \(c) (\(names[c]))") }
            if ids.count > 20 { print("... \(ids.count - 20) more") }
            if let output {
                try saveNpy(logits ? outputs : classes, to: output)
                print("Wrote \(logits ? "outputs" : "class indices") of \(ids.count) samples to \(output)")
            }
        }
    }
}
