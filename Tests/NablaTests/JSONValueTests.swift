import Nabla
import Testing

/// Nabla's one JSON reader (`JSONValue`), as the safetensors header reader uses it: typed numbers, the default depth
/// limit from `ReaderLimits`, errors with offsets, and `quote` round trips.
@Suite struct JSONValueTests {
    func parse(_ s: String, maxDepth: Int? = nil) throws(JSONParseError) -> JSONValue { try JSONValue.parse(Array(s.utf8), maxDepth: maxDepth) }

    @Test func offsetsAbove2To53StayExactAndHugeIntegersAreNotOffsets() throws {
        let v = try parse(#"{"data_offsets": [9007199254740993, 18446744073709551616], "shape": [-1, 2.0, 3]}"#)
        guard case .array(let offs)? = v["data_offsets"], case .array(let dims)? = v["shape"] else { Issue.record("\(v)"); return }
        #expect(offs[0].nonNegativeInt == 9_007_199_254_740_993)
        #expect(offs[1].nonNegativeInt == nil && offs[1] == .double(18_446_744_073_709_551_616))
        #expect(dims.map(\.nonNegativeInt) == [nil, nil, 3])
        #expect(dims.map(\.kind) == ["number", "number", "number"])
    }

    @Test func theDefaultDepthIsReaderLimitsAndNamesIt() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let e = #expect(throws: JSONParseError.self) { try parse(deep) }
        #expect(e?.description.contains("nesting deeper than 64 levels (ReaderLimits.maxJSONDepth)") == true, "\(String(describing: e))")
        #expect(e?.offset == 64)
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try parse(ok) }
        try ReaderLimits.with(ReaderLimits(maxJSONDepth: 100)) { _ = try parse(deep) }
        let own = #expect(throws: JSONParseError.self) { try parse("[[1]]", maxDepth: 1) }
        #expect(own?.message == "nesting deeper than 1 levels")
    }

    @Test(arguments: ["", "   ", "[1, 2", "{\"a\": NaN}", "[1e400]", "[-1e999]", "[01]", "{\"a\": 1, \"a\": 2}", "[1] 2", "\"\\udc00\"", "[+1]"])
    func badTextThrows(_ text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func quoteRoundTrips() throws {
        for s in ["plain", "quote \" and \\ back", "tab\tnew\nline\u{01}", "é😀"] {
            #expect(try parse(JSONValue.quote(s)) == .string(s))
        }
    }
}
