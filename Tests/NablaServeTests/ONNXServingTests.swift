import Foundation
import Testing
import Nabla
import NablaONNX
import NablaServe

/// A version folder holding `model.onnx` (here the W4 CNN exported by `torch.onnx.export`) is served: metadata from
/// the file's graph inputs, predictions equal to `ONNXModel`'s.
@Suite struct ONNXServingTests {
    static let cnn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx/cnn.torchscript17.onnx").path

    @Test(.timeLimit(.minutes(1))) func anONNXVersionFolderIsServed() async throws {
        let base = TestServer.makeBase()
        try FileManager.default.createDirectory(atPath: base + "/1", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.cnn, toPath: base + "/1/model.onnx")
        let s = try await TestServer.start(base: base)
        let meta = try await s.client.get("/v1/models/m/metadata")
        #expect(meta.status == 200, "\(meta.text)")
        let image = Tensor.rand([1, 1, 28, 28], generator: Generator(seed: 2))
        let rows = (0..<28).map { r in "[" + (0..<28).map { c in "\(image[0, 0, r, c].item())" }.joined(separator: ",") + "]" }
        let body = #"{"instances": [[["# + rows.joined(separator: ",") + "]]]}"
        let r = try await s.client.post("/v1/models/m:predict", body)
        #expect(r.status == 200, "\(r.text.prefix(300))")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        let predictions = try #require(json["predictions"] as? [[Double]])
        let expected = try noGrad { try ONNXModel(path: Self.cnn).run([image])[0] }.toDoubleArray()
        #expect(predictions.count == 1 && predictions[0].count == expected.count)
        for (a, b) in zip(predictions[0], expected) { #expect(Swift.abs(a - b) <= 1e-4 * Swift.max(1, Swift.abs(b)), "\(a) vs \(b)") }
        try await s.stop()
    }
}
