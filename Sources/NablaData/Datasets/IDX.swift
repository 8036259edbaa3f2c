import CZlib

/// Errors reading dataset files; each names the file and what was wrong.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened.
    case cannotOpen(path: String)
    /// The file ended before the header or the data were complete.
    case truncated(path: String, expected: Int, got: Int)
    /// The header is not a valid IDX header.
    case badHeader(path: String, reason: String)
    /// The gzip stream is corrupt.
    case corrupt(path: String, reason: String)
    /// The file is readable but its content is not what the reader expects.
    case malformed(path: String, reason: String)
    /// A text file (CSV) holds a value that is not a number, at 1-based `line` and `column`.
    case badValue(path: String, line: Int, column: Int, value: String, reason: String)

    /// A readable message.
    public var description: String {
        switch self {
        case .cannotOpen(let p): return "\(p): cannot open file"
        case .truncated(let p, let e, let g): return "\(p): file is truncated: expected \(e) bytes, got \(g)"
        case .badHeader(let p, let r): return "\(p): not an IDX file: \(r)"
        case .corrupt(let p, let r): return "\(p): corrupt gzip data: \(r)"
        case .malformed(let p, let r): return "\(p): \(r)"
        case .badValue(let p, let l, let c, let v, let r): return "\(p):\(l):\(c): \(r): \"\(v)\""
        }
    }
}

/// Reads a whole file, inflating it when it is gzip-compressed (zlib reads plain files unchanged).
public func readMaybeGzip(_ path: String) throws(DatasetError) -> [UInt8] {
    guard let f = gzopen(path, "rb") else { throw .cannotOpen(path: path) }
    defer { gzclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
        if n < 0 {
            var err: Int32 = 0
            let msg = gzerror(f, &err).map { String(cString: $0) } ?? "unknown error"
            throw .corrupt(path: path, reason: msg)
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<Int(n)])
    }
    return out
}

/// An IDX array (the MNIST file format): unsigned-byte data with its dimensions.
public struct IDXArray {
    /// The dimensions from the header.
    public let shape: [Int]
    /// The raw bytes, row-major.
    public let bytes: [UInt8]

    /// Reads an IDX file of unsigned bytes (`.gz` or plain); throws on a missing, truncated or malformed file.
    public init(path: String) throws(DatasetError) {
        let raw = try readMaybeGzip(path)
        guard raw.count >= 4 else { throw .truncated(path: path, expected: 4, got: raw.count) }
        guard raw[0] == 0, raw[1] == 0 else { throw .badHeader(path: path, reason: "magic must start with two zero bytes") }
        guard raw[2] == 0x08 else { throw .badHeader(path: path, reason: "element type 0x\(String(raw[2], radix: 16)) is not unsigned byte (0x08)") }
        let nd = Int(raw[3])
        guard nd >= 1 && nd <= 8 else { throw .badHeader(path: path, reason: "\(nd) dimensions") }
        let headerSize = 4 + 4 * nd
        guard raw.count >= headerSize else { throw .truncated(path: path, expected: headerSize, got: raw.count) }
        var dims: [Int] = []
        var total = 1
        for d in 0..<nd {
            let o = 4 + 4 * d
            let v = Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3])
            dims.append(v)
            let (p, overflow) = total.multipliedReportingOverflow(by: v)
            guard !overflow && p <= 1 << 40 else { throw .badHeader(path: path, reason: "dimensions \(dims) are too large") }
            total = p
        }
        guard raw.count - headerSize >= total else { throw .truncated(path: path, expected: headerSize + total, got: raw.count) }
        shape = dims
        bytes = Array(raw[headerSize..<(headerSize + total)])
    }

    /// The data as a tensor: `float32` scaled to [0, 1] when `scale`, else `int64` values.
    public func tensor(scale: Bool) -> Tensor {
        if scale {
            return Tensor(shape: shape, data: bytes.map { Float($0) / 255 })
        }
        return Tensor(shape: shape, data: bytes.map { Int64($0) })
    }
}
