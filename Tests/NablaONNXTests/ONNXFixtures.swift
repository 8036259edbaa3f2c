import Foundation
import NablaONNX

/// One model of `Tests/Fixtures/onnx/manifest.json` (written by `Scripts/fixtures/onnx_fixtures.py`).
struct ONNXFixture: Decodable, CustomStringConvertible, Sendable {
    let name: String
    let file: String
    let exporter: String
    let opset: Int
    let input: String
    let output: String
    let rtol: Double
    let ops: [String]

    var description: String { file }

    /// `Tests/Fixtures/onnx/<relative>`.
    static func path(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/onnx").appendingPathComponent(relative).path
    }

    /// The models listed in the manifest (empty when it is missing, which the manifest test reports).
    static let all: [ONNXFixture] = {
        struct Manifest: Decodable { let models: [ONNXFixture] }
        guard let data = FileManager.default.contents(atPath: path("manifest.json")),
              let m = try? JSONDecoder().decode(Manifest.self, from: data) else { return [] }
        return m.models
    }()
}
