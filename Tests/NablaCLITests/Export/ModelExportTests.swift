import Foundation
import Nabla
import NablaCLI
import NablaKeras
import NablaONNX
import NablaTestSupport
import Testing

/// `nabla export`: a config model with its weights becomes a `Model.save` file that `loadModel` reads back and that
/// computes the same outputs.
@Suite struct ModelExportTests {
    static func config(_ layers: String, input: String = "[1, 6, 6]") throws -> TrainConfig {
        try TrainConfig(text: """
        name: exported
        data: {dataset: fashion-mnist}
        model: {input: \(input), layers: \(layers)}
        solver: {epochs: 1}
        """, path: "export.yaml")
    }

    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "nabla-export-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func exportedModelComputesTheConfigModel() throws {
        let cfg = try Self.config("""
        [{conv2d: {out_channels: 3, kernel_size: 3, padding: 1}}, batch_norm2d, relu, {max_pool2d: 2}, \
        {conv2d: {out_channels: 4, kernel_size: 2, stride: 1}}, gelu, {avg_pool2d: 2}, flatten, {linear: 5}, tanh, dropout, {linear: 2}]
        """)
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try BuiltModel(cfg.model)
        // Non-trivial batch-norm statistics, so a wrong mapping shows.
        noGrad {
            for (name, t) in source.module.namedBuffers() where name.hasSuffix("running_mean") { _ = t.copy_(Tensor.randn(t.shape)) }
            for (name, t) in source.module.namedBuffers() where name.hasSuffix("running_var") { _ = t.copy_(Tensor.rand(t.shape) + 0.5) }
        }
        try saveSafetensors(source.module.stateDict(), to: dir + "/weights.safetensors")

        let path = try ModelExport.export(config: cfg, checkpoint: dir + "/weights.safetensors", to: dir + "/serving/1")
        #expect(path == dir + "/serving/1/model.safetensors")
        let loaded = try loadModel(path)
        let x = Tensor.randn([3, 1, 6, 6])
        _ = source.module.eval()
        let want = noGrad { source.module(x) }
        let check = allClose(loaded.predict(x, batchSize: 3), want, rtol: 1e-4, atol: 1e-5)
        #expect(check.ok, "\(check.failure)")
        #expect(loaded.inputs[0].shape == [-1, 1, 6, 6])
    }

    @Test func outputPaths() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try ModelExport.outputPath(dir) == dir + "/model.safetensors")
        #expect(try ModelExport.outputPath(dir + "/v/2") == dir + "/v/2/model.safetensors")
        #expect(try ModelExport.outputPath(dir + "/m.safetensors") == dir + "/m.safetensors")
        #expect(try ModelExport.outputPath(dir + "/m.onnx") == dir + "/m.onnx")
        #expect(try ModelExport.outputPath(dir + "/m", format: "onnx") == dir + "/m/model.onnx")
        #expect(try ModelExport.outputPath(dir, format: "ONNX") == dir + "/model.onnx")
        #expect { try ModelExport.outputPath(dir + "/m.onnx", format: "safetensors") } throws: { "\($0)".contains("contradicts") }
        #expect { try ModelExport.outputPath(dir + "/m", format: "tflite") } throws: { "\($0)".contains("unknown export format 'tflite'") }
    }

    @Test func onnxExportRunsInONNXModel() throws {
        // leaky_relu and layer_norm have no Keras mapping but export to ONNX.
        let cfg = try Self.config("""
        [{conv2d: {out_channels: 3, kernel_size: 3, padding: 1}}, batch_norm2d, leaky_relu, {max_pool2d: 2}, flatten, \
        {linear: 5}, layer_norm, gelu, dropout, {linear: 2}]
        """)
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try BuiltModel(cfg.model)
        noGrad {
            for (name, t) in source.module.namedBuffers() where name.hasSuffix("running_mean") { _ = t.copy_(Tensor.randn(t.shape)) }
            for (name, t) in source.module.namedBuffers() where name.hasSuffix("running_var") { _ = t.copy_(Tensor.rand(t.shape) + 0.5) }
        }
        try saveSafetensors(source.module.stateDict(), to: dir + "/weights.safetensors")
        for (out, format) in [(dir + "/a.onnx", nil), (dir + "/b", "onnx")] as [(String, String?)] {
            let path = try ModelExport.export(config: cfg, checkpoint: dir + "/weights.safetensors", to: out, format: format)
            let m = try ONNXModel(path: path)
            #expect(m.inputs[0].dimensionNames.first == "batch")
            _ = source.module.eval()
            for x in [Tensor.randn([3, 1, 6, 6]), Tensor.randn([1, 1, 6, 6])] {
                let check = allClose(try noGrad { try m(x) }, noGrad { source.module(x) }, rtol: 1e-5, atol: 1e-5)
                #expect(check.ok, "\(path): \(check.failure)")
            }
        }
    }

    @Test func unsupportedLayerIsNamed() throws {
        let cfg = try Self.config("[flatten, {linear: 4}, leaky_relu, {linear: 2}]", input: "[4]")
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try saveSafetensors(try BuiltModel(cfg.model).module.stateDict(), to: dir + "/w.safetensors")
        #expect { try ModelExport.export(config: cfg, checkpoint: dir + "/w.safetensors", to: dir + "/out") } throws: {
            "\($0)".contains("layer 2 (leaky_relu) cannot be exported")
        }
    }
}
