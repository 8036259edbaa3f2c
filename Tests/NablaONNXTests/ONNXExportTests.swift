import Foundation
import NablaKeras
import NablaNN
import NablaONNX
import NablaTestSupport
import Testing

/// A fresh path in the temporary folder.
func exportPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("nabla-export-\(UUID().uuidString)-\(name)").path
}

/// Exports `model`, re-imports the file with `ONNXModel`, and compares with the model at `x` and at `other` (another
/// batch size); returns the path (the caller removes it).
@discardableResult
func exportAndCompare(_ model: NablaNN.Module, _ x: Tensor, other: Tensor, rtol: Double = 1e-5, name: String,
                      opset: Int = 17) throws -> String {
    let path = exportPath(name + ".onnx")
    _ = model.eval()
    try exportONNX(model, exampleInputs: [x], to: path, opset: opset)
    let m = try ONNXModel(path: path)
    #expect(m.inputs[0].shape?.first == .some(nil), "\(name): the batch dim is free")
    #expect(m.inputs[0].dimensionNames.first == "batch", "\(name): \(m.inputs[0])")
    for input in [x, other] {
        let expected = noGrad { model(input) }
        let got = try noGrad { try m(input) }
        let r = allClose(got, expected, rtol: rtol, atol: rtol)
        #expect(r.ok, "\(name) at batch \(input.shape[0]): \(r.failure)")
    }
    return path
}

@Suite("ONNX export: every covered model round-trips through ONNXModel at two batch sizes")
struct ONNXExportTests {
    @Test func mlp() throws {
        let path = try exportAndCompare(makeExportMLP(), Tensor.randn([4, 1, 28, 28]), other: Tensor.randn([7, 1, 28, 28]), name: "mlp")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Initializers carry the state-dict names.
        let names = Set(try ONNXModel(path: path).stateDict().map(\.0))
        #expect(names.isSuperset(of: ["1.weight", "1.bias", "3.weight", "5.bias"]), "\(names.sorted())")
    }

    @Test func mlpFloat64() throws {
        let path = try exportAndCompare(makeExportMLP(dtype: .float64), Tensor.randn([3, 1, 28, 28], dtype: .float64),
                                        other: Tensor.randn([1, 1, 28, 28], dtype: .float64), rtol: 1e-10, name: "mlp64")
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func cnn() throws {
        let path = try exportAndCompare(makeExportCNN(), Tensor.randn([2, 1, 28, 28]), other: Tensor.randn([5, 1, 28, 28]), name: "cnn")
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func lstm() throws {
        let path = try exportAndCompare(ExportLSTMNet(), Tensor.randn([3, 28, 28]), other: Tensor.randn([6, 28, 28]), rtol: 1e-4, name: "lstm")
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func transformerEncoderLayer() throws {
        let layer = TransformerEncoderLayer(dModel: 64, nhead: 4, dimFeedforward: 128, dropout: 0.1, batchFirst: true)
        let path = try exportAndCompare(layer, Tensor.randn([2, 10, 64]), other: Tensor.randn([5, 10, 64]), name: "encoder")
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func residualBlockWithBatchNorm() throws {
        let block = ExportResBlock()
        warmBatchNorm(block, input: Tensor.randn([6, 8, 12, 12]))
        let path = try exportAndCompare(block, Tensor.randn([3, 8, 12, 12]), other: Tensor.randn([1, 8, 12, 12]), name: "resblock")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let names = Set(try ONNXModel(path: path).stateDict().map(\.0))
        #expect(names.isSuperset(of: ["conv1.weight", "bn1.running_mean", "bn1.running_var", "bn2.weight"]), "\(names.sorted())")
        #expect(block.training == false)
    }

    @Test func tokenModelWithEmbeddingLayerNormAttentionDropoutGELU() throws {
        let model = ExportTokenNet()
        let ids = Tensor.randint(0, 50, [2, 9])
        let other = Tensor.randint(0, 50, [4, 9])
        let path = try exportAndCompare(model, ids, other: other, name: "tokens")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let m = try ONNXModel(path: path)
        #expect(m.inputs[0].dtype == .int64)
        #expect(Set(m.stateDict().map(\.0)).isSuperset(of: ["embed.weight", "norm.weight", "attn.in_proj_weight"]))
    }

    @Test func geluTanhAndOpset20() throws {
        let model = NablaNN.Sequential(Linear(6, 8), GELU(approximate: .tanh), Linear(8, 4), GELU())
        for opset in [17, 20] {
            let path = try exportAndCompare(model, Tensor.randn([3, 6]), other: Tensor.randn([2, 6]), name: "gelu\(opset)", opset: opset)
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    @Test func fixedBatch() throws {
        let model = makeExportMLP()
        let x = Tensor.randn([2, 1, 28, 28])
        let path = exportPath("fixed.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportONNX(model, exampleInputs: [x], to: path, dynamicBatch: false, inputNames: ["image"], outputNames: ["logits"])
        let m = try ONNXModel(path: path)
        #expect(m.inputs[0].name == "image" && m.inputs[0].shape == [2, 1, 28, 28])
        #expect(m.outputs[0].name == "logits" && m.outputs[0].shape == [2, 10])
        let r = allClose(try noGrad { try m(x) }, noGrad { model(x) })
        #expect(r.ok, "\(r.failure)")
    }

    @Test func kerasModel() throws {
        let model = NablaKeras.Sequential()
        model.add(NablaKeras.Input(shape: [12]))
        model.add(Dense(16, activation: .relu))
        model.add(NablaKeras.Dropout(0.5))
        model.add(Dense(3, activation: .softmax))
        let x = Tensor.randn([4, 12])
        let path = exportPath("keras.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportONNX(model, exampleInputs: [x], to: path)
        let m = try ONNXModel(path: path)
        for input in [x, Tensor.randn([9, 12])] {
            let r = allClose(try noGrad { try m(input) }, model.predict(input), rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
        let names = m.stateDict().map(\.0)
        #expect(names.contains { $0.hasSuffix(".kernel") }, "\(names)")
    }

    @Test func kerasFunctionalModelWithTwoInputs() throws {
        let a = NablaKeras.Input(shape: [5]), b = NablaKeras.Input(shape: [3])
        let h = Concatenate()([Dense(4, activation: .tanh)(a), b])
        let model = NablaKeras.Model(inputs: [a, b], outputs: [Dense(2)(h)])
        let path = exportPath("functional.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportONNX(model, exampleInputs: [Tensor.randn([3, 5]), Tensor.randn([3, 3])], to: path, inputNames: ["a", "b"])
        let m = try ONNXModel(path: path)
        #expect(m.inputs.map(\.name) == ["a", "b"] && m.inputs.allSatisfy { $0.dimensionNames.first == "batch" })
        for n in [3, 6] {
            let xa = Tensor.randn([n, 5]), xb = Tensor.randn([n, 3])
            let got = try #require(try noGrad { try m.run(["a": xa, "b": xb]) }["output"])
            let r = allClose(got, model.predict([xa, xb])[0], rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "batch \(n): \(r.failure)")
        }
    }

    @Test func compiledFunction() throws {
        let mlp = makeExportMLP()
        _ = mlp.eval()
        let f = compile { x in softmax(mlp(x) * 2, dim: 1) }
        let x = Tensor.randn([3, 1, 28, 28])
        let path = exportPath("compiled.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportONNX(f, exampleInputs: [x], to: path, names: mlp.namedParameters())
        let m = try ONNXModel(path: path)
        for input in [x, Tensor.randn([8, 1, 28, 28])] {
            let r = allClose(try noGrad { try m(input) }, noGrad { f(input) }, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
        #expect(m.stateDict().map(\.0).contains("1.weight"))
    }

    @Test func unexportableOpThrowsNamingTheOpAndLine() throws {
        let path = exportPath("sort.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try exportONNX(exampleInputs: [Tensor.randn([3, 5])], to: path) { xs in [xs[0].sort(dim: 1).values * 2] }
            Issue.record("sort exported")
        } catch let e as ONNXError {
            let message = "\(e)"
            #expect(message.contains("sort(dim: 1)") && message.contains("ONNXExportTests.swift:"), "\(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func badArgumentsThrow() throws {
        let path = exportPath("bad.onnx")
        #expect(throws: ONNXError.self) { try exportONNX(makeExportMLP(), exampleInputs: [Tensor.randn([2, 784])], to: path, opset: 12) }
        #expect(throws: ONNXError.self) {
            try exportONNX(makeExportMLP(), exampleInputs: [Tensor.randn([2, 784])], to: path, inputNames: ["a", "b"])
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
