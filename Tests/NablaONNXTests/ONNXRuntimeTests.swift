import Foundation
import NablaONNX
import NablaTestSupport
import Testing

@Suite("ONNX models in onnxruntime (the .build/venv that `make venv` creates)")
struct ONNXRuntimeTests {
    @Test(arguments: ["cnn.torchscript17.onnx", "encoder.dynamo18.onnx"])
    func nablaMatchesOnnxruntime(_ file: String) throws {
        let f = try #require(ONNXFixture.all.first { $0.file == file })
        let model = ONNXFixture.path(file), input = ONNXFixture.path(f.input)
        let expected = try runOnnxruntime(model, input)
        let m = try ONNXModel(path: model)
        let y = try noGrad { try m(try loadNpy(from: input)) }
        let r = allClose(y, expected, rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "\(file): \(r.failure)")
    }
}
