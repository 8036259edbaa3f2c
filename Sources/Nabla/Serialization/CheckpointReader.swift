/// Random access to the tensors of a safetensors file: reads the header once, then one tensor at a time.
///
/// Opening reads only the 8-byte length and the JSON header, so listing the tensors of a multi-gigabyte
/// checkpoint is instant; `tensor(named:)` seeks to one tensor and reads just its bytes
/// (like `safetensors.safe_open` or `tf.train.load_checkpoint`).
/// ```swift
/// let reader = try CheckpointReader(path: "model.safetensors")
/// for name in reader.names { print(name, reader.shape(of: name)!, reader.dtype(of: name)!) }
/// let w = try reader.tensor(named: "fc1.weight")
/// ```
public final class CheckpointReader {
    /// The file being read.
    public let path: String
    private let file: ReadableFile
    private let header: SafetensorsHeader
    private let index: [String: Int]

    /// Opens `path` and validates its header (not the data).
    /// - Throws: `SerializationError` for a missing file or a malformed header.
    public init(path: String) throws {
        self.path = path
        file = try ReadableFile(path)
        header = try SafetensorsHeader(file: file)
        var index: [String: Int] = [:]
        for (i, e) in header.entries.enumerated() { index[e.name] = i }
        self.index = index
    }

    /// The tensor names, sorted.
    public var names: [String] { header.entries.map(\.name) }

    /// The string map stored under `__metadata__`.
    public var metadata: [String: String] { header.metadata }

    /// Whether the file holds a tensor named `name`.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The shape of tensor `name`, or nil when absent.
    public func shape(of name: String) -> [Int]? { index[name].map { header.entries[$0].shape } }

    /// The dtype tensor `name` loads as (F16/BF16 load as float32, small integers as int32), or nil when absent.
    public func dtype(of name: String) -> DType? { index[name].map { header.entries[$0].stored.nablaDType } }

    /// The dtype name as written in the file (`F32`, `BF16`, ...), or nil when absent.
    public func storedDType(of name: String) -> String? { index[name].map { header.entries[$0].stored.safetensorsName } }

    /// Reads tensor `name` alone (one positioned read of its bytes).
    /// - Throws: `SerializationError.invalidRequest` when absent, `.truncated` when the file shrank.
    public func tensor(named name: String) throws -> Tensor {
        guard let i = index[name] else {
            throw SerializationError.invalidRequest(path: path, reason: "no tensor named '\(name)' (the file has \(header.entries.count) tensors)")
        }
        let e = header.entries[i]
        let t = Tensor(empty: e.shape, dtype: e.stored.nablaDType)
        let bytes = e.end - e.begin
        guard bytes > 0 else { return t }
        if e.stored.nablaDType.itemSize == e.stored.itemSize && e.stored != .bool {
            try file.read(at: header.dataStart + e.begin, count: bytes, into: t.storage.data, what: "tensor '\(name)'")
            return t
        }
        let raw = try file.bytes(at: header.dataStart + e.begin, count: bytes, what: "tensor '\(name)'")
        return raw.withUnsafeBytes { e.stored.makeTensor(shape: e.shape, count: e.count, from: $0) }
    }

    /// Reads every tensor, in name order.
    public func stateDict() throws -> StateDict {
        var out = StateDict()
        for n in names { out[n] = try tensor(named: n) }
        return out
    }
}
