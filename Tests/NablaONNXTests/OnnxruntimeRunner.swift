import Foundation
import NablaONNX
import NablaTestSupport

/// Runs `Scripts/onnx_run_ort.py` (onnx.checker, then onnxruntime) on `model` with `input`; returns its output.
func runOnnxruntime(_ model: String, _ input: String) throws -> Tensor { try runOnnxruntime(model, inputs: [input]) }

/// Runs `Scripts/onnx_run_ort.py` on `model` with `inputs` (.npy files, fed in order); returns its first output.
func runOnnxruntime(_ model: String, inputs: [String]) throws -> Tensor {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let python = root.appendingPathComponent(".build/venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw ONNXError.io(path: python, reason: "missing: run `make venv` to install onnx and onnxruntime for the ONNX tests")
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-ort-\(UUID().uuidString).npy").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [root.appendingPathComponent("Scripts/onnx_run_ort.py").path, model] + inputs + [out]
    let err = Pipe()
    p.standardError = err
    p.standardOutput = Pipe()
    try p.run()
    let message = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw ONNXError.io(path: model, reason: "onnx_run_ort.py failed: \(String(decoding: message, as: UTF8.self))")
    }
    return try loadNpy(from: out)
}
