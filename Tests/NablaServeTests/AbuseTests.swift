import Foundation
import NablaServe
import Testing

/// Malformed and hostile requests get JSON errors; the server keeps answering well-formed ones.
@Suite(.timeLimit(.minutes(3))) struct AbuseTests {
    @Test func malformedBodies() async throws {
        let base = TestServer.makeBase()
        try TestModels.dense(base: base, version: 1)
        let s = try await TestServer.start(base: base, maxBodyBytes: 16 << 20)
        let c = s.client
        let good = #"{"instances": [[1, 2, 3, 4]]}"#
        let cases: [(String, Int, String)] = [
            (#"{"instances": [[1, 2, 3, 4]"#, 400, "truncated"),
            (#"{"instances": [[1, 2, 3]]}"#, 400, "shape [3] does not fit input x"),
            (#"{"instances": [["1", 2, 3, 4]]}"#, 400, "got a string"),
            (#"{"instances": [[true, 2, 3, 4]]}"#, 400, "got a bool"),
            (#"{"instances": "abc"}"#, 400, "must be a list"),
            (#"{"instances": [[NaN, 2, 3, 4]]}"#, 400, "NaN"),
            (#"{"instances": [[1e999, 2, 3, 4]]}"#, 400, "out of range"),
            (#"{"instances": [[1e300, 2, 3, 4]]}"#, 400, "does not fit"),
            (#"{"instances": [[1, 2, 3, 4]], "extra": 1}"#, 400, "unexpected key"),
            ("not json at all", 400, "not valid JSON"),
            ("", 400, "empty"),
            (String(repeating: "[", count: 50_000), 400, "nesting deeper"),
            ("{\"instances\": [[" + String(repeating: "1, ", count: 3) + "1]]}\u{0}", 400, "after the JSON value"),
        ]
        for (body, code, text) in cases {
            let r = try await c.post("/v1/models/m:predict", body)
            #expect(r.status == code, "\(body.prefix(60)): \(r.status) \(r.text)")
            #expect(((r.json as? [String: Any])?["error"] as? String)?.contains(text) == true, "\(body.prefix(60)): \(r.text)")
        }
        // 10 MB of garbage (under the 16 MiB limit of this server) → 400; a declared length over the limit → 413 before
        // any body is read; a chunked body that grows over the limit → 413 while it is read.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let garbage = (0..<(10 << 20)).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let r400 = try await c.request("POST", "/v1/models/m:predict", body: garbage)
        #expect(r400.status == 400, "\(r400.text)")
        let declared = try c.connect()
        try await declared.write("POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(20 << 20)\r\nConnection: close\r\n\r\n[[[")
        let r413 = try await declared.response()
        #expect(r413.status == 413 && r413.text.contains("over the limit"), "\(r413.text)")
        let chunked = try c.connect()
        try await chunked.write("POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = [UInt8](repeating: UInt8(ascii: " "), count: 1 << 20)
        for _ in 0..<20 { try await chunked.write(Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + [13, 10]) }
        try await chunked.write("0\r\n\r\n")
        let rc = try await chunked.response()
        #expect(rc.status == 413, "\(rc.text)")
        // Wrong Content-Length: longer than the body sent, then the client gives up; shorter than the body.
        let longer = try c.connect()
        try await longer.write("POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + good)
        longer.shutdownWrite()
        _ = try? await longer.response()
        let shorter = try c.connect()
        try await shorter.write("POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n" + good)
        let rs = try await shorter.response()
        #expect(rs.status == 400, "\(rs.text)")
        // Invalid HTTP.
        let junk = try c.connect()
        try await junk.write("\u{0}\u{1}GARBAGE \r\n\r\n")
        _ = try? await junk.response()
        // Still serving.
        let after = try await c.post("/v1/models/m:predict", good)
        #expect(after.status == 200, "\(after.text)")
        try await s.stop()
    }

    @Test func slowBodyTimesOut() async throws {
        let base = TestServer.makeBase()
        try TestModels.dense(base: base, version: 1)
        let s = try await TestServer.start(base: base, requestTimeout: .milliseconds(500))
        let conn = try s.client.connect()
        try await conn.write("POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inst")
        let r = try await conn.response()
        #expect(r.status == 408, "\(r.text)")
        #expect(try await s.client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#).status == 200)
        try await s.stop()
    }
}

/// Status codes collected from several threads.
final class ConcurrentCodes: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func add(_ v: Int) { lock.lock(); list.append(v); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return list }
}
