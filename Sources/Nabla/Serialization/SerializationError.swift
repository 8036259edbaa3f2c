/// Why a tensor file (safetensors, npy, npz) could not be read or written.
///
/// Thrown, never trapped: whatever the bytes of a file, readers throw one of these. Every message
/// names the file, the tensor when one is involved, and the problem.
public enum SerializationError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read, written or renamed (`reason` is the system's message).
    case io(path: String, reason: String)
    /// The file ended early: `expected` bytes were needed, `got` were there.
    case truncated(path: String, what: String, expected: Int, got: Int)
    /// The header (safetensors JSON, npy dict, zip directory) is malformed.
    case badHeader(path: String, reason: String)
    /// One tensor's entry is inconsistent (offsets, shape, byte count).
    case badTensor(path: String, tensor: String, reason: String)
    /// A tensor's element type is not one this reader knows.
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// Compressed or checksummed data does not match (npz: CRC-32, inflate errors).
    case corrupt(path: String, reason: String)
    /// The request cannot be served (unknown extension, tensor name absent, several tensors for `.npy`).
    case invalidRequest(path: String, reason: String)

    /// A readable message naming the file and the problem.
    public var description: String {
        switch self {
        case .io(let p, let r): return "\(p): \(r)"
        case .truncated(let p, let w, let e, let g): return "\(p): file is truncated: \(w) needs \(e) bytes, got \(g)"
        case .badHeader(let p, let r): return "\(p): malformed header: \(r)"
        case .badTensor(let p, let t, let r): return "\(p): tensor '\(t)': \(r)"
        case .unsupportedDType(let p, let t, let d): return "\(p): tensor '\(t)': unsupported dtype \(d)"
        case .corrupt(let p, let r): return "\(p): corrupt data: \(r)"
        case .invalidRequest(let p, let r): return "\(p): \(r)"
        }
    }
}
