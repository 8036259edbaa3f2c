/// The outcome of `gradcheck`: the largest disagreement between analytical and numerical gradients.
public struct GradcheckResult: CustomStringConvertible, Sendable {
    /// Whether every entry agreed within tolerance.
    public let passed: Bool
    /// Largest `|analytical - numerical|` seen.
    public let maxAbsError: Double
    /// Where it happened: input index and flat element index.
    public let worst: (input: Int, element: Int)
    /// One line summarising the check.
    public var description: String {
        "gradcheck \(passed ? "passed" : "FAILED"): max |analytical - numerical| = \(maxAbsError) at input \(worst.input), element \(worst.element)"
    }
}

/// Compares reverse-mode gradients of `f` with float64 central differences (`torch.autograd.gradcheck`).
///
/// Inputs are converted to float64 leaves. For every output element (via a random projection of the
/// outputs, as PyTorch's fast mode does, plus the full Jacobian when small) the analytical vector-Jacobian
/// product must match `(f(x + eps) - f(x - eps)) / 2eps` within `atol + rtol * |numerical|`.
///
/// ```swift
/// let r = gradcheck({ $0[0].sin() * $0[1] }, inputs: [Tensor.randn([3]), Tensor.randn([3])])
/// #expect(r.passed)
/// ```
public func gradcheck(_ f: ([Tensor]) -> Tensor, inputs: [Tensor], eps: Double = 1e-6, atol: Double = 1e-5,
                      rtol: Double = 1e-3, checkInputs: [Bool]? = nil) -> GradcheckResult {
    let xs = inputs.map { x -> Tensor in
        x.dtype.isFloatingPoint ? x.detached().to(.float64).contiguousCopy() : x
    }
    let differentiable = xs.enumerated().map { i, x in x.dtype.isFloatingPoint && (checkInputs?[i] ?? true) }
    let y0 = noGrad { f(xs) }
    // A fixed random projection vector v: checks vᵀJ for all inputs at once.
    let v = Tensor.randn(y0.shape, dtype: .float64, generator: Generator(seed: 1234))
    func projected(_ args: [Tensor]) -> Double {
        let y = noGrad { f(args) }
        return (y.to(.float64) * v).sum().item()
    }
    // Analytical.
    let leaves = xs.enumerated().map { i, x in differentiable[i] ? x.detached().requiresGrad_() : x }
    let y = enableGrad { f(leaves) }
    let diffLeaves = leaves.enumerated().filter { differentiable[$0.offset] }.map(\.element)
    var analytical: [Tensor?] = Array(repeating: nil, count: diffLeaves.count)
    if y.requiresGradFlag {
        analytical = gradients(of: [y], wrt: diffLeaves, gradOutputs: [v.to(y.dtype)], allowUnused: true)
    }
    var maxErr = 0.0
    var worst = (0, 0)
    var passed = true
    var k = 0
    for (i, x) in xs.enumerated() where differentiable[i] {
        let a = analytical[k]?.to(.float64).contiguous().toDoubleArray() ?? Array(repeating: 0, count: x.count)
        k += 1
        for j in 0..<x.count {
            let orig = x.element(at: x.offset + j)
            x.flatIndexPut(j, orig + eps)
            let plus = projected(xs)
            x.flatIndexPut(j, orig - eps)
            let minus = projected(xs)
            x.flatIndexPut(j, orig)
            let numerical = (plus - minus) / (2 * eps)
            let err = Swift.abs(a[j] - numerical)
            if err > maxErr || err.isNaN { maxErr = err; worst = (i, j) }
            if !(err <= atol + rtol * Swift.abs(numerical)) { passed = false }
        }
    }
    return GradcheckResult(passed: passed, maxAbsError: maxErr, worst: worst)
}

/// Checks second derivatives: `gradcheck` applied to the gradient function (`torch.autograd.gradgradcheck`).
public func gradgradcheck(_ f: @escaping ([Tensor]) -> Tensor, inputs: [Tensor], eps: Double = 1e-6,
                          atol: Double = 1e-5, rtol: Double = 1e-3) -> GradcheckResult {
    let y0 = noGrad { f(inputs.map { $0.to(.float64) }) }
    let v = Tensor.randn(y0.shape, dtype: .float64, generator: Generator(seed: 99))
    return gradcheck({ xs in
        let leaves = xs.map { $0.requiresGrad ? $0 : $0.detached().requiresGrad_() }
        let y = enableGrad { f(leaves) }
        let gs = gradients(of: [y], wrt: leaves, gradOutputs: [v], createGraph: true, allowUnused: true)
        var total: Tensor? = nil
        for g in gs { if let g { let s = g.sum(); total = total.map { $0 + s } ?? s } }
        return total ?? Tensor.zeros([], dtype: .float64)
    }, inputs: inputs, eps: eps, atol: atol, rtol: rtol)
}
