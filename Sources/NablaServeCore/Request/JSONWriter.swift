/// Appends JSON text to a byte buffer: the responses of the server are written with it, numbers in Swift's
/// shortest round-trip form, non-finite numbers as `null` (JSON has no NaN or infinity).
public struct JSONWriter: Sendable {
    /// The JSON written so far (UTF-8).
    public var bytes: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Appends `text` as it is.
    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Appends `s` as a JSON string literal.
    public mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for u in s.unicodeScalars {
            switch u {
            case "\"": raw("\\\"")
            case "\\": raw("\\\\")
            case "\n": raw("\\n")
            case "\r": raw("\\r")
            case "\t": raw("\\t")
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    bytes.append(contentsOf: String(u).utf8)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a number (`null` when not finite).
    public mutating func number(_ v: Float) {
        guard v.isFinite else { raw("null"); return }
        if v == v.rounded(), abs(v) < 1e15 { raw(String(Int64(v))); return }
        raw(v.description)
    }

    /// Appends a number (`null` when not finite).
    public mutating func number(_ v: Double) {
        guard v.isFinite else { raw("null"); return }
        raw(v.description)
    }

    /// Appends an integer.
    public mutating func number(_ v: Int64) { raw(String(v)) }
}
