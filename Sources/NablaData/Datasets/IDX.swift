
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
///
/// At most `limit` bytes are read (default `ReaderLimits.current.maxDecompressedBytes`): a file that inflates
/// to more throws `DatasetError.malformed` naming the limit, before the excess is allocated.
public func readMaybeGzip(_ path: String, limit: Int? = nil) throws(DatasetError) -> [UInt8] {
    let reader = try GzipFile(path)
    let cap = limit ?? ReaderLimits.current.maxDecompressedBytes
    let out = try reader.read(upTo: cap)
    if out.count == cap, try !reader.read(upTo: 1).isEmpty {
        throw .malformed(path: path, reason: "the file holds more than \(cap) bytes (decompressed); raise ReaderLimits.maxDecompressedBytes to read it")
    }
    return out
}

/// A file read through Nabla's gzip reader (plain files pass through unchanged), with `DatasetError`s.
final class GzipFile {
    let path: String
    private let reader: GzipReader

    init(_ path: String) throws(DatasetError) {
        do { reader = try GzipReader(path: path) } catch { throw .cannotOpen(path: path) }
        self.path = path
    }

    /// Up to `count` more bytes (fewer at the end of the data).
    func read(upTo count: Int) throws(DatasetError) -> [UInt8] {
        do { return try reader.read(upTo: count) } catch { throw .corrupt(path: path, reason: error.reason) }
    }
}

/// An IDX array (the MNIST file format): unsigned-byte data with its dimensions.
public struct IDXArray {
    /// The dimensions from the header.
    public let shape: [Int]
    /// The raw bytes, row-major.
    public let bytes: [UInt8]

    /// Reads an IDX file of unsigned bytes (`.gz` or plain); throws on a missing, truncated or malformed file.
    ///
    /// The header is read first and the data size it declares is checked against `ReaderLimits` (elements and
    /// decompressed bytes) before the data is read; bytes after the declared data are ignored.
    public init(path: String) throws(DatasetError) {
        let file = try GzipFile(path)
        let magic = try file.read(upTo: 4)
        guard magic.count >= 4 else { throw .truncated(path: path, expected: 4, got: magic.count) }
        guard magic[0] == 0, magic[1] == 0 else { throw .badHeader(path: path, reason: "magic must start with two zero bytes") }
        guard magic[2] == 0x08 else { throw .badHeader(path: path, reason: "element type 0x\(String(magic[2], radix: 16)) is not unsigned byte (0x08)") }
        let nd = Int(magic[3])
        guard nd >= 1 && nd <= 8 else { throw .badHeader(path: path, reason: "\(nd) dimensions") }
        let headerSize = 4 + 4 * nd
        let raw = try file.read(upTo: 4 * nd)
        guard raw.count == 4 * nd else { throw .truncated(path: path, expected: headerSize, got: 4 + raw.count) }
        var dims: [Int] = []
        for d in 0..<nd {
            let o = 4 * d
            dims.append(Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3]))
        }
        let limits = ReaderLimits.current
        if let problem = limits.shapeProblem(dims) { throw .badHeader(path: path, reason: "dimensions \(dims): \(problem)") }
        let total = dims.reduce(1, *)
        guard total <= limits.maxDecompressedBytes - headerSize else {
            throw .malformed(path: path, reason: "dimensions \(dims) declare \(total) bytes of data, over the limit of \(limits.maxDecompressedBytes) bytes (ReaderLimits.maxDecompressedBytes)")
        }
        let data = try file.read(upTo: total)
        guard data.count == total else { throw .truncated(path: path, expected: headerSize + total, got: headerSize + data.count) }
        shape = dims
        bytes = data
    }

    /// The data as a tensor: `float32` scaled to [0, 1] when `scale`, else `int64` values.
    public func tensor(scale: Bool) -> Tensor {
        if scale {
            return Tensor(shape: shape, data: bytes.map { Float($0) / 255 })
        }
        return Tensor(shape: shape, data: bytes.map { Int64($0) })
    }
}
