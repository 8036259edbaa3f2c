/// A fully connected layer `y = x Wᵀ + b`, as `torch.nn.Linear`.
///
/// Weights and bias are initialised as PyTorch does: uniform on ±1/√inFeatures.
/// ```swift
/// let fc = Linear(784, 128)
/// let y = fc(Tensor.randn([32, 784]))   // [32, 128]
/// ```
public final class Linear: Module {
    /// Size of each input sample.
    public let inFeatures: Int
    /// Size of each output sample.
    public let outFeatures: Int
    /// `[outFeatures, inFeatures]`.
    public var weight: Tensor
    /// `[outFeatures]`, or nil without bias.
    public var bias: Tensor?

    /// Creates the layer with PyTorch's default initialisation.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        (weight, self.bias) = defaultLayerParameters(weight: [outFeatures, inFeatures], fanIn: inFeatures,
                                                     bias: bias ? [outFeatures] : nil, dtype: dtype)
        super.init()
    }

    /// `input @ weightᵀ + bias` over the last dim of `input`.
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank >= 1 && input.shape[input.rank - 1] == inFeatures,
              "Linear: expected input with last dimension \(inFeatures), got shape \(input.shape)")
        return Nabla.linear(input, weight: weight, bias: bias)
    }

    /// `in_features=..., out_features=..., bias=...`.
    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias != nil ? "True" : "False")"
    }
}
