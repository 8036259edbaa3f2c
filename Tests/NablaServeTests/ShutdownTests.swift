import Foundation
import NablaServe
import Testing

/// `nabla serve` as a process: it prints its address once ready (running with two malloc arenas), and SIGTERM with a
/// request in flight lets that request finish and exits 0.
@Suite(.timeLimit(.minutes(3))) struct ShutdownTests {
    /// The `nabla` executable built beside the tests.
    static var nabla: String? {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [me.deletingLastPathComponent(), me.deletingLastPathComponent().deletingLastPathComponent()]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates += ["release", "debug"].map { root.appendingPathComponent(".build/\($0)") }
        return candidates.map { $0.appendingPathComponent("nabla").path }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func sigtermFinishesInFlightRequestsAndExitsZero() async throws {
        let nabla = try #require(Self.nabla, "the nabla executable is not built; run swift build --build-tests")
        let base = TestServer.makeBase()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try TestModels.dense(base: base, version: 1)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: nabla)
        p.arguments = ["serve", "--model-name", "m", "--model-base-path", base, "--rest-api-port", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate(); kill(p.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: killer)
        defer { killer.cancel() }

        // "Serving m version 1 on http://127.0.0.1:PORT"
        let reader = out.fileHandleForReading
        let line = try await offPool { () -> String in
            var line = ""
            while !line.contains("\n") {
                let d = reader.availableData
                if d.isEmpty { break }
                line += String(decoding: d, as: UTF8.self)
            }
            return line
        }
        #expect(line.hasPrefix("Serving m version 1 on http://127.0.0.1:"), "\(line)")
        #if os(Linux)
        let mine = ProcessInfo.processInfo.environment
        if mine["MALLOC_ARENA_MAX"] == nil && !(mine["GLIBC_TUNABLES"] ?? "").contains("arena_max") {
            // The server re-executed itself with glibc capped at two malloc arenas (docs/serving.md, "Memory").
            let env = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(p.processIdentifier)/environ"))
            #expect(env.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "MALLOC_ARENA_MAX=2" })
        }
        #endif
        let port = try #require(Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let client = HTTPTestClient(port: port)
        #expect(try await client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#).status == 200)

        // A request in flight: headers and half of the body sent.
        let body = Array(#"{"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]}"#.utf8)
        let conn = try client.connect()
        try await conn.write("POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
        try await conn.write(Array(body[0..<10]))
        try await Task.sleep(for: .milliseconds(300))
        kill(p.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        try await conn.write(Array(body[10...]))
        let r = try await conn.response()
        #expect(r.status == 200, "\(r.text)")
        #expect(floats2D((r.json as? [String: Any])?["predictions"])?.count == 2)

        // Then the process ends by itself, with status 0, and accepts no new connection.
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning)
        if !p.isRunning {
            #expect(p.terminationReason == .exit && p.terminationStatus == 0, "status \(p.terminationStatus)")
        }
        #expect((try? await client.get("/healthz"))?.status == nil, "a connection was accepted after the shutdown")
    }
}
