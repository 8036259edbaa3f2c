// libFuzzer target for the request-body decoder of `nabla serve` (Nabla's JSONValue through NablaServeCore's PredictRequest), which
// reads bytes from the network: whatever the bytes, decoding must return or throw `ServeError`, never trap, recurse
// without bound or allocate without bound. A decoded request is checked (every input holds `rows` samples) and its
// tensors read. It links Nabla and NablaServeCore only, not the HTTP stack.
//   (cd Fuzz && swift build -c release --product nabla-fuzz-serve -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
//   Fuzz/.build/release/nabla-fuzz-serve CORPUS_DIR Fuzz/Corpus/serve -max_total_time=180
import Nabla
import NablaServeCore

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// A one-input signature with fixed sizes, and a two-input one with a free size and an integer input.
let signatures = [
    ModelSignature(inputs: [TensorSignature(name: "x", dtype: .float32, shape: [-1, 2, 2])],
                   outputs: [TensorSignature(name: "y", dtype: .float32, shape: [-1, 3])]),
    ModelSignature(inputs: [TensorSignature(name: "a", dtype: .float32, shape: [-1, 2]),
                            TensorSignature(name: "ids", dtype: .int64, shape: [-1, -1])],
                   outputs: [TensorSignature(name: "y", dtype: .float32, shape: [-1, 1])]),
]

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    _ = try? JSONValue.parseRequestBody(bytes, maxDepth: 32)
    for sig in signatures {
        guard let r = try? PredictRequest.decode(bytes, signature: sig, maxDepth: 32, allowExamples: true) else { continue }
        for t in r.inputs {
            guard t.shape.first == r.rows, t.rank == sig.inputs[0].shape.count || sig.inputs.count > 1 else {
                fatalError("serve: input of shape \(t.shape) for \(r.rows) rows")
            }
            _ = t.to(.float64).toDoubleArray()
        }
        // The answer to a decoded request is written for its outputs' shapes: round-trip the first input through it.
        _ = PredictResponse.predict([r.inputs[0].to(.float32)], signature: sig, format: r.format)
    }
    return 0
}
