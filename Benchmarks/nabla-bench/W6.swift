// W6: W4's CNN in eval mode without autograd: batch-1 latency and batch-256 throughput (bench_torch.py's run_w6).
import Foundation
import NablaData
import NablaNN

/// Measures W6 on `model` (W4's trained CNN when W4 ran; the latency does not depend on the weights).
func runW6(model: Module, testImages: Tensor, trained: Bool, compiled: Bool = false) -> [String: Any] {
    model.eval()
    if compiled { model.compile(name: "W6") }
    defer { model.uncompile() }
    var lat: [Double] = [], tb: [Double] = []
    inferenceMode {
        for i in 0..<50 { _ = model(testImages.narrow(0, start: i, length: 1)) }
        for i in 0..<1000 {
            let x = testImages.narrow(0, start: i, length: 1)
            let t0 = now()
            _ = model(x)
            lat.append((now() - t0) * 1e6)
        }
        let xb = testImages.narrow(0, start: 0, length: 256)
        for _ in 0..<5 { _ = model(xb) }
        for _ in 0..<30 {
            let t0 = now()
            _ = model(xb)
            tb.append(now() - t0)
        }
    }
    lat.sort()
    return [
        "workload": "W6", "impl": compiled ? "nabla-compiled" : "nabla",
        "desc": "\(trained ? "trained" : "freshly initialised") W4 CNN, eval() + inferenceMode; batch-1 latency over 1000 calls; batch-256 throughput (median of 30)",
        "b1_latency_us_median": median(lat), "b1_latency_us_p10": lat[100], "b1_latency_us_p90": lat[900],
        "b256_ms_median": median(tb) * 1e3, "b256_images_per_s": 256 / median(tb), "b256_images_per_s_best": 256 / (tb.min() ?? 1),
    ]
}

/// Runs W6 on a fresh CNN (when W4 did not run in this invocation).
func runW6Standalone(compiled: Bool = false) -> [String: Any] {
    let test: FashionMNIST
    do { test = try FashionMNIST(train: false) } catch {
        FileHandle.standardError.write(Data("nabla-bench W6: \(error)\n".utf8)); exit(1)
    }
    manualSeed(0)
    return runW6(model: makeW4CNN(), testImages: test.images, trained: false, compiled: compiled)
}
