import Nabla

/// One input or output of an ONNX model's graph: its name, element type and shape.
///
/// A dimension is `nil` where the file leaves it free (a named dimension such as `"batch"`, or none at all).
/// ```swift
/// let m = try ONNXModel(path: "cnn.onnx")
/// print(m.inputs[0])   // input: float32 [batch, 1, 28, 28]
/// ```
public struct ONNXValueInfo: Sendable, Equatable, CustomStringConvertible {
    /// The value's name in the graph.
    public var name: String
    /// The element type as Nabla's dtype, or `nil` when Nabla has no such dtype (the ONNX type is in `onnxType`).
    public var dtype: DType?
    /// The ONNX element type's name (`"float"`, `"int64"`, ...).
    public var onnxType: String
    /// The shape: a size per dimension, `nil` for a free one; `nil` altogether when the file gives no shape.
    public var shape: [Int?]?
    /// The names of the free dimensions (`"batch"`), `""` where a dimension is fixed or unnamed.
    public var dimensionNames: [String]

    /// Creates a signature entry.
    public init(name: String, dtype: DType?, onnxType: String, shape: [Int?]?, dimensionNames: [String] = []) {
        self.name = name; self.dtype = dtype; self.onnxType = onnxType; self.shape = shape
        self.dimensionNames = dimensionNames
    }

    /// `name: dtype [d0, d1, ...]` with free dimensions by name (or `?`).
    public var description: String {
        let dims = shape.map { s in
            "[" + s.enumerated().map { i, d in
                d.map(String.init) ?? (i < dimensionNames.count && !dimensionNames[i].isEmpty ? dimensionNames[i] : "?")
            }.joined(separator: ", ") + "]"
        } ?? "[unknown shape]"
        let type = dtype.map { "\($0)".replacingOccurrences(of: "torch.", with: "") } ?? onnxType
        return "\(name): \(type) \(dims)"
    }
}
