import Foundation
import NablaCLI
import NablaTestSupport
import Testing

/// `--checkpoint` as the README writes it: the `latest` pointer, its folder, the run folder, or a file.
@Suite struct CheckpointPathTests {
    private func model() throws -> BuiltModel {
        let cfg = try TrainConfig(text: """
        data: {dataset: fashion-mnist}
        model: {input: [4], layers: [{linear: 3}]}
        solver: {epochs: 1}
        """, path: "small.yaml")
        return try BuiltModel(cfg.model)
    }

    /// A run folder like the trainer's: checkpoints/epoch-0001.safetensors and checkpoints/latest.
    private func runFolder() throws -> (dir: String, weights: StateDict) {
        let dir = NSTemporaryDirectory() + "nabla-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/checkpoints", withIntermediateDirectories: true)
        let source = try model()
        try Checkpoint(parts: [("model", source.module)], epoch: 1, step: 3).save(to: dir + "/checkpoints/epoch-0001.safetensors")
        try Array("epoch-0001.safetensors\n".utf8).write(to: dir + "/checkpoints/latest")
        return (dir, source.module.stateDict())
    }

    @Test func evalFollowsTheLatestPointerItsFolderAndTheRunFolder() throws {
        let (dir, weights) = try runFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for path in [dir + "/checkpoints/latest", dir + "/checkpoints", dir, dir + "/checkpoints/epoch-0001.safetensors"] {
            #expect(try resolveCheckpointPath(path) == dir + "/checkpoints/epoch-0001.safetensors")
            let target = try model()
            try loadWeights(into: target.module, from: path)
            for (name, t) in weights { #expect(allClose(target.module.stateDict()[name]!, t, rtol: 0, atol: 0).ok, "\(path): \(name)") }
        }
    }

    @Test func aPointerLeavingItsFolderOrNamingNothingIsAnError() throws {
        let (dir, _) = try runFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Array("../../etc/passwd\n".utf8).write(to: dir + "/checkpoints/latest")
        #expect(errorText { try resolveCheckpointPath(dir + "/checkpoints/latest") }.map { e in "\(e)".contains("not a file name in its folder") } == true)
        try Array("epoch-0009.safetensors\n".utf8).write(to: dir + "/checkpoints/latest")
        #expect(errorText { try resolveCheckpointPath(dir) }.map { e in "\(e)".contains("epoch-0009.safetensors does not exist") } == true)
        #expect(errorText { try resolveCheckpointPath(dir + "/nothing") }.map { e in "\(e)".contains("no such file or folder") } == true)
        try FileManager.default.removeItem(atPath: dir + "/checkpoints/latest")
        #expect(errorText { try resolveCheckpointPath(dir) }.map { e in "\(e)".contains("without a `latest` pointer") } == true)
    }

    @Test func aCSVGivenAsCheckpointSaysItIsNotSafetensors() throws {
        let dir = NSTemporaryDirectory() + "nabla-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Array("a,b,label\n1,2,0\n3,4,1\n".utf8).write(to: dir + "/data.csv")
        let m = try model()
        let e = try #require(errorText { try loadWeights(into: m.module, from: dir + "/data.csv") })
        #expect(e.contains("not a safetensors file") && e.contains("CSVDataset") && !e.contains("header length"), "\(e)")
    }
}

/// The description of the error `body` throws, or nil when it returns.
private func errorText(_ body: () throws -> Any) -> String? {
    do { _ = try body(); return nil } catch { return "\(error)" }
}

private extension Array where Element == UInt8 {
    func write(to path: String) throws { try Data(self).write(to: URL(fileURLWithPath: path)) }
}
