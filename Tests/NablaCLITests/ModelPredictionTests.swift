import Foundation
import NablaCLI
import NablaKeras
import NablaTestSupport
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/onnx").path

@Suite("nabla predict --model")
struct ModelPredictionTests {
    @Test func parsesNamedAndPlainInputs() {
        #expect(parsePredictInput("x.npy") == (nil, "x.npy"))
        #expect(parsePredictInput("input_ids=ids.npy").name == "input_ids")
        #expect(parsePredictInput("input_ids=ids.npy").path == "ids.npy")
        #expect(parsePredictInput("dir/a=b.npy").name == nil)
    }

    @Test func onnxModelFirstOutputMatchesPyTorch() throws {
        let m = try PredictableModel(path: fixtures + "/cnn.torchscript17.onnx")
        let x = try loadNpy(from: fixtures + "/cnn.input.npy")
        // float64 samples are cast to the model's float32 input.
        let y = try m.firstOutput([(name: nil, value: x.to(.float64))])
        #expect(y.dtype == .float32)
        let r = allClose(y, try loadNpy(from: fixtures + "/cnn.output.npy"), rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "\(r.failure)")
        let named = try m.firstOutput([(name: "input", value: x)])
        #expect(allClose(named, y).ok)
        #expect(throws: (any Error).self) { try m.firstOutput([(name: "nope", value: x)]) }
        #expect(throws: (any Error).self) { try m.firstOutput([]) }
    }

    @Test func tokenIdsStayIntegers() throws {
        let m = try PredictableModel(path: fixtures + "/tokens.torchscript17.onnx")
        let ids = try loadNpy(from: fixtures + "/tokens.input.npy")
        #expect(ids.dtype == .int64)
        let y = try m.firstOutput([(name: nil, value: ids.to(.int32))])
        let r = allClose(y, try loadNpy(from: fixtures + "/tokens.output.npy"), rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "\(r.failure)")
    }

    @Test func savedKerasModel() throws {
        let model = NablaKeras.Sequential([Dense(4, activation: .relu, inputShape: [3]), Dense(2)])
        let x = Tensor.randn([5, 3], generator: Generator(seed: 3))
        let expected = model.predict(x)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-predict-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(path)
        let m = try PredictableModel(path: path)
        let y = try m.firstOutput([(name: nil, value: x)])
        #expect(allClose(y, expected).ok)
        #expect(throws: (any Error).self) { try m.firstOutput([(name: nil, value: Tensor.zeros([5, 4]))]) }
    }

    @Test func otherFilesAreRefused() {
        #expect(throws: (any Error).self) { try PredictableModel(path: "/tmp/model.bin") }
        #expect(throws: (any Error).self) { try PredictableModel(path: "/nonexistent/model.onnx") }
    }
}
