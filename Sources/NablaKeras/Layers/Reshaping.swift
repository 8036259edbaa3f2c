import NablaNN

/// Flattens every dimension but the batch one (`keras.layers.Flatten`): `(None, 28, 28)` → `(None, 784)`.
public final class Flatten: Layer {
    /// Creates the layer.
    public override init(name: String? = nil) { super.init(name: name) }
    /// `x.reshape([batch, -1])`.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        x.rank <= 1 ? x.reshape([x.count, 1]) : x.reshape([x.shape[0], -1])
    }
    /// `(None, product of the other dims)`.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        let s = inputs[0].shape
        let rest = s.dropFirst()
        let n = rest.contains { $0 < 0 } ? -1 : rest.reduce(1, *)
        return [TensorSpec(shape: [s.first ?? -1, n], dtype: inputs[0].dtype)]
    }
}

/// Reshapes every sample to `targetShape`, the batch dimension excluded (`keras.layers.Reshape`).
///
/// Unlike `Tensor.reshape` (and `tf.reshape`), the target shape does not include the batch
/// dimension: `Reshape([7, 112])` on `(None, 784)` gives `(None, 7, 112)`. One entry may be `-1`.
public final class Reshape: Layer {
    /// The per-sample shape (batch excluded).
    public let targetShape: [Int]
    /// Creates the layer.
    public init(_ targetShape: [Int], name: String? = nil) {
        check(targetShape.filter { $0 == -1 }.count <= 1 && targetShape.allSatisfy { $0 > 0 || $0 == -1 },
              "Reshape: target shape \(targetShape) must have positive sizes and at most one -1")
        self.targetShape = targetShape
        super.init(name: name)
    }
    /// `x.reshape([batch] + targetShape)`.
    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        let per = x.shape.dropFirst().reduce(1, *)
        let known = targetShape.filter { $0 > 0 }.reduce(1, *)
        check(targetShape.contains(-1) ? per % known == 0 : per == known,
              "layer \(name): cannot reshape samples of shape \(Array(x.shape.dropFirst())) (\(per) values) to \(targetShape)")
        return x.reshape([x.shape[0]] + targetShape)
    }
    /// `(None) + targetShape`, with the `-1` resolved when the input size is known.
    public override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        let s = inputs[0].shape
        let rest = Array(s.dropFirst())
        var out = targetShape
        if !rest.contains(where: { $0 < 0 }) {
            let per = rest.reduce(1, *), known = targetShape.filter { $0 > 0 }.reduce(1, *)
            if let k = targetShape.firstIndex(of: -1) {
                guard known > 0, per % known == 0 else {
                    throw ShapeError(op: "layer \(name)", "cannot reshape samples of shape \(TensorSpec.format(rest)) (\(per) values) to \(targetShape)")
                }
                out[k] = per / known
            } else if per != known {
                throw ShapeError(op: "layer \(name)", "cannot reshape samples of shape \(TensorSpec.format(rest)) (\(per) values) to \(targetShape) (\(known) values)")
            }
        }
        return [TensorSpec(shape: [s.first ?? -1] + out, dtype: inputs[0].dtype)]
    }
    /// `target_shape`.
    public override var config: [(String, GraphAttribute)] { [("target_shape", .ints(targetShape))] }
}
