// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// `{"__metadata__": {...}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}`
// padded with spaces to a multiple of 8 bytes, then the raw little-endian tensor data.

/// One tensor's entry in a safetensors header.
struct SafetensorsEntry {
    let name: String
    let stored: StoredDType
    let shape: [Int]
    let count: Int
    /// Byte range inside the data section (after the header).
    let begin: Int, end: Int
}

/// A parsed and validated safetensors header.
struct SafetensorsHeader {
    /// Entries sorted by name (the order Python's `safe_open(...).keys()` gives).
    let entries: [SafetensorsEntry]
    let metadata: [String: String]
    /// File offset of the data section.
    let dataStart: Int

    /// The largest header Python's `safetensors` accepts.
    static let maxHeaderSize = 100_000_000

    /// Reads and validates the header of `file` (8 + header bytes only).
    init(file: ReadableFile) throws(SerializationError) {
        let path = file.path
        guard file.size >= 8 else { throw .truncated(path: path, what: "the 8-byte header length", expected: 8, got: file.size) }
        let lenBytes = try file.bytes(at: 0, count: 8, what: "the 8-byte header length")
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(lenBytes[i]) }
        let maxHeader = min(SafetensorsHeader.maxHeaderSize, ReaderLimits.current.maxHeaderBytes)
        guard n <= UInt64(maxHeader) else {
            throw .badHeader(path: path, reason: "header length \(n) exceeds the limit of \(maxHeader) bytes (ReaderLimits.maxHeaderBytes)")
        }
        let headerLen = Int(n)
        guard file.size - 8 >= headerLen else { throw .truncated(path: path, what: "the JSON header", expected: 8 + headerLen, got: file.size) }
        let header = try file.bytes(at: 8, count: headerLen, what: "the JSON header")
        try self.init(header: header, dataLength: file.size - 8 - headerLen, path: path)
    }

    /// Validates `header` (the JSON bytes) against a data section of `dataLength` bytes.
    init(header: [UInt8], dataLength: Int, path: String) throws(SerializationError) {
        let json: JSONValue
        do { json = try JSONValue.parse(header) } catch { throw .badHeader(path: path, reason: "invalid JSON: \(error)") }
        guard case .object(let fields) = json else { throw .badHeader(path: path, reason: "the header is a JSON \(json.kind), expected an object") }
        var entries: [SafetensorsEntry] = []
        var metadata: [String: String] = [:]
        for (name, value) in fields {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw .badHeader(path: path, reason: "__metadata__ is a \(value.kind), expected an object of strings") }
                for (k, v) in pairs {
                    guard case .string(let s) = v else { throw .badHeader(path: path, reason: "__metadata__ value for '\(k)' is a \(v.kind), expected a string") }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try SafetensorsHeader.entry(name, value, dataLength: dataLength, path: path))
        }
        // Overlaps: walk the non-empty ranges in file order.
        let ranges = entries.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.begin < a.end {
            throw .badTensor(path: path, tensor: b.name, reason: "data_offsets [\(b.begin), \(b.end)] overlap tensor '\(a.name)' at [\(a.begin), \(a.end)]")
        }
        self.entries = entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        self.metadata = metadata
        self.dataStart = 8 + header.count
    }

    private static func entry(_ name: String, _ value: JSONValue, dataLength: Int, path: String) throws(SerializationError) -> SafetensorsEntry {
        guard case .object(let info) = value else { throw .badTensor(path: path, tensor: name, reason: "entry is a JSON \(value.kind), expected an object") }
        func field(_ key: String) throws(SerializationError) -> JSONValue {
            guard let v = info.first(where: { $0.0 == key })?.1 else { throw .badTensor(path: path, tensor: name, reason: "missing '\(key)'") }
            return v
        }
        guard case .string(let dtypeName) = try field("dtype") else { throw .badTensor(path: path, tensor: name, reason: "'dtype' must be a string") }
        guard case .array(let dims) = try field("shape") else { throw .badTensor(path: path, tensor: name, reason: "'shape' must be an array") }
        var shape: [Int] = []
        for d in dims {
            guard let v = d.nonNegativeInt else { throw .badTensor(path: path, tensor: name, reason: "'shape' must hold non-negative integers") }
            shape.append(v)
        }
        guard case .array(let offs) = try field("data_offsets"), offs.count == 2,
              let begin = offs[0].nonNegativeInt, let end = offs[1].nonNegativeInt else {
            throw .badTensor(path: path, tensor: name, reason: "'data_offsets' must be two non-negative integers")
        }
        guard let stored = StoredDType(safetensorsName: dtypeName) else { throw .unsupportedDType(path: path, tensor: name, dtype: dtypeName) }
        if let problem = ReaderLimits.current.shapeProblem(shape) { throw .badTensor(path: path, tensor: name, reason: problem) }
        guard begin <= end else { throw .badTensor(path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataLength else {
            throw .badTensor(path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] lie outside the data section of \(dataLength) bytes")
        }
        guard let count = checkedElementCount(shape), count.multipliedReportingOverflow(by: stored.itemSize).overflow == false,
              count * stored.itemSize == end - begin else {
            throw .badTensor(path: path, tensor: name, reason: "shape \(shape) of \(dtypeName) does not match data_offsets [\(begin), \(end)] (\(end - begin) bytes)")
        }
        return SafetensorsEntry(name: name, stored: stored, shape: shape, count: count, begin: begin, end: end)
    }
}

/// Writes `state` to `path` in the safetensors format, atomically (`safetensors.torch.save_file`).
///
/// The bytes are those the Python `safetensors` package writes for the same tensors: tensors ordered by
/// dtype (I64, F64, F32, I32, BOOL) then by name, compact JSON, header padded with spaces to 8 bytes,
/// metadata keys sorted. float32, float64, int32, int64 and bool tensors are written as F32, F64, I32, I64, BOOL.
/// ```swift
/// try saveSafetensors(model.stateDict(), to: "model.safetensors", metadata: ["format": "pt"])
/// ```
/// - Throws: `SerializationError.io` when the file cannot be written (the old file is then untouched).
public func saveSafetensors(_ state: StateDict, to path: String, metadata: [String: String] = [:]) throws {
    func rank(_ d: DType) -> Int {
        switch d { case .int64: return 4; case .float64: return 3; case .float32: return 2; case .int32: return 1; case .bool: return 0 }
    }
    let items = Array(state).sorted { a, b in
        let ra = rank(a.1.dtype), rb = rank(b.1.dtype)
        return ra != rb ? ra > rb : a.0.utf8.lexicographicallyPrecedes(b.0.utf8)
    }
    var json = "{"
    var first = true
    if !metadata.isEmpty {
        let body = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { JSONValue.quote($0) + ":" + JSONValue.quote(metadata[$0]!) }.joined(separator: ",")
        json += "\"__metadata__\":{" + body + "}"
        first = false
    }
    var offset = 0
    for (name, t) in items {
        let bytes = t.count * t.dtype.itemSize
        if !first { json += "," }
        first = false
        json += JSONValue.quote(name) + ":{\"dtype\":\"" + t.dtype.safetensorsName + "\",\"shape\":["
            + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(offset + bytes)]}"
        offset += bytes
    }
    json += "}"
    var header = Array(json.utf8)
    header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
    var prefix = [UInt8](repeating: 0, count: 8)
    for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(i))) }
    try AtomicFile.write(to: path) { write in
        try (prefix + header).withUnsafeBytes { try write($0) }
        for (_, t) in items { try t.withContiguousBytes { if $0.count > 0 { try write($0) } } }
    }
}

/// Reads every tensor of a safetensors file (`safetensors.torch.load_file`), in name order.
///
/// F32, F64, I32, I64 and BOOL load as the matching dtype; F16 and BF16 as float32; U8, I8, I16, U16 as int32;
/// U32 as int64. Whatever the bytes, a malformed file throws a `SerializationError` naming the file, the tensor
/// and the problem (truncation, bad JSON, offsets out of range or overlapping, unknown dtype, size mismatch).
/// ```swift
/// let state = try loadSafetensors(from: "model.safetensors")
/// try model.loadStateDict(state)
/// ```
public func loadSafetensors(from path: String) throws -> StateDict {
    try loadSafetensorsWithMetadata(from: path).state
}

/// Reads every tensor of a safetensors file and the string map stored under `__metadata__`.
public func loadSafetensorsWithMetadata(from path: String) throws -> (state: StateDict, metadata: [String: String]) {
    let file = try ReadableFile(path)
    let header = try SafetensorsHeader(file: file)
    let data = try file.bytes(at: header.dataStart, count: file.size - header.dataStart, what: "the tensor data")
    var state = StateDict()
    data.withUnsafeBytes { raw in
        for e in header.entries {
            let slice = UnsafeRawBufferPointer(rebasing: raw[e.begin..<e.end])
            state[e.name] = e.stored.makeTensor(shape: e.shape, count: e.count, from: slice)
        }
    }
    return (state, header.metadata)
}
