/// `y = x1ᵀ A x2 + b` (`nn.Bilinear`), weights uniform on ±1/√in1Features as PyTorch.
///
/// ```swift
/// let bl = Bilinear(20, 30, 40)
/// let y = bl(Tensor.randn([128, 20]), Tensor.randn([128, 30]))   // [128, 40]
/// ```
public final class Bilinear: Module {
    /// Size of each first input sample.
    public let in1Features: Int
    /// Size of each second input sample.
    public let in2Features: Int
    /// Size of each output sample.
    public let outFeatures: Int
    /// `[outFeatures, in1Features, in2Features]`.
    public var weight: Tensor
    /// `[outFeatures]`, or nil without bias.
    public var bias: Tensor?

    /// Creates the layer with PyTorch's default initialisation.
    public init(_ in1Features: Int, _ in2Features: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32) {
        self.in1Features = in1Features
        self.in2Features = in2Features
        self.outFeatures = outFeatures
        let bound = in1Features > 0 ? 1 / Double(in1Features).squareRoot() : 0
        weight = uniformParameter([outFeatures, in1Features, in2Features], bound: bound, dtype: dtype)
        self.bias = bias ? uniformParameter([outFeatures], bound: bound, dtype: dtype) : nil
        super.init()
    }

    /// `bilinear(x1, x2, weight, bias)`.
    public func callAsFunction(_ x1: Tensor, _ x2: Tensor) -> Tensor { forward(x1, x2) }

    /// `bilinear(x1, x2, weight, bias)`.
    public func forward(_ x1: Tensor, _ x2: Tensor) -> Tensor {
        check(x1.rank >= 1 && x1.shape.last == in1Features && x2.rank >= 1 && x2.shape.last == in2Features,
              "Bilinear: expected inputs (*, \(in1Features)) and (*, \(in2Features)), got \(x1.shape) and \(x2.shape)")
        return bilinear(x1, x2, weight, bias)
    }

    /// A one-input module cannot call a two-input layer: use `bilinear(x1, x2)`.
    public override func forward(_ input: Tensor) -> Tensor {
        nablaFail("Bilinear: takes two inputs; call it as bilinear(x1, x2), got one input of shape \(input.shape)")
    }

    /// `in1_features=20, in2_features=30, out_features=40, bias=True`.
    public override var extraDescription: String {
        "in1_features=\(in1Features), in2_features=\(in2Features), out_features=\(outFeatures), bias=\(bias != nil ? "True" : "False")"
    }
}
