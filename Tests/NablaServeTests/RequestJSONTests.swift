import Foundation
import Testing
import Nabla
import NablaServe

/// Request bodies through Nabla's JSON reader (`JSONValue.parseRequestBody`): values, number typing, every kind of
/// bad JSON as a 400 naming the problem.
@Suite struct RequestJSONTests {
    func parse(_ s: String, depth: Int = 32) throws(ServeError) -> JSONValue { try JSONValue.parseRequestBody(Array(s.utf8), maxDepth: depth) }

    func message(_ s: String, depth: Int = 32) -> String? {
        do { _ = try parse(s, depth: depth); return nil } catch { #expect(error.status == 400); return error.message }
    }

    @Test func parsesValues() throws {
        let v = try parse(#" {"a": [1, -2.5, 3e2, 0.125, 1E-3], "b": true, "c": null, "d": "x\n\u00e9\ud83d\ude00"} "#)
        #expect(v["a"] == .array([.int(1), .double(-2.5), .double(300), .double(0.125), .double(0.001)]))
        #expect(v["b"] == .bool(true))
        #expect(v["c"] == .null)
        #expect(v["d"] == .string("x\né😀"))
    }

    @Test func numbersAreExact() throws {
        for text in ["0.1", "3.14159265358979", "123456789012345678901234567890", "1e-300", "2.2250738585072014e-308", "-0.000001"] {
            guard let d = try parse(text).doubleValue else { Issue.record("not a number: \(text)"); continue }
            #expect(d == Double(text)!, "\(text)")
        }
    }

    @Test func integersAreTypedAndExact() throws {
        #expect(try parse("9007199254740993") == .int(9_007_199_254_740_993))   // 2^53 + 1: not a Double
        #expect(try parse("-9223372036854775808") == .int(Int.min))
        #expect(try parse("9223372036854775808") == .double(9.223372036854775808e18))   // beyond Int: a Double
        #expect(try parse("1.0") == .double(1) && parse("1e0") == .double(1) && parse("0") == .int(0))
        #expect(try parse("-0") == .double(-0.0))
    }

    @Test(arguments: [
        ("{\"instances\": [1, 2", "truncated"), ("{\"a\": NaN}", "NaN"), ("[1e999]", "out of range"), ("[-1e400]", "out of range"),
        ("[01]", "leading zero"), ("[1,]", "unexpected character"), ("{\"a\":1,\"a\":2}", "duplicate key"), ("", "empty"),
        ("[1] x", "after the JSON value"), ("\"\\ud800\"", "surrogate"), ("[tru]", "literal"), ("[\"\u{01}\"]", "control character"),
        ("[Infinity]", "NaN and Infinity"), ("[.5]", "unexpected character"), ("[1.]", "digits after"),
    ])
    func rejectsBadJSON(_ text: String, _ expected: String) {
        let m = message(text)
        #expect(m?.contains(expected) == true, "\(text): \(m ?? "accepted")")
    }

    @Test func rejectsInvalidUTF8() {
        do { _ = try JSONValue.parseRequestBody([0x22, 0xFF, 0xFE, 0x22]); Issue.record("accepted") } catch { #expect(error.message.contains("UTF-8")) }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(message(deep)?.contains("nesting deeper than 32") == true)
        #expect(message("[[[1]]]", depth: 3) == nil)
        #expect(message("[[[[1]]]]", depth: 3)?.contains("nesting") == true)
    }

    /// Inputs `make fuzz` (target `serve`) reported, replayed: each must be refused at once. The first was a
    /// timeout under a heavily loaded machine (the limit is wall-clock) that replays in milliseconds.
    @Test(arguments: ["eyJAIjr//////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////yBbW1s2XSAgXX0="])
    func fuzzerFindingsThrow(_ base64: String) throws {
        let bytes = try #require(Data(base64Encoded: base64)).map { $0 }
        #expect(message(String(decoding: bytes, as: UTF8.self)) != nil)
        do { _ = try JSONValue.parseRequestBody(bytes); Issue.record("accepted") } catch { #expect(error.message.contains("not valid JSON")) }
    }

    @Test func garbageNeverTraps() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let n = Int.random(in: 0..<200, using: &g)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            if Bool.random(using: &g) { bytes = Array("{\"instances\": [[".utf8) + bytes }
            _ = try? JSONValue.parseRequestBody(bytes)
        }
    }
}
