// libFuzzer target for the restricted unpickler alone (no zip around it, so mutations reach the opcodes):
// whatever the bytes, TorchCheckpoint.unpickle must return or throw, never trap, recurse without bound or execute.
// Build and run: see Fuzz/TorchLoadFuzz/README.md.
import Nabla

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    _ = try? TorchCheckpoint.unpickle(bytes, path: "fuzz.pkl") { _, numel, size in
        guard numel <= 1 << 16 else { throw UnpicklingError.unsupported(path: "fuzz.pkl", reason: "large storage") }
        return [UInt8](repeating: 0, count: numel * size)
    }
    return 0
}
