// Telling a tensor file's format from its first bytes, so that `load(from:)` can say "this is not a safetensors
// file" instead of reporting a header length read from the bytes of a CSV row or a pointer file.

/// The format a file's first bytes name.
enum SniffedFormat: Equatable {
    /// An 8-byte little-endian header length within safetensors' limit, followed by `{`.
    case safetensors
    /// NumPy's `\x93NUMPY` magic.
    case npy
    /// A zip archive (`PK\x03\x04`, or `PK\x05\x06` for an empty one): `.npz`.
    case npz
    /// Text: `firstLine` is its first line (at most 80 characters).
    case text(firstLine: String)
    /// None of these.
    case unknown
}

/// The formats `load(from:)` reads, for messages.
let loadableFormats = "safetensors (.safetensors, or any other extension), NumPy .npy and .npz"

/// Reads the first bytes of `file` and names its format (never throws for short files: they are `.unknown`/text).
func sniffFormat(_ file: ReadableFile) throws(SerializationError) -> SniffedFormat {
    let head = try file.bytes(at: 0, count: min(file.size, 256), what: "the first bytes")
    if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
    if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .npz }
    if head.count >= 9 {
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(head[i]) }
        // A plausible length then `{`: safetensors, perhaps truncated (the reader then says so).
        if n >= 2, n <= UInt64(SafetensorsHeader.maxHeaderSize), head[8] == UInt8(ascii: "{") { return .safetensors }
    }
    // Text: no NUL and valid UTF-8 in the bytes read (a cut multi-byte character at the end is allowed).
    let printable = head.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || $0 >= 32 }
    if !head.isEmpty, printable {
        let text = String(decoding: head, as: UTF8.self)
        let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        return .text(firstLine: String(line.prefix(80)))
    }
    return .unknown
}

/// Throws a `SerializationError.invalidRequest` that says `file` is not a safetensors file, what it looks like,
/// and which formats `load(from:)` reads; returns when the first bytes are a plausible safetensors header.
func requireSafetensors(_ file: ReadableFile) throws(SerializationError) {
    let path = file.path
    let ext = fileExtension(path)
    func fail(_ what: String) -> SerializationError {
        .invalidRequest(path: path, reason: "not a safetensors file (\(what)); load(from:) reads \(loadableFormats)")
    }
    let csvHint = "a .\(ext) table is text; read it with NablaData's CSVDataset"
    guard file.size >= 9 else {
        throw fail(["csv", "tsv"].contains(ext) ? csvHint : "\(file.size) bytes, too short for the 8-byte header length and a JSON header")
    }
    let format = try sniffFormat(file)
    if format != .safetensors, ["pt", "pth", "bin", "ckpt", "pkl"].contains(ext) {
        throw fail("a .\(ext) file written by torch.save is a pickle (or a zip of one), not safetensors")
    }
    switch format {
    case .safetensors: return
    case .npy: throw fail("it starts with NumPy's .npy magic: give it the .npy extension or call loadNpy(from:)")
    case .npz: throw fail("it is a zip archive: give it the .npz extension or call loadNpz(from:)")
    case .text(let line):
        var what = "it is text"
        switch ext {
        case "csv", "tsv": what = csvHint
        case "json", "yaml", "yml", "txt": what = "a .\(ext) file is text"
        default:
            let trimmed = line.trimmed(of: " \t")
            if !trimmed.isEmpty, !trimmed.contains(" "), trimmed.count < 256, !trimmed.contains(",") {
                what = "it is a one-line text file naming '\(trimmed)', like the `latest` pointer of a checkpoints folder: "
                    + "load the file it names"
            } else {
                what = "it is text starting with \"\(line.prefix(40))\""
            }
        }
        throw fail(what)
    case .unknown:
        throw fail("its first 8 bytes and the `{` after them are not a safetensors header length and JSON header")
    }
}

private extension String {
    /// `self` without leading and trailing characters of `set`.
    func trimmed(of set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

/// Checks that the file at `path` starts like a safetensors file, before any header is parsed.
///
/// Throws `SerializationError.invalidRequest` saying what the file looks like instead (a CSV table, a one-line
/// pointer such as `checkpoints/latest`, an `.npy` or `.npz` file, a PyTorch pickle) and which formats
/// `load(from:)` reads, rather than a "header length" read from the first 8 bytes of text. There is no PyTorch
/// twin: `torch.load` reports a pickle error.
/// ```swift
/// try requireSafetensorsFile(at: path)   // "runs/a/checkpoints/latest: not a safetensors file (...)"
/// ```
/// - Throws: `SerializationError.io` when the file cannot be opened, `.invalidRequest` when it is not safetensors.
public func requireSafetensorsFile(at path: String) throws {
    let file = try ReadableFile(path)
    try requireSafetensors(file)
}
