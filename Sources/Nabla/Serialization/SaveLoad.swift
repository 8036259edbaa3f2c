/// Writes `state` to `path` in the format its extension names (`torch.save` for state dicts).
///
/// `.npz` writes an uncompressed NumPy archive, `.npy` a single array (the state dict must hold exactly
/// one tensor), anything else safetensors (Nabla's native format).
/// ```swift
/// try save(model.stateDict(), to: "model.safetensors")
/// ```
public func save(_ state: StateDict, to path: String) throws {
    switch fileExtension(path) {
    case "npz": try saveNpz(state, to: path)
    case "npy":
        guard state.count == 1, let (_, t) = state.first(where: { _ in true }) else {
            throw SerializationError.invalidRequest(path: path, reason: "a .npy file holds one tensor, the state dict has \(state.count)")
        }
        try saveNpy(t, to: path)
    default: try saveSafetensors(state, to: path)
    }
}

/// Reads a state dict from `path` in the format its extension names (`torch.load` for state dicts).
///
/// `.npz` reads a NumPy archive, `.npy` a single array (stored under the file name without its extension),
/// `.pt`, `.pth` and `.bin` holding a `torch.save` file (zip or legacy pickle) through the restricted unpickler
/// (`loadTorch`), anything else safetensors; a file that does not start like one (a CSV table, a `checkpoints/latest` pointer)
/// throws `SerializationError.invalidRequest` saying so and listing the formats read.
public func load(from path: String) throws -> StateDict {
    switch fileExtension(path) {
    case "npz": return try loadNpz(from: path)
    case "pt", "pth", "bin" where try looksLikeTorchSave(path): return try loadTorch(from: path)
    case "npy":
        let name = basename(path)
        return StateDict([(String(name.dropLast(4)), try loadNpy(from: path))])
    default:
        try requireSafetensorsFile(at: path)
        return try loadSafetensors(from: path)
    }
}

/// Whether the file starts like a `torch.save` file: a zip archive, or a pickle (protocol 2+, PyTorch's legacy format).
/// `save(_:to:)` writes safetensors under a `.bin` name, so `load` reads those as safetensors.
func looksLikeTorchSave(_ path: String) throws -> Bool {
    let file = try ReadableFile(path)
    guard file.size >= 4 else { return false }
    let head = try file.bytes(at: 0, count: 4, what: "magic")
    return head == [0x50, 0x4B, 0x03, 0x04] || head[0] == 0x80
}

/// The lowercased extension of the last path component, or "".
func fileExtension(_ path: String) -> String {
    let name = basename(path)
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return name[name.index(after: dot)...].lowercased()
}
