import Foundation
import NablaServe
import Testing

/// New versions are loaded in the background and swapped in without failing a request; bad versions are reported.
@Suite(.timeLimit(.minutes(3))) struct VersionTests {
    @Test func swapUnderLoadFailsNoRequest() async throws {
        let base = TestServer.makeBase()
        try TestModels.dense(base: base, version: 1, units: 3)
        let s = try await TestServer.start(base: base, pollInterval: .milliseconds(20))
        let stop = ConcurrentFlag()
        let codes = ConcurrentCodes()
        let widths = ConcurrentCodes()
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                while !stop.isSet {
                    let r = try? s.client.postSync("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#)
                    codes.add(r?.status ?? -1)
                    if let p = floats2D((r?.json as? [String: Any])?["predictions"]) { widths.add(p.first?.count ?? -1) }
                }
                group.leave()
            }
        }
        // Until version 1 has answered (bounded: a loaded machine may take seconds for the first requests).
        for _ in 0..<600 where !widths.values.contains(3) { try await Task.sleep(for: .milliseconds(50)) }
        try TestModels.dense(base: base, version: 2, units: 5)   // a version with another output width
        var swapped = false
        for _ in 0..<400 where !swapped {
            try await Task.sleep(for: .milliseconds(25))
            swapped = s.server.servingVersion == 2
        }
        // Until version 2 has answered too (bounded).
        for _ in 0..<600 where !widths.values.contains(5) { try await Task.sleep(for: .milliseconds(50)) }
        stop.set()
        _ = try await offPool { group.wait() }
        #expect(swapped)
        let all = codes.values
        #expect(!all.isEmpty && all.allSatisfy { $0 == 200 }, "\(all.filter { $0 != 200 }.count) of \(all.count) requests failed")
        #expect(Set(widths.values) == [3, 5], "outputs seen: \(Set(widths.values))")
        let status = try await s.client.get("/v1/models/m").text
        #expect(status.contains("{\"version\": \"2\", \"state\": \"AVAILABLE\""), "\(status)")
        #expect(status.contains("{\"version\": \"1\", \"state\": \"END\""), "\(status)")
        try await s.stop()
    }

    @Test func badVersionIsReportedAndOldKeepsServing() async throws {
        let base = TestServer.makeBase()
        try TestModels.dense(base: base, version: 1)
        let s = try await TestServer.start(base: base, pollInterval: .milliseconds(20))
        try FileManager.default.createDirectory(atPath: base + "/2", withIntermediateDirectories: true)
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: base + "/2/model.safetensors"))
        var reported = ""
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(25))
            reported = try await s.client.get("/v1/models/m/versions/2").text
            if reported.contains("END") { break }
        }
        #expect(reported.contains("\"state\": \"END\"") && reported.contains("\"error_code\": \"UNKNOWN\""), "\(reported)")
        #expect(s.server.servingVersion == 1)
        #expect(try await s.client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#).status == 200)
        // A malformed ONNX file is reported too, and the old version keeps serving.
        try FileManager.default.createDirectory(atPath: base + "/3", withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: base + "/3/model.onnx"))
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(25))
            reported = try await s.client.get("/v1/models/m/versions/3").text
            if reported.contains("END") { break }
        }
        #expect(reported.contains("\"state\": \"END\"") && reported.contains("model.onnx"), "\(reported)")
        #expect(s.server.servingVersion == 1)
        try await s.stop()
    }
}

/// A flag set once from any thread.
final class ConcurrentFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
