import Testing
import NablaOptim
import NablaTestSupport

/// `Adam(epsilonHat: true)` follows Keras' update (`keras.optimizers.Adam.update_step`), written out here in Double.
@Suite struct AdamEpsilonHatTests {
    /// Keras' step: `alpha = lr·√(1 − β2ᵗ)/(1 − β1ᵗ)`, `m += (g − m)(1 − β1)`, `v += (g² − v)(1 − β2)`,
    /// `p −= alpha·m/(√v + eps)`.
    static func kerasSteps(_ p0: [Double], grads: [[Double]], lr: Double, b1: Double, b2: Double, eps: Double) -> [Double] {
        var p = p0, m = [Double](repeating: 0, count: p0.count), v = m
        for (t, g) in grads.enumerated() {
            let step = Double(t + 1)
            let alpha = lr * (1 - optimPowForTest(b2, step)).squareRoot() / (1 - optimPowForTest(b1, step))
            for i in p.indices {
                m[i] += (g[i] - m[i]) * (1 - b1); v[i] += (g[i] * g[i] - v[i]) * (1 - b2)
                p[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
            }
        }
        return p
    }

    static func optimPowForTest(_ a: Double, _ n: Double) -> Double { (0..<Int(n)).reduce(1) { r, _ in r * a } }

    @Test func matchesKerasStepAndDiffersFromPyTorchs() {
        // A large eps against small gradients makes the two forms far apart.
        let p0 = [0.5, -1.0, 2.0], grads = [[1e-3, -2e-3, 5e-4], [2e-3, 1e-3, -1e-3], [-1e-3, 3e-3, 2e-3], [5e-4, -5e-4, 1e-3]]
        for decoupled in [false, true] {
            let p = Tensor(p0, dtype: .float64).requiresGrad_()
            let opt = decoupled ? AdamW([p], lr: 0.1, eps: 1e-3, weightDecay: 0, epsilonHat: true)
                                : Adam([p], lr: 0.1, eps: 1e-3, epsilonHat: true)
            let plain = Tensor(p0, dtype: .float64).requiresGrad_()
            let torchForm = Adam([plain], lr: 0.1, eps: 1e-3)
            for g in grads {
                p.grad = Tensor(g, dtype: .float64); opt.step()
                plain.grad = Tensor(g, dtype: .float64); torchForm.step()
            }
            let want = Self.kerasSteps(p0, grads: grads, lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-3)
            let got = p.toDoubleArray(), other = plain.toDoubleArray()
            for i in 0..<3 {
                #expect(abs(got[i] - want[i]) <= 1e-12 * max(1, abs(want[i])), "decoupled \(decoupled) element \(i): \(got[i]) vs \(want[i])")
                #expect(abs(other[i] - want[i]) > 1e-4, "PyTorch's form should differ here")
            }
        }
    }

    @Test func kerasCompileUsesKerasForm() {
        #expect((OptimizerFactory.make("adam", [Tensor.zeros([1])], OptimizerOptions(epsilonHat: true)) as? Adam)?.epsilonHat == true)
        #expect((OptimizerFactory.make("adam", [Tensor.zeros([1])]) as? Adam)?.epsilonHat == false)
    }
}
