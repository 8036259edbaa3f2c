import Foundation

/// A JSON value of a request body, parsed by `RequestJSON.parse(_:maxDepth:)`.
///
/// The parser is written for the server's bodies: strict (RFC 8259: no NaN, no trailing commas, no comments,
/// valid UTF-8 in strings, no duplicate keys), bounded (nesting depth, and a body-size limit before it), and
/// fast on long arrays of numbers, which it converts to `Double` as it reads them. It never traps, whatever the bytes.
public indirect enum RequestJSON: Sendable, Equatable {
    /// An object, keys in body order.
    case object([(String, RequestJSON)])
    /// An array.
    case array([RequestJSON])
    /// A string.
    case string(String)
    /// A number; a literal too large for `Double` (`1e999`) is refused by the parser.
    case number(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// Compares two values (objects compare keys and values in order).
    public static func == (a: RequestJSON, b: RequestJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The kind of value, for messages (`array`, `number`, ...).
    public var kind: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "bool"
        case .null: return "null"
        }
    }

    /// The value of `key` when this is an object holding it.
    public subscript(key: String) -> RequestJSON? {
        guard case .object(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    /// Parses one JSON document.
    /// - Parameters:
    ///   - bytes: the body (UTF-8).
    ///   - maxDepth: the deepest nesting of arrays and objects accepted.
    /// - Throws: `ServeError` (400) naming the problem and its byte offset: not JSON, truncated, nested too deep,
    ///   a number out of range, bad UTF-8, a duplicate key, data after the value.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(ServeError) -> RequestJSON {
        try bytes.withUnsafeBufferPointer { (buf) throws(ServeError) -> RequestJSON in
            var p = RequestJSONParser(bytes: buf, maxDepth: maxDepth)
            p.skipSpace()
            guard p.i < buf.count else { throw .badRequest("the body is empty; expected a JSON object") }
            let v = try p.value(depth: 1)
            p.skipSpace()
            guard p.i == buf.count else { throw p.fail("unexpected data after the JSON value") }
            return v
        }
    }
}

/// The recursive-descent parser behind `RequestJSON.parse`.
struct RequestJSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) { self.bytes = bytes; self.maxDepth = maxDepth }

    func fail(_ message: String) -> ServeError {
        .badRequest("the body is not valid JSON: \(message) at byte \(i)")
    }

    @inline(__always) mutating func skipSpace() {
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            i += 1
        }
    }

    mutating func literal(_ text: StaticString, _ value: RequestJSON) throws(ServeError) -> RequestJSON {
        let n = text.utf8CodeUnitCount
        guard bytes.count - i >= n else { throw fail("truncated literal") }
        for k in 0..<n where bytes[i + k] != text.utf8Start[k] { throw fail("invalid literal") }
        i += n
        return value
    }

    mutating func value(depth: Int) throws(ServeError) -> RequestJSON {
        guard i < bytes.count else { throw fail("unexpected end of the body (truncated JSON?)") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
            i += 1
            var entries: [(String, RequestJSON)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(entries) }
            while true {
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of the body inside an object (truncated JSON?)") }
                guard bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                if entries.contains(where: { $0.0 == key }) { throw fail("duplicate key \"\(key)\"") }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                i += 1
                skipSpace()
                entries.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of the body inside an object (truncated JSON?)") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(entries) }
                throw fail("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
            i += 1
            var items: [RequestJSON] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of the body inside an array (truncated JSON?)") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "N"), UInt8(ascii: "I"): throw fail("NaN and Infinity are not JSON numbers")
        default: throw fail("unexpected character")
        }
    }

    /// Powers of ten that `Double` holds exactly.
    private static let exactPowers: [Double] = (0...22).map { (0..<$0).reduce(1.0) { r, _ in r * 10 } }

    /// A JSON number; the common case (at most 19 significant digits, a small exponent) is converted exactly
    /// without allocating, the rest by `strtod`.
    mutating func number() throws(ServeError) -> Double {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0, digits = 0, exp10 = 0
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a number needs a digit") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw fail("a number cannot have a leading zero") }
        } else {
            while i < bytes.count, isDigit(bytes[i]) {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += mantissa == 0 ? 0 : 1 } else { exp10 += 1 }
                i += 1
            }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a number needs digits after '.'") }
            while i < bytes.count, isDigit(bytes[i]) {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += mantissa == 0 ? 0 : 1; exp10 -= 1 }
                i += 1
            }
        }
        var explicitExp = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
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
            guard v.isFinite else { throw fail("the number \(String(decoding: bytes[start..<min(i, start + 40)], as: UTF8.self)) is out of range") }
            return v
        }
        return negative ? -value : value
    }

    /// A JSON string (the opening quote at `i`), escapes decoded, UTF-8 checked.
    mutating func string() throws(ServeError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string (truncated JSON?)") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw fail("a control character inside a string") }
            if b == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { throw fail("unterminated escape") }
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

    mutating func hex4() throws(ServeError) -> UInt32 {
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
