// nabla-bench: Nabla's side of the benchmark workloads in Benchmarks/WORKLOADS.md.
//
//     swift run -c release nabla-bench W1 W2 W8 [--out results-nabla.json]
//
// Prints a table and writes {"meta": {...}, "results": [...]} in bench_torch.py's shape,
// so `python3 summarize.py results-torch.json results-nabla.json` shows both side by side.
import Foundation
import Nabla

let usage = "usage: nabla-bench [W1] [W2] [W2a] [W2b] [W3] [W3-keras] [W3-compiled] [W4] [W4-compiled] [W3-dynamic] [W4-dynamic] [W5] [W6] [W6-compiled] [W6-onnx] [W7] [W7-compiled] [W8] [--onnx FILE (W6-onnx)] [--b1-calls N (W6-onnx: only N batch-1 calls, for profilers)] [--epochs N (W3, W4)] [--seed N (W3, W4, W5)] [--engine mt19937|philox (W3, W4, W5)] [--trace N (W3, W4, W5)] [--out FILE]   (default: W1 W2 W8, results-nabla.json)"
var selected: [String] = []
var outPath = "results-nabla.json"
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--out":
        guard let p = args.popFirst() else { print(usage); exit(2) }
        outPath = p
    case "--epochs":
        guard let e = args.popFirst().flatMap({ Int($0) }), e > 0 else { print(usage); exit(2) }
        w4Epochs = e
        w3Epochs = e
    case "--seed":
        guard let e = args.popFirst().flatMap({ UInt64($0) }) else { print(usage); exit(2) }
        benchSeed = e
    case "--engine":
        guard let e = args.popFirst().flatMap({ RandomEngine(rawValue: $0) }) else { print(usage); exit(2) }
        benchEngine = e
    case "--trace":
        guard let e = args.popFirst().flatMap({ Int($0) }), e >= 0 else { print(usage); exit(2) }
        traceSteps = e
    case "--onnx":
        guard let p = args.popFirst() else { print(usage); exit(2) }
        w6OnnxPath = p
    case "--b1-calls":
        guard let n = args.popFirst().flatMap({ Int($0) }), n > 0 else { print(usage); exit(2) }
        w6OnnxProfileCalls = n
    case "-h", "--help":
        print(usage); exit(0)
    default:
        let w = a.uppercased()
        guard ["W1", "W2", "W2A", "W2B", "W3", "W3-KERAS", "W3-COMPILED", "W4", "W4-COMPILED", "W3-DYNAMIC", "W4-DYNAMIC", "W5", "W6", "W6-COMPILED", "W6-ONNX", "W7", "W7-COMPILED", "W8"].contains(w) else {
            FileHandle.standardError.write(Data("nabla-bench: unknown workload \(a)\n\(usage)\n".utf8)); exit(2)
        }
        selected.append(w)
    }
}
if selected.isEmpty { selected = ["W1", "W2", "W8"] }

/// One result line, JSON on stdout as bench_torch.py prints them.
func emit(_ r: [String: Any], into results: inout [[String: Any]]) {
    results.append(r)
    if let d = try? JSONSerialization.data(withJSONObject: r, options: [.sortedKeys]), let s = String(data: d, encoding: .utf8) {
        print(s)
    }
}

func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
        return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }
    return ""
}

let tStart = now()
var results: [[String: Any]] = []
if selected.contains("W1") { for r in runW1() { emit(r, into: &results) } }
if selected.contains("W2") || selected.contains("W2A") { emit(runW2a(), into: &results) }
if selected.contains("W2") || selected.contains("W2B") { emit(runW2b(), into: &results) }
if selected.contains("W3") { emit(runW3(), into: &results) }
if selected.contains("W3-KERAS") { emit(runW3Keras(), into: &results) }
if selected.contains("W3-COMPILED") { emit(runW3(compiled: true), into: &results) }
if selected.contains("W3-DYNAMIC") { emit(runW3Dynamic(), into: &results) }
if selected.contains("W4-DYNAMIC") { emit(runW4Dynamic(), into: &results) }
if selected.contains("W4-COMPILED") { emit(runW4(compiled: true).result, into: &results) }
if selected.contains("W4") {
    let w4 = runW4()
    emit(w4.result, into: &results)
    if selected.contains("W6") { emit(runW6(model: w4.model, testImages: w4.testImages, trained: true), into: &results) }
    if selected.contains("W6-COMPILED") { emit(runW6(model: w4.model, testImages: w4.testImages, trained: true, compiled: true), into: &results) }
} else {
    if selected.contains("W6") { emit(runW6Standalone(), into: &results) }
    if selected.contains("W6-COMPILED") { emit(runW6Standalone(compiled: true), into: &results) }
}
if selected.contains("W6-ONNX") { emit(runW6ONNX(), into: &results) }
if selected.contains("W5") { emit(runW5(), into: &results) }
if selected.contains("W7") { emit(runW7(), into: &results) }
if selected.contains("W7-COMPILED") { emit(runW7(compiled: true), into: &results) }
if selected.contains("W8") { emit(runW8(), into: &results) }

let formatter = ISO8601DateFormatter()
let meta: [String: Any] = [
    "when": formatter.string(from: Date()),
    "impl": "nabla",
    "threads": Parallel.threads,
    "nproc": ProcessInfo.processInfo.activeProcessorCount,
    "cpu_model": cpuModel(),
    "blas": BLASLibrary.configuration,
    "blas_core": BLASLibrary.core,
    "float32_gemm": BLASLibrary.ownFloatGemm ? "nabla-\(CPUCapability.current.rawValue.lowercased())" : "openblas",
    "cpu_capability": CPUCapability.current.rawValue,
    "blas_detected_core": BLASLibrary.detectedCore ?? BLASLibrary.core,
    "blas_thread_timeout": BLASLibrary.threadTimeout.map { "\($0) (Nabla)" }
        ?? ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "OpenBLAS default",
    "workloads": selected,
    "total_seconds": now() - tStart,
]

// Table.
func fmt(_ v: Any?) -> String {
    guard let d = v as? Double else { return v.map { "\($0)" } ?? "-" }
    return abs(d) >= 100 ? String(format: "%.0f", d) : abs(d) >= 1 ? String(format: "%.2f", d) : String(format: "%.4f", d)
}
print("")
print("| workload | what | value | unit |")
print("|---|---|---|---|")
for r in results {
    let w = r["workload"] as? String ?? "?"
    switch w {
    case "W1": print("| W1 | sgemm n=\(r["n"] ?? "?") | \(fmt(r["gflops"])) | GFLOP/s |")
    case "W2a":
        print("| W2a | y = x + 1.0 (1 elem) | \(fmt(r["us_per_op"])) | us/op |")
        print("| W2a | same under noGrad | \(fmt(r["us_per_op_under_no_grad"])) | us/op |")
    case "W2b":
        print("| W2b | 1000-op chain fwd+bwd | \(fmt(r["us_per_op_fwd_bwd"])) | us/op |")
        print("| W2b |   of which forward | \(fmt(r["us_per_op_fwd"])) | us/op |")
        print("| W2b |   of which backward | \(fmt(r["us_per_op_bwd"])) | us/op |")
    case "W3" where r["impl"] as? String == "nabla-compiled-dynamic", "W4" where r["impl"] as? String == "nabla-compiled-dynamic":
        let tr = (r["trace_seconds"] as? [Double] ?? []).map { fmt($0) }.joined(separator: ", ")
        let sp = (r["specialise_seconds"] as? [Double] ?? []).map { fmt($0) }.joined(separator: ", ")
        print("| \(w) | compiled step: traces (128, 96) | \(tr) | s |")
        print("| \(w) |   specialisations (64, 32, 7) | \(sp) | s |")
    case "W3":
        print("| W3 | MLP training (\(r["impl"] ?? "?")) | \(fmt(r["samples_per_s_median"])) | samples/s |")
        print("| W3 |   test accuracy | \(fmt(r["final_test_acc"])) | |")
    case "W4":
        print("| W4 | CNN training | \(fmt(r["samples_per_s_median"])) | samples/s |")
        print("| W4 |   test accuracy | \(fmt(r["final_test_acc"])) | |")
    case "W6":
        print("| W6 | CNN batch-1 latency | \(fmt(r["b1_latency_us_median"])) | us |")
        print("| W6 | CNN batch-256 | \(fmt(r["b256_images_per_s"])) | images/s |")
    case "W6-onnx":
        print("| W6-onnx | ONNX CNN batch-1 latency | \(fmt(r["b1_latency_us_median"])) | us |")
        print("| W6-onnx | ONNX CNN batch-256 | \(fmt(r["b256_images_per_s"])) | images/s |")
    case "W5":
        print("| W5 | LSTM training (steps 10..109) | \(fmt(r["samples_per_s_100_steps"])) | samples/s |")
        print("| W5 |   test accuracy after 1 epoch | \(fmt(r["test_acc_after_1_epoch"])) | |")
    case "W7":
        print("| W7 | Transformer layer fwd+bwd+Adam | \(fmt(r["ms_per_step_median"])) | ms/step |")
    case "W8":
        print("| W8 | scalar MLP fwd+bwd | \(fmt(r["ms_fwd_bwd_median"])) | ms |")
        print("| W8 |   per scalar op | \(fmt(r["us_per_scalar_op"])) | us/op |")
    default: break
    }
}

do {
    let doc: [String: Any] = ["meta": meta, "results": results]
    let data = try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: outPath))
    FileHandle.standardError.write(Data("# wrote \(outPath) (total \(String(format: "%.1f", now() - tStart)) s)\n".utf8))
} catch {
    FileHandle.standardError.write(Data("nabla-bench: cannot write \(outPath): \(error)\n".utf8))
    exit(1)
}
