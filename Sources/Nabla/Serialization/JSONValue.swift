#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed JSON document, object keys kept in document order: Nabla's one JSON reader, for safetensors headers and
/// for the request bodies of `nabla serve`.
///
/// The parser is strict (RFC 8259: no NaN or Infinity, no trailing commas, no comments, no leading zeros, valid UTF-8
/// and no lone surrogates in strings, no duplicate keys, nothing after the value) and bounded (nesting depth), so
/// hostile bytes throw a message with a byte offset and never trap. Numbers keep their type: a literal without
/// fraction or exponent that fits `Int` is `.int` (exact above 2^53: safetensors offsets, int64 ids); any other number
/// is `.double`, converted exactly (correctly rounded), and a literal beyond `Double`'s range (`1e999`) is refused.
/// ```swift
/// let v = try JSONValue.parse(Array(#"{"shape": [2, 3], "scale": 0.5}"#.utf8))
/// v["shape"]   // .array([.int(2), .int(3)])
/// v["scale"]   // .double(0.5)
/// ```
public indirect enum JSONValue: Sendable, Equatable {
    /// An object, keys in document order.
    case object([(String, JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string.
    case string(String)
    /// An integer literal (no fraction, no exponent) that fits `Int`.
    case int(Int)
    /// Any other number: a fraction, an exponent, or an integer too large for `Int`; always finite.
    case double(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// Compares two values (objects compare keys and values in order; `.int(1)` differs from `.double(1)`).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The value of `key` when this is an object holding it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    /// The value as a non-negative integer (an integer literal that fits `Int`), or nil.
    public var nonNegativeInt: Int? {
        guard case .int(let v) = self, v >= 0 else { return nil }
        return v
    }

    /// The number as a `Double` (an `.int` rounded to the nearest `Double`), or nil for other values.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: return nil
        }
    }

    /// A short name of the value's kind for messages: `object`, `array`, `string`, `number`, `bool`, `null`.
    public var kind: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .int, .double: return "number"
        case .bool: return "bool"
        case .null: return "null"
        }
    }

    /// Parses `bytes` as one JSON document.
    /// - Parameters:
    ///   - bytes: UTF-8 text.
    ///   - maxDepth: the most arrays and objects nested in one another; nil for `ReaderLimits.current.maxJSONDepth`
    ///     (the message then names that limit).
    /// - Throws: `JSONParseError` naming the problem and its byte offset: truncated, nested too deep, a number out of
    ///   range, NaN, bad UTF-8, a duplicate key, data after the value.
    public static func parse(_ bytes: [UInt8], maxDepth: Int? = nil) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONParseError) -> JSONValue in try parse(buf, maxDepth: maxDepth) }
    }

    private static func parse(_ buf: UnsafeBufferPointer<UInt8>, maxDepth: Int?) throws(JSONParseError) -> JSONValue {
        var p = JSONParser(bytes: buf, maxDepth: maxDepth ?? ReaderLimits.current.maxJSONDepth,
                           limitName: maxDepth == nil ? " (ReaderLimits.maxJSONDepth)" : "")
        p.skipSpace()
        guard p.i < buf.count else { throw p.fail("no JSON value (the text is empty)") }
        let v = try p.value(depth: 1)
        p.skipSpace()
        guard p.i == buf.count else { throw p.fail("unexpected data after the JSON value") }
        return v
    }

    /// JSON string literal for `s`, escaped as serde_json does (the Python `safetensors` writer).
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// A JSON syntax error: what is wrong and the byte offset where it was found.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong (`unterminated string (truncated JSON?)`).
    public let message: String
    /// The byte offset from the start of the text.
    public let offset: Int
    /// Creates an error.
    public init(message: String, offset: Int) { self.message = message; self.offset = offset }
    /// `message at byte offset`.
    public var description: String { "\(message) at byte \(offset)" }
}

/// The recursive-descent parser behind `JSONValue.parse`; the recursion is bounded by `maxDepth`.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    let limitName: String
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, limitName: String) {
        self.bytes = bytes; self.maxDepth = maxDepth; self.limitName = limitName
    }

    func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: i) }

    @inline(__always) mutating func skipSpace() {
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            i += 1
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let n = text.utf8CodeUnitCount
        guard bytes.count - i >= n else { throw fail("truncated literal (expected '\(text)')") }
        for k in 0..<n where bytes[i + k] != text.utf8Start[k] { throw fail("invalid literal (expected '\(text)')") }
        i += n
        return value
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of the JSON text (truncated JSON?)") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels\(limitName)") }
            i += 1
            var entries: [(String, JSONValue)] = []
            var seen = Set<String>()
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(entries) }
            while true {
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end inside an object (truncated JSON?)") }
                guard bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                guard seen.insert(key).inserted else { throw fail("duplicate key \(JSONValue.quote(key))") }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                i += 1
                skipSpace()
                entries.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end inside an object (truncated JSON?)") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(entries) }
                throw fail("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels\(limitName)") }
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end inside an array (truncated JSON?)") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "N"), UInt8(ascii: "I"): throw fail("NaN and Infinity are not JSON numbers")
        default: throw fail("unexpected character")
        }
    }

    /// Powers of ten that `Double` holds exactly.
    private static let exactPowers: [Double] = (0...22).map { (0..<$0).reduce(1.0) { r, _ in r * 10 } }

    /// A JSON number: `.int` when it is an integer literal that fits `Int`, else `.double`. The common case (at
    /// most 19 significant digits, a small exponent) is converted exactly without allocating, the rest by `strtod`.
    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0, digits = 0, exp10 = 0
        var integer: UInt64 = 0, integerOverflow = false, isInteger = true
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a number needs a digit") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw fail("a number cannot have a leading zero") }
        } else {
            while i < bytes.count, isDigit(bytes[i]) {
                let d = UInt64(bytes[i] - 0x30)
                if !integerOverflow {
                    let (m, o1) = integer.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(d)
                    if o1 || o2 { integerOverflow = true } else { integer = s }
                }
                if digits < 19 { mantissa = mantissa * 10 + d; digits += mantissa == 0 ? 0 : 1 } else { exp10 += 1 }
                i += 1
            }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a number needs digits after '.'") }
            while i < bytes.count, isDigit(bytes[i]) {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += mantissa == 0 ? 0 : 1; exp10 -= 1 }
                i += 1
            }
        }
        var explicitExp = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { expNegative = bytes[i] == UInt8(ascii: "-"); i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a number needs digits in its exponent") }
            while i < bytes.count, isDigit(bytes[i]) {
                if explicitExp < 100_000 { explicitExp = explicitExp * 10 + Int(bytes[i] - 0x30) }
                i += 1
            }
            if expNegative { explicitExp = -explicitExp }
        }
        if isInteger && !integerOverflow {
            if !negative, integer <= UInt64(Int.max) { return .int(Int(integer)) }
            if negative, integer == 0 { return .double(-0.0) }
            if negative, integer <= UInt64(Int.max) + 1 { return .int(integer == UInt64(Int.max) + 1 ? Int.min : -Int(integer)) }
        }
        let e = exp10 + explicitExp
        let value: Double
        if mantissa == 0 {
            value = 0
        } else if mantissa < (1 << 53), abs(e) <= 22 {
            let m = Double(mantissa)
            value = e >= 0 ? m * Self.exactPowers[e] : m / Self.exactPowers[-e]
        } else {
            // Rare: many digits or a large exponent. strtod reads the literal text (already checked as JSON).
            var text = [CChar](repeating: 0, count: i - start + 1)
            for k in start..<i { text[k - start] = CChar(bitPattern: bytes[k]) }
            let v = strtod(text, nil)
            guard v.isFinite else {
                throw JSONParseError(message: "the number \(String(decoding: bytes[start..<min(i, start + 40)], as: UTF8.self)) is out of range",
                                     offset: start)
            }
            return .double(v)
        }
        return .double(negative ? -value : value)
    }

    /// A JSON string (the opening quote at `i`), escapes decoded, UTF-8 checked.
    mutating func string() throws(JSONParseError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string (truncated JSON?)") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw fail("a control character inside a string") }
            if b == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { throw fail("unterminated escape (truncated JSON?)") }
                let c = bytes[i]; i += 1
                switch c {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("a lone surrogate in a \\u escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("a lone surrogate in a \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
                    out.append(contentsOf: String(u).utf8)
                default: throw fail("an invalid escape '\\\(Character(Unicode.Scalar(c)))'")
                }
                continue
            }
            out.append(b)
            i += 1
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string that is not valid UTF-8") }
        return s
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("a truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("an invalid hex digit in a \\u escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}
