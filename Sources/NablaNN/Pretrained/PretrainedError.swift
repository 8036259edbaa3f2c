/// Why a pretrained model folder (Hugging Face / sentence-transformers) could not be loaded.
///
/// Thrown, never trapped: a missing file, malformed JSON, an unknown setting or a weight of the wrong shape
/// throws one of these naming the file and the problem.
public enum PretrainedError: Error, CustomStringConvertible, Equatable {
    /// A file the folder needs is absent (`what` says which, e.g. "model weights").
    case missingFile(folder: String, what: String)
    /// A JSON or text file is malformed or lacks a field.
    case badConfig(path: String, reason: String)
    /// The weights do not fit the model the config describes.
    case badWeights(path: String, reason: String)
    /// The folder asks for something this loader does not implement.
    case unsupported(path: String, reason: String)

    /// A readable message naming the file and the problem.
    public var description: String {
        switch self {
        case .missingFile(let f, let w): return "\(f): no \(w) found"
        case .badConfig(let p, let r): return "\(p): \(r)"
        case .badWeights(let p, let r): return "\(p): \(r)"
        case .unsupported(let p, let r): return "\(p): unsupported: \(r)"
        }
    }
}
