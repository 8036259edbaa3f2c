import Foundation
import NablaCLI
import NablaTestSupport
import Testing

/// Configs and run folders from outside: overflowing shapes and a `latest` pointer that leaves the folder throw.
@Suite struct CLIReliabilityTests {
    @Test(arguments: ["cfg_overflow_flatten.yaml", "cfg_overflow_relu.yaml"])
    func overflowingInputShapeThrows(name: String) {
        let e = #expect(throws: ConfigError.self) {
            let config = try TrainConfig(contentsOf: reliabilityFixture(name))
            _ = try BuiltModel(config.model)
        }
        #expect("\(e.map { "\($0)" } ?? "")".contains("ReaderLimits.maxElements"))
    }

    @Test func hugeLayersThrowBeforeAllocating() throws {
        let config = try TrainConfig(text: """
        data: {dataset: mnist, root: data}
        model: {input: [100000], layers: [{linear: 100000}]}
        solver: {epochs: 1}
        """, path: "huge.yaml")
        let e = #expect(throws: ConfigError.self) { _ = try BuiltModel(config.model) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("weight shape [100000, 100000]"))
    }

    @Test func latestCheckpointMayNotLeaveTheFolder() throws {
        let dir = NSTemporaryDirectory() + "nabla-cli-rel-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try TrainConfig(text: """
        data: {dataset: fashion-mnist, limit: 50}
        model: {input: [784], layers: [{linear: 10}]}
        solver: {epochs: 1, batch_size: 25}
        output: \(dir)/run
        """, path: "tiny.yaml")
        let trainer = try Trainer(config: config, epochs: 1, isTTY: false, log: { _ in })
        try FileManager.default.createDirectory(atPath: trainer.checkpointDir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/run/escape.safetensors", contents: Data([0]))
        for bad in ["../escape.safetensors", "/etc/passwd", ".hidden", "epoch-0001.safetensors.tmp-12-34"] {
            try AtomicFile.write(Array((bad + "\n").utf8), to: trainer.checkpointDir + "/latest")
            #expect(trainer.latestCheckpoint == nil)
            #expect(throws: TrainError.self) { _ = try trainer.latestCheckpointChecked() }
            #expect(throws: TrainError.self) { _ = try trainer.run(resume: true) }
        }
    }
}
