// Weight initialisation (`torch.nn.init`): free functions that fill a tensor in place without
// recording, each drawing from `generator` (the default generator when nil), and return it.

/// The `mode` of the Kaiming initialisers: which fan sets the variance.
public enum FanMode: Sendable {
    /// Preserves the variance of the activations in the forward pass.
    case fanIn
    /// Preserves the variance of the gradients in the backward pass.
    case fanOut
}

/// The nonlinearity a gain is computed for (`nonlinearity=` in `torch.nn.init`).
public enum Nonlinearity: String, Sendable, CaseIterable {
    /// Gain 1.
    case linear, conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, sigmoid
    /// Gain 5/3.
    case tanh
    /// Gain √2.
    case relu
    /// Gain √(2 / (1 + slope²)).
    case leakyRelu
    /// Gain 3/4.
    case selu
}

/// The recommended gain for `nonlinearity` (`torch.nn.init.calculate_gain`).
///
/// ```swift
/// calculateGain(.relu)                     // 1.4142...
/// calculateGain(.leakyRelu, param: 0.2)    // √(2 / 1.04)
/// ```
/// - Parameter param: the negative slope for `.leakyRelu` (0.01 when nil).
public func calculateGain(_ nonlinearity: Nonlinearity, param: Double? = nil) -> Double {
    switch nonlinearity {
    case .linear, .conv1d, .conv2d, .conv3d, .convTranspose1d, .convTranspose2d, .convTranspose3d, .sigmoid: return 1
    case .tanh: return 5.0 / 3
    case .relu: return 2.0.squareRoot()
    case .leakyRelu:
        let slope = param ?? 0.01
        return (2.0 / (1 + slope * slope)).squareRoot()
    case .selu: return 3.0 / 4
    }
}

/// `(fanIn, fanOut)` of a weight of at least 2 dims (`torch.nn.init._calculate_fan_in_and_fan_out`):
/// `size(1) * receptive field` and `size(0) * receptive field`.
public func calculateFanInAndFanOut(_ tensor: Tensor) -> (fanIn: Int, fanOut: Int) {
    check(tensor.rank >= 2,
          "calculateFanInAndFanOut: fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got shape \(tensor.shape)")
    let receptive = tensor.shape.dropFirst(2).reduce(1, *)
    return (tensor.shape[1] * receptive, tensor.shape[0] * receptive)
}

/// Fills `tensor` with samples uniform on `[a, b)` (`nn.init.uniform_`).
@discardableResult
public func uniform_(_ tensor: Tensor, a: Double = 0, b: Double = 1, generator: Generator? = nil) -> Tensor {
    if SkipInitialization.active { return tensor }
    return noGrad { tensor.uniform_(from: a, to: b, generator: generator) }
}

/// Fills `tensor` with samples from N(mean, std²) (`nn.init.normal_`).
@discardableResult
public func normal_(_ tensor: Tensor, mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
    if SkipInitialization.active { return tensor }
    return noGrad { tensor.normal_(mean: mean, std: std, generator: generator) }
}

/// Fills `tensor` with `val` (`nn.init.constant_`).
@discardableResult
public func constant_(_ tensor: Tensor, val: Double) -> Tensor { noGrad { tensor.fill_(val) } }

/// Fills `tensor` with zeros (`nn.init.zeros_`).
@discardableResult
public func zeros_(_ tensor: Tensor) -> Tensor { constant_(tensor, val: 0) }

/// Fills `tensor` with ones (`nn.init.ones_`).
@discardableResult
public func ones_(_ tensor: Tensor) -> Tensor { constant_(tensor, val: 1) }

/// Fills a 2-D `tensor` with the identity matrix (`nn.init.eye_`).
@discardableResult
public func eye_(_ tensor: Tensor) -> Tensor {
    check(tensor.rank == 2, "eye_: only tensors with 2 dimensions are supported, got shape \(tensor.shape)")
    return noGrad { tensor.copy_(Tensor.eye(tensor.shape[0], tensor.shape[1], dtype: tensor.dtype)) }
}

/// Glorot uniform: `U(-a, a)` with `a = gain √(6 / (fanIn + fanOut))` (`nn.init.xavier_uniform_`).
@discardableResult
public func xavierUniform_(_ tensor: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
    let (fanIn, fanOut) = calculateFanInAndFanOut(tensor)
    let a = 3.0.squareRoot() * (gain * (2.0 / Double(fanIn + fanOut)).squareRoot())  // PyTorch's rounding of the bound
    return uniform_(tensor, a: -a, b: a, generator: generator)
}

/// Glorot normal: `N(0, std²)` with `std = gain √(2 / (fanIn + fanOut))` (`nn.init.xavier_normal_`).
@discardableResult
public func xavierNormal_(_ tensor: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
    let (fanIn, fanOut) = calculateFanInAndFanOut(tensor)
    return normal_(tensor, std: gain * (2.0 / Double(fanIn + fanOut)).squareRoot(), generator: generator)
}

/// The standard deviation of the Kaiming initialisers: `gain / √fan`.
private func kaimingStd(_ tensor: Tensor, a: Double, mode: FanMode, nonlinearity: Nonlinearity, op: StaticString) -> Double {
    let (fanIn, fanOut) = calculateFanInAndFanOut(tensor)
    let fan = mode == .fanIn ? fanIn : fanOut
    check(fan > 0, "\(op): fan is 0 for tensor of shape \(tensor.shape)")
    return calculateGain(nonlinearity, param: a) / Double(fan).squareRoot()
}

/// He uniform: `U(-b, b)` with `b = gain √(3 / fan)` (`nn.init.kaiming_uniform_`).
///
/// ```swift
/// kaimingUniform_(conv.weight, a: 5.0.squareRoot())                 // PyTorch's Linear/Conv default
/// kaimingUniform_(w, mode: .fanOut, nonlinearity: .relu)
/// ```
/// - Parameter a: the negative slope of the rectifier after this layer (for `.leakyRelu`).
@discardableResult
public func kaimingUniform_(_ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyRelu,
                            generator: Generator? = nil) -> Tensor {
    let bound = 3.0.squareRoot() * kaimingStd(tensor, a: a, mode: mode, nonlinearity: nonlinearity, op: "kaimingUniform_")
    return uniform_(tensor, a: -bound, b: bound, generator: generator)
}

/// He normal: `N(0, std²)` with `std = gain / √fan` (`nn.init.kaiming_normal_`).
@discardableResult
public func kaimingNormal_(_ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyRelu,
                           generator: Generator? = nil) -> Tensor {
    let std = kaimingStd(tensor, a: a, mode: mode, nonlinearity: nonlinearity, op: "kaimingNormal_")
    return normal_(tensor, std: std, generator: generator)
}

/// Fills `tensor` with N(mean, std²) truncated to `[a, b]` (`nn.init.trunc_normal_`), by PyTorch's rejection
/// sampling: when `[a, b]` holds more than 30% of the mass, normal draws with the rejected ones redrawn; else
/// uniform proposals on `[a, b]` accepted with probability pdf/peak. On a `.mt19937` generator it draws PyTorch's
/// numbers.
///
/// ```swift
/// truncNormal_(w, std: 0.02)    // ViT-style init; a and b are absolute bounds (±2 here)
/// ```
@discardableResult
public func truncNormal_(_ tensor: Tensor, mean: Double = 0, std: Double = 1, a: Double = -2, b: Double = 2,
                         generator: Generator? = nil) -> Tensor {
    check(a < b && std > 0, "truncNormal_: expected a < b and std > 0, got a=\(a), b=\(b), std=\(std)")
    check(tensor.dtype.isFloatingPoint, "truncNormal_: expected a floating tensor, got \(tensor.dtype)")
    if SkipInitialization.active { return tensor }
    func cdf(_ x: Double) -> Double { (1 + Tensor.scalar(x / 2.0.squareRoot(), dtype: .float64).erf().item()) / 2 }
    let mass = cdf((b - mean) / std) - cdf((a - mean) / std)
    return noGrad {
        if mass > 0.3 {
            // The bounds as the tensor's dtype represents them, so the test agrees with the stored values.
            let lo = Tensor.scalar(a, dtype: tensor.dtype).item(), hi = Tensor.scalar(b, dtype: tensor.dtype).item()
            var result = Tensor.empty(tensor.shape, dtype: tensor.dtype).normal_(mean: mean, std: std, generator: generator)
            while true {
                let rejected = result.lt(lo).logicalOr(result.gt(hi))
                if !rejected.any().toBoolArray()[0] { break }
                result = `where`(rejected, Tensor.empty(tensor.shape, dtype: tensor.dtype).normal_(mean: mean, std: std, generator: generator), result)
            }
            return tensor.copy_(result)
        }
        let mode = max(a, min(mean, b)), logPeak = -0.5 * ((mode - mean) / std) * ((mode - mean) / std)
        func logDensity(_ x: Tensor) -> Tensor { ((x - mean) / std).pow(2) * -0.5 - logPeak }
        func proposals() -> Tensor { Tensor.empty(tensor.shape, dtype: tensor.dtype).uniform_(from: a, to: b, generator: generator) }
        /// Whether each candidate is rejected: log u > log(pdf / peak), from fresh uniforms u.
        func rejects(_ candidates: Tensor) -> Tensor {
            Tensor.empty(tensor.shape, dtype: tensor.dtype).uniform_(generator: generator).log().gt(logDensity(candidates))
        }
        var result = proposals()
        var pending = rejects(result)
        while pending.any().toBoolArray()[0] {
            let candidates = proposals()
            result = `where`(pending, candidates, result)
            pending = `where`(pending, rejects(candidates), pending)
        }
        return tensor.copy_(result)
    }
}

/// Fills `tensor` (at least 2-D, viewed as `[size(0), rest]`) with a (semi-)orthogonal matrix times
/// `gain` (`nn.init.orthogonal_`): the Q of the QR decomposition of a normal matrix, signs fixed by R's diagonal.
@discardableResult
public func orthogonal_(_ tensor: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
    check(tensor.rank >= 2, "orthogonal_: only tensors with 2 or more dimensions are supported, got shape \(tensor.shape)")
    let rows = tensor.shape[0], cols = tensor.count / max(rows, 1)
    if tensor.count == 0 || SkipInitialization.active { return tensor }
    // Drawn in the tensor's dtype, as PyTorch's `tensor.new(rows, cols).normal_(0, 1)`, then orthonormalised in float64.
    let flat = Tensor.empty([rows, cols], dtype: tensor.dtype).normal_(generator: generator).to(.float64)
    let a = rows < cols ? flat.t().contiguous() : flat
    let m = max(rows, cols), n = min(rows, cols)
    var q = a.toDoubleArray()   // m x n, row-major; orthonormalised column by column
    for j in 0..<n {
        var diag = 0.0
        for _ in 0..<2 {   // Gram-Schmidt twice for orthogonality to rounding
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<m { dot += q[i * n + k] * q[i * n + j] }
                for i in 0..<m { q[i * n + j] -= dot * q[i * n + k] }
            }
        }
        for i in 0..<m { diag += q[i * n + j] * q[i * n + j] }
        let norm = diag.squareRoot()
        // R's diagonal entry is the norm of the original column projected; its sign is positive in Gram-Schmidt,
        // which matches PyTorch's `q *= sign(diag(r))` convention.
        for i in 0..<m { q[i * n + j] /= norm }
    }
    var result = Tensor(shape: [m, n], data: q, dtype: .float64)
    if rows < cols { result = result.t() }
    return noGrad { tensor.copy_((result * gain).reshape(tensor.shape).to(tensor.dtype)) }
}
