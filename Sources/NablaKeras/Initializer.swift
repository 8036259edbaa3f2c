import NablaNN

/// How a layer fills a new weight (`keras.initializers`): Keras defaults are `glorotUniform`
/// kernels and `zeros` biases.
public enum Initializer: Sendable, ExpressibleByStringLiteral {
    /// All zeros.
    case zeros
    /// All ones.
    case ones
    /// A constant.
    case constant(Double)
    /// Uniform on ±√(6 / (fanIn + fanOut)) (Xavier/Glorot uniform, Keras' default kernel initialiser).
    case glorotUniform
    /// Normal with std √(2 / (fanIn + fanOut)), clipped to ±2 std (Keras truncates).
    case glorotNormal
    /// Uniform on ±√(6 / fanIn) (He uniform).
    case heUniform
    /// Normal with std √(2 / fanIn), clipped to ±2 std.
    case heNormal
    /// Uniform on `[minval, maxval)`.
    case randomUniform(minval: Double, maxval: Double)
    /// Normal with the given mean and std.
    case randomNormal(mean: Double, stddev: Double)
    /// Orthogonal matrix (recurrent kernels), via QR-free Gram–Schmidt on a normal sample.
    case orthogonal

    /// Keras names: `"zeros"`, `"ones"`, `"glorot_uniform"`, `"glorot_normal"`, `"he_uniform"`, `"he_normal"`, `"orthogonal"`.
    public init(stringLiteral name: String) {
        switch name {
        case "zeros": self = .zeros
        case "ones": self = .ones
        case "glorot_uniform": self = .glorotUniform
        case "glorot_normal": self = .glorotNormal
        case "he_uniform": self = .heUniform
        case "he_normal": self = .heNormal
        case "orthogonal": self = .orthogonal
        default: nablaFail("Initializer: unknown initializer \"\(name)\"; expected zeros, ones, glorot_uniform, glorot_normal, he_uniform, he_normal or orthogonal")
        }
    }

    /// Keras' fan-in and fan-out of a weight shape: `[in, out]` for Dense, `[kh, kw, in, out]` for Conv2D.
    static func fans(_ shape: [Int]) -> (Double, Double) {
        if shape.count < 1 { return (1, 1) }
        if shape.count == 1 { return (Double(shape[0]), Double(shape[0])) }
        if shape.count == 2 { return (Double(shape[0]), Double(shape[1])) }
        let receptive = shape.dropLast(2).reduce(1, *)
        return (Double(shape[shape.count - 2] * receptive), Double(shape[shape.count - 1] * receptive))
    }

    /// Whether this initialiser draws no random numbers (zeros, ones, a constant).
    var isConstant: Bool {
        switch self {
        case .zeros, .ones, .constant: return true
        default: return false
        }
    }

    /// A new tensor of `shape` filled by this initialiser (zeros for a random one inside `withoutInitialization`).
    public func make(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        func truncated(_ std: Double) -> Tensor {
            let t = Tensor.randn(shape, dtype: dtype)
            return t.clamp(min: -2.0 as Double, max: 2.0 as Double) * std
        }
        switch self {
        case _ where SkipInitialization.active && !isConstant: return Tensor.zeros(shape, dtype: dtype)
        case .zeros: return Tensor.zeros(shape, dtype: dtype)
        case .ones: return Tensor.ones(shape, dtype: dtype)
        case .constant(let v): return Tensor.full(shape, v, dtype: dtype)
        case .glorotUniform:
            let limit = (6 / max(fanIn + fanOut, 1)).squareRoot()
            return Tensor.rand(shape, dtype: dtype) * (2 * limit) - limit
        case .glorotNormal: return truncated((2 / max(fanIn + fanOut, 1)).squareRoot())
        case .heUniform:
            let limit = (6 / max(fanIn, 1)).squareRoot()
            return Tensor.rand(shape, dtype: dtype) * (2 * limit) - limit
        case .heNormal: return truncated((2 / max(fanIn, 1)).squareRoot())
        case .randomUniform(let lo, let hi): return Tensor.rand(shape, dtype: dtype) * (hi - lo) + lo
        case .randomNormal(let m, let s): return Tensor.randn(shape, dtype: dtype) * s + m
        case .orthogonal:
            guard shape.count >= 2 else { return Tensor.randn(shape, dtype: dtype) }
            let rows = shape.dropLast().reduce(1, *), cols = shape[shape.count - 1]
            let n = max(rows, cols), m = min(rows, cols)
            var basis: [[Double]] = []
            let sample = Tensor.randn([m, n], dtype: .float64).toDoubleArray()
            for i in 0..<m {
                var v = Array(sample[(i * n)..<((i + 1) * n)])
                for b in basis {
                    let d = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }
                    for k in 0..<n { v[k] -= d * b[k] }
                }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                basis.append(v.map { $0 / max(norm, 1e-12) })
            }
            let q = Tensor(shape: [m, n], data: basis.flatMap { $0 }, dtype: .float64)
            let full = rows >= cols ? q.t() : q   // [rows, cols]
            return full.contiguous().reshape(shape).to(dtype)
        }
    }
}
