import Foundation
import Testing
import NablaCLI

/// `nabla embed` as a process on the tiny sentence-transformers fixture: `--compile` writes the eager embeddings and
/// says which graphs it compiled; a bad `--length-multiple` is refused.
@Suite(.timeLimit(.minutes(3))) struct EmbedCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `nabla` executable built beside the tests.
    static var nabla: String? {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [me.deletingLastPathComponent(), me.deletingLastPathComponent().deletingLastPathComponent()]
        candidates += ["release", "debug"].map { root.appendingPathComponent(".build/\($0)") }
        return candidates.map { $0.appendingPathComponent("nabla").path }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `nabla` with `arguments`; returns its exit status, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let nabla = try #require(nabla, "the nabla executable is not built; run swift build --build-tests")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: nabla)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func compiledEmbedWritesTheEagerEmbeddings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-embed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = Self.root.appendingPathComponent("Tests/Fixtures/st-tiny").path
        let lines = ["hello world", "the quick brown fox", "a", "jumps over the lazy dog again and again", "swift"]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/s.txt", atomically: true, encoding: .utf8)
        let eager = try Self.run(["embed", "--model", model, "--input", dir + "/s.txt", "--output", dir + "/e.npy", "--batch-size", "2"])
        #expect(eager.status == 0, "\(eager.err)")
        let compiled = try Self.run(["embed", "--model", model, "--input", dir + "/s.txt", "--output", dir + "/c.npy",
                                     "--batch-size", "2", "--compile", "--length-multiple", "4", "--explain"])
        #expect(compiled.status == 0, "\(compiled.err)")
        #expect(compiled.out.contains("Compiled 3 graphs (batch × padded length: 2×8, 2×4, 1×4)"), "\(compiled.out)")
        #expect(compiled.err.contains("trace: new batch shape"), "\(compiled.err)")
        let a = try loadNpy(from: dir + "/e.npy"), b = try loadNpy(from: dir + "/c.npy")
        #expect(a.shape == [5, 16] && b.shape == a.shape)
        #expect((a - b).abs().max().item() <= 1e-5)
    }

    @Test func badLengthMultipleIsRefused() throws {
        let model = Self.root.appendingPathComponent("Tests/Fixtures/st-tiny").path
        let r = try Self.run(["embed", "--model", model, "--input", "/dev/null", "--output", "/dev/null", "--compile", "--length-multiple", "0"])
        #expect(r.status != 0)
        #expect(r.err.contains("--length-multiple must be positive"), "\(r.err)")
    }
}
