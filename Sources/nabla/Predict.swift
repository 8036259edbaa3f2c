import ArgumentParser
import Nabla
import NablaCLI

/// `nabla predict CONFIG.yaml --checkpoint PATH --input FILE.npy [--output FILE.npy] [--logits]`, or
/// `nabla predict --model MODEL.onnx|MODEL.safetensors --input [NAME=]FILE.npy ... --output FILE.npy`.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with trained weights (CONFIG + --checkpoint), or run an ONNX or saved Keras model (--model).",
        discussion: """
            With CONFIG, the input holds one sample or a batch; integer (uint8) images are scaled to [0, 1] as the \
            datasets are. With --model (an .onnx file or a Model.save .safetensors file) no CONFIG is taken: each \
            input is cast to the model's input dtype (int64 token ids stay integers), `--input NAME=FILE.npy` names \
            an input (repeat it for several), and --output receives the model's first output as float32 .npy.
            """)

    @Argument(help: "The YAML config file (not with --model).") var config: String?
    @Option(help: "A checkpoint or weights file (with CONFIG).") var checkpoint: String?
    @Option(help: "An .onnx model or a .safetensors file written by Model.save (instead of CONFIG).") var model: String?
    @Option(help: "The samples, a .npy file; with --model also NAME=FILE.npy, repeated for several inputs.") var input: [String] = []
    @Option(help: "Write the predicted class indices (int64 [N]) to this .npy file; with --model the first output (float32).") var output: String?
    @Flag(help: "Write the model's raw outputs [N, classes] instead of class indices.") var logits = false

    func validate() throws {
        if model != nil {
            guard config == nil, checkpoint == nil else { throw ValidationError("--model takes no CONFIG and no --checkpoint") }
            guard !input.isEmpty else { throw ValidationError("--model needs at least one --input") }
        } else {
            guard config != nil, checkpoint != nil else { throw ValidationError("give CONFIG and --checkpoint, or --model") }
            guard input.count == 1 else { throw ValidationError("CONFIG mode takes exactly one --input") }
        }
    }

    func run() throws {
        try reportingErrors {
            if let model { return try runModel(model) }
            guard let config, let checkpoint else { return }
            let (_, model, data) = try loadTrained(config: config, checkpoint: checkpoint)
            let (outputs, classes) = try predict(model: model, data: data, input: try loadNpy(from: input[0]))
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

    /// `--model`: runs the file on the inputs and writes (or prints the shape of) its first output.
    private func runModel(_ path: String) throws {
        let m = try PredictableModel(path: path)
        let feeds = try input.map { spec in
            let (name, file) = parsePredictInput(spec)
            return (name: name, value: try loadNpy(from: file))
        }
        let y = try m.firstOutput(feeds)
        if let output {
            try saveNpy(y, to: output)
            print("Wrote the first output, float32 \(y.shape), to \(output)")
        } else {
            print(y)
        }
    }
}
