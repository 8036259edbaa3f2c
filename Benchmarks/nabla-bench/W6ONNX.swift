// W6-onnx: W6's protocol on the PyTorch-exported W4 CNN read from an ONNX file (Scripts/bench/bench_onnxruntime.py
// is onnxruntime's side of the same measurement).
import Foundation
import NablaData
import NablaONNX

/// The ONNX file W6-onnx runs (`--onnx PATH`; default: the committed TorchScript export of the W4 CNN).
nonisolated(unsafe) var w6OnnxPath = "Tests/Fixtures/onnx/cnn.torchscript17.onnx"

/// With `--b1-calls N`: only N batch-1 calls after the warm-up and no batch 256, so that a profiler attached to the
/// whole run (`perf record`, `perf stat`, callgrind) sees the batch-1 path alone.
nonisolated(unsafe) var w6OnnxProfileCalls: Int?

/// Measures batch-1 latency (median µs over 1000 calls) and batch-256 throughput (median of 30) of the ONNX model.
func runW6ONNX() -> [String: Any] {
    let model: ONNXModel, test: FashionMNIST
    do {
        model = try ONNXModel(path: w6OnnxPath)
        test = try FashionMNIST(train: false)
    } catch {
        FileHandle.standardError.write(Data("nabla-bench W6-onnx: \(error)\n".utf8)); exit(1)
    }
    let images = test.images.reshape([-1, 1, 28, 28]).contiguous()
    func call(_ x: Tensor) {
        do { _ = try model(x) } catch { FileHandle.standardError.write(Data("nabla-bench W6-onnx: \(error)\n".utf8)); exit(1) }
    }
    var lat: [Double] = [], tb: [Double] = []
    inferenceMode {
        for i in 0..<50 { call(images.narrow(0, start: i, length: 1)) }
        for i in 0..<(w6OnnxProfileCalls ?? 1000) {
            let x = images.narrow(0, start: i % images.shape[0], length: 1)
            let t0 = now()
            call(x)
            lat.append((now() - t0) * 1e6)
        }
        if w6OnnxProfileCalls != nil { return }
        let xb = images.narrow(0, start: 0, length: 256)
        for _ in 0..<5 { call(xb) }
        for _ in 0..<30 {
            let t0 = now()
            call(xb)
            tb.append(now() - t0)
        }
    }
    lat.sort()
    if w6OnnxProfileCalls != nil {
        return ["workload": "W6-onnx", "impl": "nabla", "b1_calls": lat.count, "b1_latency_us_median": median(lat)]
    }
    return [
        "workload": "W6-onnx", "impl": "nabla",
        "desc": "W4 CNN exported by torch.onnx (\(w6OnnxPath)), ONNXModel under inferenceMode; batch-1 latency over 1000 calls; batch-256 throughput (median of 30)",
        "b1_latency_us_median": median(lat), "b1_latency_us_p10": lat[100], "b1_latency_us_p90": lat[900],
        "b256_ms_median": median(tb) * 1e3, "b256_images_per_s": 256 / median(tb), "b256_images_per_s_best": 256 / (tb.min() ?? 1),
    ]
}
