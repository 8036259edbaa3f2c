import Foundation
import NablaONNX
import Testing

@Suite("ONNX reader errors")
struct ONNXMalformedTests {
    /// The error loading `invalid/<name>` throws, as text.
    private func loadError(_ name: String) -> String {
        do {
            _ = try ONNXModel(path: ONNXFixture.path("invalid/" + name))
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func missingFile() {
        #expect(throws: ONNXError.io(path: "/nonexistent/model.onnx", reason: "no such file")) {
            try ONNXModel(path: "/nonexistent/model.onnx")
        }
    }

    @Test func garbageAndTruncatedBytes() throws {
        for bytes in [Data(), Data("not a protobuf at all".utf8), Data([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])] {
            #expect(throws: ONNXError.self) { try ONNXModel(data: bytes) }
        }
        let full = try Data(contentsOf: URL(fileURLWithPath: ONNXFixture.path("resblock.torchscript17.onnx")))
        for cut in [1, 17, full.count / 3, full.count / 2, full.count - 5] {
            #expect(throws: ONNXError.self) { try ONNXModel(data: full.prefix(cut)) }
        }
        // Flipping bytes never crashes: it loads or throws.
        var flipped = full
        for i in stride(from: 7, to: flipped.count, by: 97) { flipped[i] ^= 0x5A }
        _ = try? ONNXModel(data: flipped)
    }

    @Test func opsetOutsideTheRange() {
        #expect(loadError("opset12.onnx").contains("opset 12 is not supported"))
        #expect(loadError("opset21.onnx").contains("opset 21 is not supported"))
    }

    @Test func unsupportedOperatorNamesNodeOpTypeAndOpset() {
        let e = loadError("unsupported_op.onnx")
        #expect(e.contains("hardmax0") && e.contains("Hardmax") && e.contains("opset 17"), "\(e)")
    }

    @Test func undefinedValue() {
        let e = loadError("undefined_input.onnx")
        #expect(e.contains("relu0") && e.contains("'z'"), "\(e)")
    }

    @Test func externalDataOutsideTheFolderIsRefused() {
        let e = loadError("external_outside.onnx")
        #expect(e.contains("../outside.bin") && e.contains("relative path"), "\(e)")
    }

    @Test func initializerWithTooFewValues() {
        let e = loadError("short_initializer.onnx")
        #expect(e.contains("'w'") && e.contains("needs 6 values"), "\(e)")
    }

    @Test func badReshapeIsAnErrorNotACrash() throws {
        let m = try ONNXModel(path: ONNXFixture.path("invalid/bad_reshape.onnx"))
        do {
            _ = try m(Tensor.zeros([2, 3]))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("reshape0") && "\(error)".contains("[4, 4]"), "\(error)")
        }
    }
}
