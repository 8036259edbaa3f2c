import ArgumentParser
import NablaCLI

/// `nabla export CONFIG.yaml --checkpoint PATH --out OUT [--format safetensors]`.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model in Model.save's format (one safetensors file with its architecture), for nabla serve, or as ONNX.",
        discussion: """
            OUT is a .safetensors file, or a folder (or a path without extension) that gets OUT/model.safetensors, \
            e.g. models/fashion_cnn/1 for a version folder of `nabla serve`. The file is read back and checked against \
            the config model before the command succeeds. The model takes the same input as the config's layers: \
            the dataset's `normalize` is not part of it. An OUT ending in .onnx, or --format onnx, writes an ONNX model \
            (opset 17, free batch dimension; a folder gets OUT/model.onnx) that onnxruntime and `nabla predict --model` run.
            """)

    @Argument(help: "The YAML config file.") var config: String
    @Option(help: "A checkpoint or weights file (runs/NAME/model.safetensors, a checkpoints/ folder, ...).") var checkpoint: String
    @Option(help: "The output file or folder.") var out: String
    @Option(help: "safetensors (the default) or onnx (the default for an OUT ending in .onnx).") var format: String?

    func run() throws {
        try reportingErrors {
            _ = try ModelExport.outputPath(out, format: format)   // a bad format fails before the config is read
            let cfg = try TrainConfig(contentsOf: config)
            let written = try ModelExport.export(config: cfg, checkpoint: checkpoint, to: out, format: format)
            print("Exported \(cfg.name) to \(written)")
            if !cfg.data.mean.isEmpty {
                print("Note: the config normalizes its data; clients send inputs already normalized as in training.")
            }
        }
    }
}
