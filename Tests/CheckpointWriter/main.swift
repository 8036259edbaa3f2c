// A child process for the kill test (Tests/NablaOptimTests/KillTests.swift): writes checkpoints into the folder
// given as its argument, round-robin over three names, until it is killed.
import NablaOptim
#if canImport(Glibc)
import Glibc
#endif

guard CommandLine.arguments.count == 2 else {
    print("usage: nabla-checkpoint-writer <folder>")
    exit(2)
}
let dir = CommandLine.arguments[1]
let model = Sequential(Linear(256, 256), ReLU(), Linear(256, 64))
let adam = Adam(model.parameters(), lr: 1e-3)
var i = 0
while true {
    do {
        try Checkpoint(parts: [("model", model), ("optimizer", adam)], epoch: i, step: i).save(to: dir + "/ckpt-\(i % 3).safetensors")
    } catch {
        print("nabla-checkpoint-writer: \(error)")
        exit(1)
    }
    i += 1
}
