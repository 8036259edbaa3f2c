import NablaNN

/// Shape rule shared by the element-wise merge layers: every input must have the same shape (free dims match anything).
func mergeSpecs(_ inputs: [TensorSpec], layer: String, kind: String) throws(ShapeError) -> [TensorSpec] {
    guard inputs.count >= 2 else { throw ShapeError(op: "layer \(layer)", "\(kind) needs at least 2 inputs, got \(inputs.count)") }
    var shape = inputs[0].shape
    var dtype = inputs[0].dtype
    for s in inputs.dropFirst() {
        dtype = dtype.promoted(with: s.dtype)
        shape = try Graph.broadcastFree(shape, s.shape, op: "layer \(layer)")
    }
    return [TensorSpec(shape: shape, dtype: dtype)]
}

/// Concatenates its inputs along `axis` (`keras.layers.Concatenate`, default the last axis).
/// ```swift
/// let merged = Concatenate()([left, right])   // (None, 32) + (None, 32) → (None, 64)
/// ```
public final class Concatenate: Layer {
    /// The axis (negative counts from the end; 0 is the batch axis).
    public let axis: Int
    /// Creates the layer.
    public init(axis: Int = -1, name: String? = nil) { self.axis = axis; super.init(name: name) }
    /// `cat(inputs, dim: axis)`.
    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] { [cat(inputs, dim: axis)] }
    /// Sums the sizes on `axis`; the other dimensions must agree.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        guard inputs.count >= 2 else { throw ShapeError(op: "layer \(name)", "Concatenate needs at least 2 inputs, got \(inputs.count)") }
        let rank = inputs[0].shape.count
        let d = try Shape.normalizeThrowing(axis, rank, op: "layer \(name)")
        var out = inputs[0].shape
        var dtype = inputs[0].dtype
        for s in inputs.dropFirst() {
            guard s.shape.count == rank else {
                throw ShapeError(op: "layer \(name)", "inputs must have the same rank, got \(inputs.map { TensorSpec.format($0.shape) }.joined(separator: " and "))")
            }
            for j in 0..<rank where j != d {
                let a = out[j], b = s.shape[j]
                guard a < 0 || b < 0 || a == b else {
                    throw ShapeError(op: "layer \(name)", "inputs must match except on axis \(axis), got \(inputs.map { TensorSpec.format($0.shape) }.joined(separator: " and "))")
                }
                if a < 0 { out[j] = b }
            }
            out[d] = (out[d] < 0 || s.shape[d] < 0) ? -1 : out[d] + s.shape[d]
            dtype = dtype.promoted(with: s.dtype)
        }
        return [TensorSpec(shape: out, dtype: dtype)]
    }
    /// `axis`.
    public override var config: [(String, GraphAttribute)] { [("axis", .int(axis))] }
}

/// Adds its inputs element-wise (`keras.layers.Add`).
public final class Add: Layer {
    /// Creates the layer.
    public override init(name: String? = nil) { super.init(name: name) }
    /// The sum of the inputs.
    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        var y = inputs[0]
        for x in inputs.dropFirst() { y = y + x }
        return [y]
    }
    /// The common (broadcast) shape.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        try mergeSpecs(inputs, layer: name, kind: "Add")
    }
}

/// Multiplies its inputs element-wise (`keras.layers.Multiply`).
public final class Multiply: Layer {
    /// Creates the layer.
    public override init(name: String? = nil) { super.init(name: name) }
    /// The product of the inputs.
    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        var y = inputs[0]
        for x in inputs.dropFirst() { y = y * x }
        return [y]
    }
    /// The common (broadcast) shape.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        try mergeSpecs(inputs, layer: name, kind: "Multiply")
    }
}
