import Foundation
import NablaCLI
import Testing

/// The repository's Examples/configs folder (found from this file's path).
let configsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Examples/configs").path

@Suite struct ModelBuilderTests {
    @Test func fashionCNNHasTheW4Shapes() throws {
        let config = try TrainConfig(contentsOf: configsDir + "/fashion_cnn.yaml")
        let model = try BuiltModel(config.model)
        #expect(model.layers.map(\.kind) == ["conv2d", "relu", "max_pool2d", "conv2d", "relu", "max_pool2d", "flatten", "linear", "relu", "linear"])
        #expect(model.layers.map(\.outputShape) == [[32, 28, 28], [32, 28, 28], [32, 14, 14], [64, 14, 14], [64, 14, 14], [64, 7, 7],
                                                    [3136], [128], [128], [10]])
        #expect(model.parameterCount == 421_642)   // PyTorch's count for W4
        #expect(model.module.parameters().map(\.shape) == [[32, 1, 3, 3], [32], [64, 32, 3, 3], [64], [128, 3136], [128], [10, 128], [10]])
        let y = model.module(Tensor.randn([2, 1, 28, 28]))
        #expect(y.shape == [2, 10])
        #expect(config.solver.optimizer == "adam" && config.solver.lr == 0.001 && config.solver.batchSize == 128)
    }

    @Test func summaryText() throws {
        let config = try TrainConfig(contentsOf: configsDir + "/fashion_cnn.yaml")
        let text = try BuiltModel(config.model).summary(name: config.name)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "Model: \"fashion_cnn\"")
        #expect(lines[2].hasPrefix("Layer (type)") && lines[2].contains("Output Shape") && lines[2].hasSuffix("Param #"))
        #expect(lines.contains("0 (Conv2d)     [-1, 32, 28, 28]  320"))
        #expect(lines.contains("7 (Linear)     [-1, 128]         401536"))
        #expect(lines.suffix(3) == ["Total params: 421642", "Trainable params: 421642", "Non-trainable params: 0"])
    }

    @Test func fashionMLPIsW3() throws {
        let config = try TrainConfig(contentsOf: configsDir + "/fashion_mlp.yaml")
        let model = try BuiltModel(config.model)
        #expect(model.module.parameters().map(\.shape) == [[512, 784], [512], [256, 512], [256], [10, 256], [10]])
        #expect(config.data.validationSplit == 0.1)
    }

    @Test func otherLayers() throws {
        let text = """
        data: {dataset: fashion-mnist}
        model:
          input: [3, 16, 16]
          layers:
            - conv2d: {out_channels: 8, kernel_size: [3, 5], stride: 2, padding: same}
            - batch_norm2d
            - leaky_relu: 0.2
            - avg_pool2d: {kernel_size: 2, stride: 1}
            - dropout2d: 0.1
            - adaptive_avg_pool2d: 2
            - flatten
            - layer_norm
            - gelu: {approximate: tanh}
            - dropout: 0.5
            - linear: {out_features: 4, bias: false}
        solver: {epochs: 1}
        """
        // `padding: same` needs stride 1, as in PyTorch.
        #expect(throws: ConfigError.self) { try BuiltModel(try TrainConfig(text: text, path: "t.yaml").model) }
        let fixed = text.replacingOccurrences(of: "stride: 2, padding: same", with: "stride: 2, padding: [1, 2]")
        let model = try BuiltModel(try TrainConfig(text: fixed, path: "t.yaml").model)
        #expect(model.layers.map(\.outputShape) == [[8, 8, 8], [8, 8, 8], [8, 8, 8], [8, 7, 7], [8, 7, 7], [8, 2, 2], [32], [32], [32], [32], [4]])
        #expect(model.module(Tensor.randn([2, 3, 16, 16])).shape == [2, 4])
    }

    @Test func convPaddingMode() throws {
        func config(_ conv: String) -> String {
            """
            data: {dataset: fashion-mnist}
            model:
              input: [1, 4, 4]
              layers:
                - \(conv)
                - flatten
                - linear: 2
            solver: {epochs: 1}
            """
        }
        let model = try BuiltModel(try TrainConfig(text: config("conv2d: {out_channels: 2, kernel_size: 3, padding: 1, padding_mode: reflect}"),
                                                   path: "t.yaml").model)
        #expect(model.layers[0].outputShape == [2, 4, 4])
        #expect(model.module.description.contains("padding_mode=reflect"))
        #expect(model.module(Tensor.randn([3, 1, 4, 4])).shape == [3, 2])
        // Reflect padding must be smaller than the input (F.pad's rule), reported at the config's line.
        let tooWide = config("conv2d: {out_channels: 2, kernel_size: 9, padding: 4, padding_mode: reflect}")
        #expect(throws: ConfigError.self) { try BuiltModel(try TrainConfig(text: tooWide, path: "t.yaml").model) }
        let unknown = config("conv2d: {out_channels: 2, kernel_size: 3, padding_mode: mirror}")
        #expect(throws: ConfigError.self) { try BuiltModel(try TrainConfig(text: unknown, path: "t.yaml").model) }
    }
}
