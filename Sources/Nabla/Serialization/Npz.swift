/// Writes a state dict to `path` as a NumPy `.npz` archive (`numpy.savez` / `numpy.savez_compressed`), atomically.
///
/// Each tensor becomes the member `<name>.npy`, in the state dict's order; `compressed` deflates the members.
/// ```swift
/// try saveNpz(["w": w, "b": b], to: "weights.npz", compressed: true)
/// ```
public func saveNpz(_ state: StateDict, to path: String, compressed: Bool = false) throws {
    var members: [(String, [UInt8])] = []
    for (name, t) in state {
        var bytes = NpyHeader.encode(dtype: t.dtype, shape: t.shape)
        t.withContiguousBytes { bytes.append(contentsOf: $0) }
        members.append((name + ".npy", bytes))
    }
    try AtomicFile.write(to: path) { write in try Zip.write(members, compressed: compressed, path: path, to: write) }
}

/// Reads every array of a NumPy `.npz` archive (`numpy.load`), in archive order; names lose their `.npy` suffix.
///
/// Stored and deflate members are read (deflate through zlib), every member's CRC-32 is checked, and
/// each member is decoded as by `loadNpy(from:)`.
/// - Throws: `SerializationError` for a missing, truncated or corrupt archive or member.
public func loadNpz(from path: String) throws -> StateDict {
    let bytes = try ReadableFile(path).all()
    var state = StateDict()
    for m in try Zip.members(bytes, path: path) {
        let name = m.name.hasSuffix(".npy") ? String(m.name.dropLast(4)) : m.name
        let data = try Zip.extract(m, from: bytes, path: path)
        state[name] = try decodeNpy(data[...], path: path, name: name)
    }
    return state
}
