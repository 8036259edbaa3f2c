/// Why a pickle (a PyTorch `.pt`/`.bin` checkpoint's `data.pkl`) could not be read.
///
/// Thrown, never trapped: whatever the bytes, the restricted unpickler throws one of these or a
/// `SerializationError` (for the zip container and the tensor records). Nothing in a pickle is ever executed.
public enum UnpicklingError: Error, CustomStringConvertible, Equatable {
    /// The pickle names a global that is not on the allow-list (`os.system`, `builtins.eval`, an unknown class).
    case forbiddenGlobal(path: String, name: String)
    /// The pickle stream is malformed at byte `offset` (bad opcode, stack underflow, truncated argument, ...).
    case malformed(path: String, offset: Int, reason: String)
    /// The pickle is well formed but uses a feature this reader does not support.
    case unsupported(path: String, reason: String)

    /// A readable message naming the file and the problem.
    public var description: String {
        switch self {
        case .forbiddenGlobal(let p, let n):
            return "\(p): refusing to load global '\(n)': only tensors, storages, ordered dicts, lists, tuples, numbers "
                + "and strings are allowed (as torch.load(weights_only=True)); nothing was executed"
        case .malformed(let p, let o, let r): return "\(p): malformed pickle at byte \(o): \(r)"
        case .unsupported(let p, let r): return "\(p): unsupported pickle content: \(r)"
        }
    }
}
