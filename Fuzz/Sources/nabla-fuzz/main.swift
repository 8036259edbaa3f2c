// libFuzzer driver for Nabla's readers: `nabla-fuzz <target> [libFuzzer options] [corpus dirs]`.
//
// Each input is written to a scratch file and given to one reader, whose results are then used (tensors
// converted to float64 and read back), so that a reader that accepts a file it cannot represent is caught too.
// A reader may throw whatever it likes; a trap, a hang (-timeout) or a large allocation (-malloc_limit_mb) is a bug.
import Foundation
import Nabla
import NablaCLI
import NablaData
import NablaKeras
import NablaONNX
import NablaOptim

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The readers, by target name, each given the path of a file holding the input (and the same bytes, for the
/// readers of text given as a string).
let targets: [String: (String, [UInt8]) throws -> Void] = [
    "safetensors": { path, _ in
        let (state, _) = try loadSafetensorsWithMetadata(from: path)
        for (_, t) in state { touch(t) }
        let reader = try CheckpointReader(path: path)
        for n in reader.names { touch(try reader.tensor(named: n)) }
    },
    "npy": { path, _ in touch(try loadNpy(from: path)) },
    "npz": { path, _ in for (_, t) in try loadNpz(from: path) { touch(t) } },
    "idx": { path, _ in
        let a = try IDXArray(path: path)
        touch(a.tensor(scale: true))
        touch(a.tensor(scale: false))
    },
    "csv": { path, _ in
        let d = try CSVDataset(path, header: false)
        touch(d.features)
        touch(d.targets)
    },
    "cifar": { path, _ in
        let d = try CIFAR10(root: (path as NSString).deletingLastPathComponent, train: false)
        touch(d.images)
    },
    "keras": { _, bytes in
        let json = try text(bytes)
        let model = try modelFromJSON(json)
        _ = model.countParams()
    },
    "checkpoint": { path, _ in
        let model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
        let adam = Adam(model.parameters(), lr: 1e-3)
        let loader = DataLoader(TensorDataset(Tensor.zeros([4, 3]), Tensor.zeros([4])), batchSize: 2, shuffle: true)
        let parts: [(String, any Stateful)] = [("model", model), ("optimizer", adam), ("rng", Generator(seed: 1)), ("loader", loader)]
        let ckpt = try Checkpoint.load(from: path)
        let wanted = ckpt.partNames.contains("loader") ? ["loader"] : ["model", "optimizer", "rng"]
        try ckpt.restore(parts: parts.filter { wanted.contains($0.0) }, strict: false)
    },
    "onnx": { _, bytes in
        // Reading compiles the graph (constant folding runs kernels on the file's constants); then the signature
        // and the initializers are used as a caller would.
        let model = try ONNXModel(data: Data(bytes), name: "fuzz.onnx")
        _ = model.inputs.map(\.description) + model.outputs.map(\.description)
        for (_, t) in model.stateDict() { touch(t) }
    },
    "torch": { path, _ in
        // A torch.save file (zip or legacy): zip directory, CRCs, records, then the restricted unpickler.
        for (_, t) in try loadTorch(from: path) { touch(t) }
    },
    "pickle": { _, bytes in
        // The restricted unpickler alone (no zip around it, so mutations reach the opcodes); storages read as zeros.
        let value = try TorchCheckpoint.unpickle(bytes, path: "fuzz.pkl") { _, numel, size in
            guard numel <= 1 << 16 else { throw UnpicklingError.unsupported(path: "fuzz.pkl", reason: "large storage") }
            return [UInt8](repeating: 0, count: numel * size)
        }
        for (_, t) in value.flattened() { touch(t) }
    },
    "config": { _, bytes in
        let config = try TrainConfig(text: try text(bytes), path: "fuzz.yaml")
        let model = try BuiltModel(config.model)
        _ = model.summary(name: "fuzz")
    },
]

struct NotUTF8: Error {}

/// The input as UTF-8 text. (Not read back from the file: Foundation's file reading leaks a 4 KB buffer on empty or
/// invalid input, which LeakSanitizer reports as a failure of the target.)
func text(_ bytes: [UInt8]) throws -> String {
    guard let s = String(validating: bytes, as: UTF8.self) else { throw NotUTF8() }
    return s
}

/// Uses a tensor the way a caller would: converts it and reads every element.
func touch(_ t: Tensor) {
    _ = t.to(.float64).toDoubleArray()
    _ = t.contiguous().count
}

/// Scratch file names, per target (the CIFAR reader wants its own file name in a folder of its own).
func scratchPath(_ target: String) -> String {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = "\(base)/nabla-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    switch target {
    case "cifar": return dir + "/test_batch.bin"
    case "npz": return dir + "/input.npz"
    case "npy": return dir + "/input.npy"
    default: return dir + "/input"
    }
}

var arguments = CommandLine.arguments
guard arguments.count >= 2, let reader = targets[arguments[1]] else {
    FileHandle.standardError.write(Data("usage: nabla-fuzz <\(targets.keys.sorted().joined(separator: "|"))> [libFuzzer options] [corpus...]\n".utf8))
    exit(2)
}
let targetName = arguments.remove(at: 1)
nonisolated(unsafe) let currentReader = reader
nonisolated(unsafe) let currentPath = scratchPath(targetName)

// `nabla-fuzz <target> --replay file...`: runs the files through the reader once each and prints what it said.
if arguments.count >= 2, arguments[1] == "--replay" {
    for file in arguments.dropFirst(2) {
        let bytes = FileManager.default.contents(atPath: file).map { [UInt8]($0) } ?? []
        do { try currentReader(file, bytes); print("\(file): accepted") } catch { print("\(file): \(error)") }
    }
    exit(0)
}

var argc = Int32(arguments.count)
var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
let status = cArgs.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let bytes = data.map { UnsafeBufferPointer(start: $0, count: size) } ?? UnsafeBufferPointer(start: nil, count: 0)
        guard FileManager.default.createFile(atPath: currentPath, contents: Data(buffer: bytes)) else { return 0 }
        _ = try? currentReader(currentPath, Array(bytes))
        return 0
    }
}
exit(status)
