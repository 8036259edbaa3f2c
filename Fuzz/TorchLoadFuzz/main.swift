// libFuzzer target for the torch.save reader (zip container, tensor records, restricted unpickler):
// whatever the bytes, TorchCheckpoint.read must return or throw, never trap or overrun.
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
    _ = try? TorchCheckpoint.read(bytes, path: "fuzz.pt")
    return 0
}
