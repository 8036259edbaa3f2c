/// An error reading or running an ONNX model: every message names the file, node, operator or value concerned.
///
/// ```swift
/// do { _ = try ONNXModel(path: "model.onnx") } catch let e as ONNXError { print(e) }
/// ```
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read (`reason` is the system's message).
    case io(path: String, reason: String)
    /// The bytes are not an ONNX `ModelProto` (the protobuf decoder's message), or the model is inconsistent.
    case malformed(path: String, reason: String)
    /// The model imports an opset of the default domain outside the range this importer reads.
    case unsupportedOpset(path: String, opset: Int, supported: ClosedRange<Int>)
    /// A node uses an operator this importer does not implement (for that opset).
    case unsupportedOperator(node: String, opType: String, domain: String, opset: Int)
    /// A node's attributes or inputs are invalid or use a form this importer does not implement.
    case invalidNode(node: String, opType: String, reason: String)
    /// An initializer or constant tensor cannot be decoded.
    case badTensor(name: String, reason: String)
    /// The inputs given to `run` do not match the model's signature.
    case badInput(name: String, reason: String)
    /// A traced op that the ONNX exporter cannot write, with the Swift line it was traced at.
    case exportUnsupported(op: String, location: String, reason: String)
    /// The model could not be exported (its trace broke, depends on the batch size in a way ONNX cannot express, or
    /// the written file does not reproduce the model's outputs).
    case exportFailed(reason: String)

    /// A readable message naming the file, node or value and the problem.
    public var description: String {
        switch self {
        case .io(let p, let r): return "\(p): \(r)"
        case .malformed(let p, let r): return "\(p): not a valid ONNX model: \(r)"
        case .unsupportedOpset(let p, let o, let s):
            return "\(p): ONNX opset \(o) is not supported (this importer reads opsets \(s.lowerBound)-\(s.upperBound))"
        case .unsupportedOperator(let n, let t, let d, let o):
            return "node '\(n)': operator \(d.isEmpty ? "" : d + ".")\(t) (opset \(o)) is not supported by Nabla's ONNX importer"
        case .invalidNode(let n, let t, let r): return "node '\(n)' (\(t)): \(r)"
        case .badTensor(let n, let r): return "tensor '\(n)': \(r)"
        case .badInput(let n, let r): return "input '\(n)': \(r)"
        case .exportUnsupported(let op, let loc, let r): return "ONNX export: \(op) (traced at \(loc)) cannot be exported: \(r)"
        case .exportFailed(let r): return "ONNX export: \(r)"
        }
    }
}
