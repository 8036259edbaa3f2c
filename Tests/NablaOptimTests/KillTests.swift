import Foundation
import Testing
import NablaOptim
import NablaTestSupport

/// SIGKILL a child process that writes checkpoints, at 20 random moments: every file under a final name loads
/// and restores, and the next save in the folder removes the temporary files the killed writes left.
@Suite struct KillTests {
    /// The helper executable, built beside the test bundle (`swift build --build-tests`).
    static func writerPath() -> String? {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [me.deletingLastPathComponent(), me.deletingLastPathComponent().deletingLastPathComponent()]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates += ["debug", "release"].map { root.appendingPathComponent(".build/\($0)") }
        return candidates.map { $0.appendingPathComponent("nabla-checkpoint-writer").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.timeLimit(.minutes(2)))
    func killedWritersLeaveLoadableCheckpointsAndNoTemporaryFiles() throws {
        let writer = try #require(Self.writerPath(), "nabla-checkpoint-writer is not built; run swift build --build-tests")
        let dir = NSTemporaryDirectory() + "nabla-kill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = Sequential(Linear(256, 256), ReLU(), Linear(256, 64))
        let adam = Adam(model.parameters(), lr: 1e-3)
        var leftovers = 0, loaded = 0
        for _ in 0..<20 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: writer)
            child.arguments = [dir]
            try child.run()
            usleep(UInt32.random(in: 20_000...250_000))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)
            leftovers += AtomicFile.temporaryFiles(in: dir).count
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
            for name in names {
                let ckpt = try Checkpoint.load(from: dir + "/" + name)
                try ckpt.restore(parts: [("model", model), ("optimizer", adam)])
                loaded += 1
            }
            try Checkpoint(parts: [("model", model), ("optimizer", adam)], epoch: 0, step: 0).save(to: dir + "/ckpt-parent.safetensors")
            #expect(AtomicFile.temporaryFiles(in: dir).isEmpty)
        }
        #expect(loaded > 0)
        print("KillTests: 20 kills, \(loaded) checkpoint loads, \(leftovers) temporary files left by killed writes (all removed)")
    }
}
