// Reading files written by `torch.save`, without executing anything.
//
// Zip format (PyTorch >= 1.6): `<prefix>/data.pkl` pickles the object; each tensor storage is a persistent id
// `('storage', torch.FloatStorage, key, location, numel)` whose bytes are the member `<prefix>/data/<key>`;
// tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
// Legacy format (`_use_new_zipfile_serialization=False`): pickles for the magic number, the protocol version and
// the system info, then the object (persistent ids `('storage', type, key, location, numel, view)`), then the list
// of storage keys, then each storage as an int64 element count followed by its bytes.

/// Reads the tensors of a checkpoint written by `torch.save` (`torch.load(path, weights_only=True)`).
///
/// A state dict comes back as is; nested containers (`{"model": state_dict, "epoch": 3}`, lists) are flattened
/// into dotted names (`model.fc.weight`) and their non-tensor values dropped; use `loadTorchObject(from:)`
/// to get the whole structure. Both the zip format and the legacy format are read. float16 and bfloat16
/// load as float32, int8/uint8/int16 as int32; views that share a storage stay views of one Nabla storage.
///
/// The unpickler only rebuilds tensors, storages, ordered dicts, lists, tuples, numbers and strings:
/// any other global (`os.system`, `builtins.eval`, a custom class) throws `UnpicklingError.forbiddenGlobal`
/// naming it, and nothing in the file is ever executed.
/// ```swift
/// let state = try loadTorch(from: "pytorch_model.bin")
/// try model.loadStateDict(state)
/// ```
public func loadTorch(from path: String) throws -> StateDict {
    try loadTorchObject(from: path).flattened()
}

/// Reads the object a `torch.save` file holds: tensors inside dicts, lists, tuples, numbers and strings.
public func loadTorchObject(from path: String) throws -> TorchValue {
    let file = try ReadableFile(path)
    return try TorchCheckpoint.read(try file.all(), path: path)
}

/// The torch.save readers, on bytes in memory (also the entry point of the fuzz target).
public enum TorchCheckpoint {
    /// Globals a checkpoint may name: the rebuild functions, the storage types, OrderedDict.
    static let allowedGlobals: Set<String> = {
        var s: Set<String> = [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch.Size", "_codecs.encode",
        ]
        for name in storageTypes.keys { s.insert("torch." + name) }
        return s
    }()

    /// PyTorch's typed storage classes and the stored element type each holds.
    static let storageTypes: [String: StoredDType] = [
        "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]

    /// The object in a `torch.save` file's bytes, zip or legacy format.
    public static func read(_ bytes: [UInt8], path: String) throws -> TorchValue {
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 {
            return try readZip(bytes, path: path)
        }
        if bytes.starts(with: legacyMagic) { return try readLegacy(bytes, path: path) }
        if bytes.count >= 2, bytes[0] == 0x80 {
            throw SerializationError.badHeader(path: path, reason: "a bare pickle without PyTorch's magic number is not a torch.save file")
        }
        throw SerializationError.badHeader(path: path, reason: "not a torch.save file (neither a zip archive nor PyTorch's legacy format)")
    }

    /// The object of a bare pickle, through the same restricted unpickler.
    ///
    /// Persistent ids (tensor storages) are refused unless `storage` is given: it returns the raw little-endian
    /// bytes of the storage `key` holding `numel` elements of `itemSize` bytes (the fuzz targets pass zeros).
    public static func unpickle(_ bytes: [UInt8], path: String,
                                storage: ((_ key: String, _ numel: Int, _ itemSize: Int) throws -> [UInt8])? = nil) throws -> TorchValue {
        var storages: [String: TorchStorage] = [:]
        let load: ((PickleValue) throws -> PickleValue)? = storage.map { provide in
            { pid in
                guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0] else {
                    throw UnpicklingError.unsupported(path: path, reason: "persistent id \(pid.kind) is not a storage")
                }
                let (stored, key, numel) = try storageInfo(t, path: path)
                if let s = storages[key] { return .opaque(s) }
                let s = try TorchStorage(stored: stored, key: key, numel: numel, raw: try provide(key, numel, stored.itemSize)[...], path: path)
                storages[key] = s
                return .opaque(s)
            }
        }
        var u = Unpickler(bytes: bytes, path: path, allowedGlobals: allowedGlobals, persistentLoad: load,
                          reduce: { g, a in try rebuild(g, a, path: path) })
        var budget = valueBudget(pickleBytes: bytes.count)
        return try convert(try u.load(), path: path, depth: 0, budget: &budget)
    }

    // MARK: zip format

    static func readZip(_ bytes: [UInt8], path: String) throws -> TorchValue {
        let members = try Zip.members(bytes, path: path)
        let pickles = members.filter { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }
        guard let pkl = pickles.min(by: { $0.name.count < $1.name.count }) else {
            throw SerializationError.badHeader(path: path, reason: "zip archive has no data.pkl: not a torch.save file")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        var byName: [String: ZipMember] = [:]
        for m in members { byName[m.name] = m }
        if let bo = byName[prefix + "byteorder"] {
            let order = String(decoding: try Zip.extract(bo, from: bytes, path: path), as: UTF8.self)
            guard order == "little" else {
                throw UnpicklingError.unsupported(path: path, reason: "byteorder '\(order)': only little-endian checkpoints are read")
            }
        }
        let pickle = try Zip.extract(pkl, from: bytes, path: path)
        var storages: [String: TorchStorage] = [:]
        let load: (PickleValue) throws -> PickleValue = { pid in
            guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0] else {
                throw UnpicklingError.unsupported(path: path, reason: "persistent id \(pid.kind) is not a storage")
            }
            let (stored, key, numel) = try storageInfo(t, path: path)
            if let s = storages[key] { return .opaque(s) }
            guard let m = byName[prefix + "data/" + key] else {
                throw SerializationError.badHeader(path: path, reason: "storage '\(key)' has no record \(prefix)data/\(key)")
            }
            let raw = try Zip.extract(m, from: bytes, path: path)
            let s = try TorchStorage(stored: stored, key: key, numel: numel, raw: raw[...], path: path)
            storages[key] = s
            return .opaque(s)
        }
        var u = Unpickler(bytes: pickle, path: path, allowedGlobals: allowedGlobals, persistentLoad: load, reduce: { g, a in try rebuild(g, a, path: path) })
        let v = try u.load()
        var budget = valueBudget(pickleBytes: pickle.count)
        return try convert(v, path: path, depth: 0, budget: &budget)
    }

    // MARK: legacy format

    /// The first pickle of a legacy file: protocol 2, LONG1 of 10 bytes, PyTorch's magic number, STOP.
    static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    static func readLegacy(_ bytes: [UInt8], path: String) throws -> TorchValue {
        var offset = legacyMagic.count
        func next(_ persistent: ((PickleValue) throws -> PickleValue)?) throws -> PickleValue {
            var u = Unpickler(bytes: Array(bytes[offset...]), path: path, allowedGlobals: allowedGlobals,
                              persistentLoad: persistent, reduce: { g, a in try rebuild(g, a, path: path) })
            let v = try u.load()
            offset += u.endOffset
            return v
        }
        guard case .int(1001) = try next(nil) else {
            throw UnpicklingError.unsupported(path: path, reason: "legacy protocol version is not 1001")
        }
        _ = try next(nil)  // sys_info: endianness and type sizes
        // Storages are read after the object: collect them, fill them in afterwards.
        var storages: [String: TorchStorage] = [:]
        let object = try next { pid in
            guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0] else {
                throw UnpicklingError.unsupported(path: path, reason: "persistent id \(pid.kind) is not a storage")
            }
            if t.count >= 6, case .none = t[5] {} else if t.count >= 6 {
                throw UnpicklingError.unsupported(path: path, reason: "legacy storage views")
            }
            let (stored, key, numel) = try storageInfo(t, path: path)
            if let s = storages[key] { return .opaque(s) }
            let s = TorchStorage(pending: stored, key: key, numel: numel)
            storages[key] = s
            return .opaque(s)
        }
        guard case .list(let keyList) = try next(nil) else {
            throw SerializationError.badHeader(path: path, reason: "legacy checkpoint: storage key list missing")
        }
        for k in keyList.items {
            guard case .string(let key) = k else { throw SerializationError.badHeader(path: path, reason: "legacy checkpoint: storage key is a \(k.kind)") }
            guard bytes.count - offset >= 8 else { throw SerializationError.truncated(path: path, what: "storage '\(key)' size", expected: offset + 8, got: bytes.count) }
            let n = PickleValue.le(bytes[offset..<(offset + 8)])
            offset += 8
            guard let s = storages[key] else { throw SerializationError.badHeader(path: path, reason: "legacy checkpoint: storage '\(key)' is not used by the object") }
            guard n == s.numel else {
                throw SerializationError.badTensor(path: path, tensor: "storage \(key)", reason: "records \(n) elements, the pickle says \(s.numel)")
            }
            let (nbytes, o) = n.multipliedReportingOverflow(by: s.stored.itemSize)
            guard !o, nbytes <= bytes.count - offset else {
                throw SerializationError.truncated(path: path, what: "storage '\(key)'", expected: o ? Int.max : offset + nbytes, got: bytes.count)
            }
            try s.fill(bytes[offset..<(offset + nbytes)], path: path)
            offset += nbytes
        }
        for (key, s) in storages where s.flat == nil {
            throw SerializationError.badHeader(path: path, reason: "legacy checkpoint: storage '\(key)' has no data")
        }
        var budget = valueBudget(pickleBytes: bytes.count)
        return try convert(object, path: path, depth: 0, budget: &budget)
    }

    // MARK: shared

    static func storageInfo(_ t: [PickleValue], path: String) throws -> (StoredDType, String, Int) {
        guard case .global(let g) = t[1], g.hasPrefix("torch."), let stored = storageTypes[String(g.dropFirst(6))] else {
            throw UnpicklingError.unsupported(path: path, reason: "storage type \(t[1].kind)")
        }
        guard case .string(let key) = t[2] else { throw UnpicklingError.unsupported(path: path, reason: "storage key is a \(t[2].kind)") }
        guard case .int(let numel) = t[4], numel >= 0 else {
            throw SerializationError.badTensor(path: path, tensor: "storage \(key)", reason: "element count \(t[4].kind) is not a non-negative integer")
        }
        return (stored, key, numel)
    }

    /// The allowed "calls": rebuilding tensors and parameters, OrderedDict(), torch.Size(...).
    static func rebuild(_ g: String, _ a: [PickleValue], path: String) throws -> PickleValue {
        switch g {
        case "collections.OrderedDict":
            let d = PickleDict()
            if let first = a.first, case .list(let pairs) = first {
                for p in pairs.items { if case .tuple(let kv) = p, kv.count == 2 { d.set(kv[0], kv[1]) } }
            }
            return .dict(d)
        case "torch.Size":
            if let first = a.first, case .tuple(let dims) = first { return .tuple(dims) }
            return .tuple([])
        case "_codecs.encode":
            guard a.count >= 1, case .string(let s) = a[0] else { throw UnpicklingError.unsupported(path: path, reason: "_codecs.encode of a non-string") }
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .opaque(let o) = a[0], let s = o as? TorchStorage else {
                throw UnpicklingError.unsupported(path: path, reason: "\(g) without a storage")
            }
            guard case .int(let offset) = a[1] else { throw UnpicklingError.unsupported(path: path, reason: "tensor offset is a \(a[1].kind)") }
            let size = try ints(a[2], "size", path: path), stride = try ints(a[3], "stride", path: path)
            return .opaque(try TorchTensorRef(storage: s, offset: offset, size: size, stride: stride, path: path))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = a.first, case .opaque(let o) = first, o is TorchTensorRef else {
                throw UnpicklingError.unsupported(path: path, reason: "\(g) without a tensor")
            }
            return first
        default:
            // Storage types are allowed as values (inside persistent ids) but are never called.
            throw UnpicklingError.forbiddenGlobal(path: path, name: g + "(...)")
        }
    }

    static func ints(_ v: PickleValue, _ what: String, path: String) throws -> [Int] {
        let xs: [PickleValue]
        switch v {
        case .tuple(let t): xs = t
        case .list(let l): xs = l.items
        default: throw UnpicklingError.unsupported(path: path, reason: "tensor \(what) is a \(v.kind)")
        }
        return try xs.map { x in
            guard case .int(let i) = x else { throw UnpicklingError.unsupported(path: path, reason: "tensor \(what) holds a \(x.kind)") }
            return i
        }
    }

    /// How many values a pickle of `pickleBytes` bytes may expand to: 16 per byte plus 10 000, at most 5 million.
    /// A pickle spends at least a byte on each value it writes, so only shared references (memo gets) expand it;
    /// a few kilobytes that describe millions of values are a bomb (the 936-byte memo bomb ran past the fuzzer's
    /// 10 s timeout under a flat limit).
    package static func valueBudget(pickleBytes: Int) -> Int { min(5_000_000, 10_000 + 16 * pickleBytes) }

    /// The public value of `v`; bounded in depth and in total size (a memo can make a tiny pickle describe a huge tree).
    static func convert(_ v: PickleValue, path: String, depth: Int, budget: inout Int) throws -> TorchValue {
        guard depth < 500 else { throw UnpicklingError.unsupported(path: path, reason: "containers nested deeper than 500 levels (or a cycle)") }
        budget -= 1
        guard budget > 0 else { throw UnpicklingError.unsupported(path: path, reason: "the object graph expands to too many values (shared references)") }
        switch v {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .list(let l): return .list(try l.items.map { try convert($0, path: path, depth: depth + 1, budget: &budget) })
        case .tuple(let t): return .tuple(try t.map { try convert($0, path: path, depth: depth + 1, budget: &budget) })
        case .dict(let d):
            return .dict(try d.items.map { (key: try convert($0.0, path: path, depth: depth + 1, budget: &budget),
                                            value: try convert($0.1, path: path, depth: depth + 1, budget: &budget)) })
        case .opaque(let o):
            if let t = o as? TorchTensorRef { return .tensor(try t.tensor(path: path)) }
            throw UnpicklingError.unsupported(path: path, reason: "a bare storage outside a tensor")
        case .global(let g): throw UnpicklingError.unsupported(path: path, reason: "the global \(g) as a value")
        case .mark: throw UnpicklingError.malformed(path: path, offset: 0, reason: "MARK left in the result")
        }
    }
}

/// One PyTorch storage: its element type, its element count, and its elements as a flat Nabla tensor.
final class TorchStorage {
    let stored: StoredDType
    let key: String
    let numel: Int
    private(set) var flat: Tensor?

    init(stored: StoredDType, key: String, numel: Int, raw: ArraySlice<UInt8>, path: String) throws {
        self.stored = stored; self.key = key; self.numel = numel
        try fill(raw, path: path)
    }

    /// A storage whose bytes come later in the file (legacy format).
    init(pending stored: StoredDType, key: String, numel: Int) {
        self.stored = stored; self.key = key; self.numel = numel
    }

    func fill(_ raw: ArraySlice<UInt8>, path: String) throws {
        let (need, o) = numel.multipliedReportingOverflow(by: stored.itemSize)
        guard !o, raw.count == need else {
            throw SerializationError.badTensor(path: path, tensor: "storage \(key)",
                                               reason: "holds \(raw.count) bytes, but \(numel) elements of \(stored.safetensorsName) need \(o ? "more than Int.max" : String(need))")
        }
        flat = raw.withUnsafeBytes { stored.makeTensor(shape: [numel], count: numel, from: $0) }
    }
}

/// A tensor to rebuild from a storage, checked against the storage's size.
final class TorchTensorRef {
    let storage: TorchStorage
    let offset: Int, size: [Int], stride: [Int]

    init(storage: TorchStorage, offset: Int, size: [Int], stride: [Int], path: String) throws {
        self.storage = storage; self.offset = offset; self.size = size; self.stride = stride
        let name = "storage \(storage.key) view"
        guard size.count == stride.count else {
            throw SerializationError.badTensor(path: path, tensor: name, reason: "size \(size) and stride \(stride) differ in rank")
        }
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }), checkedElementCount(size) != nil else {
            throw SerializationError.badTensor(path: path, tensor: name, reason: "negative or overflowing offset \(offset), size \(size) or stride \(stride)")
        }
        if size.contains(0) { return }
        var last = offset
        for (n, s) in zip(size, stride) {
            let (m, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(m)
            guard !o1, !o2 else { throw SerializationError.badTensor(path: path, tensor: name, reason: "size \(size) and stride \(stride) overflow") }
            last = sum
        }
        guard last < storage.numel else {
            throw SerializationError.badTensor(path: path, tensor: name,
                                               reason: "offset \(offset), size \(size), stride \(stride) reach element \(last), but the storage holds \(storage.numel)")
        }
    }

    /// The tensor: a view of the storage's flat tensor (shared with other views of the same storage).
    func tensor(path: String) throws -> Tensor {
        guard let flat = storage.flat else {
            throw SerializationError.badHeader(path: path, reason: "storage '\(storage.key)' has no data")
        }
        if size.contains(0) { return Tensor(empty: size, dtype: flat.dtype) }
        return flat.asStrided(size, stride, offset: offset)
    }
}
