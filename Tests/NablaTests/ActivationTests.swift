import Testing
import Nabla
import NablaTestSupport

/// Activation functions: values and gradients against PyTorch, gradcheck, second order, in place.
@Suite struct ActivationTests {
    /// Every activation fixture case (in elementwise.json) and the Nabla call it checks.
    static let ops: [String: @Sendable ([Tensor]) -> Tensor] = [
        "relu_f64": { relu($0[0]) },
        "relu_f32": { $0[0].relu() },
        "relu_special": { relu($0[0]) },
        "relu_int": { relu($0[0]) },
        "leaky_relu_default": { leakyRelu($0[0]) },
        "leaky_relu_0.2": { $0[0].leakyRelu(negativeSlope: 0.2) },
        "elu_default": { elu($0[0]) },
        "elu_1.5": { $0[0].elu(alpha: 1.5) },
        "selu": { selu($0[0]) },
        "celu_0.7": { $0[0].celu(alpha: 0.7) },
        "gelu_none_f64": { gelu($0[0]) },
        "gelu_none_f32": { $0[0].gelu(approximate: .none) },
        "gelu_tanh_f64": { gelu($0[0], approximate: .tanh) },
        "gelu_tanh_f32": { $0[0].gelu(approximate: .tanh) },
        "silu_f64": { silu($0[0]) },
        "silu_f32": { $0[0].silu() },
        "softplus_default": { softplus($0[0]) },
        "softplus_beta2_th5": { $0[0].softplus(beta: 2, threshold: 5) },
        "softplus_f32": { softplus($0[0]) },
        "hardtanh_default": { hardtanh($0[0]) },
        "hardtanh_custom": { $0[0].hardtanh(minVal: -0.5, maxVal: 0.7) },
        "relu6": { relu6($0[0]) },
        "hardsigmoid": { hardsigmoid($0[0]) },
        "hardswish": { $0[0].hardswish() },
        "logsigmoid": { logsigmoid($0[0]) },
        "softsign": { $0[0].softsign() },
        "mish": { mish($0[0]) },
        "mish_f32": { $0[0].mish() },
    ]

    @Test(arguments: ActivationTests.ops.keys.sorted())
    func matchesPyTorch(_ name: String) {
        ElementwiseTests.checkFixture(ElementwiseTests.fixture, name, Self.ops[name]!)
    }

    /// Differentiable activations, each checked on a plain and a transposed (non-contiguous) input.
    static let differentiable: [String: @Sendable (Tensor) -> Tensor] = [
        "relu": { $0.relu() }, "leakyRelu": { $0.leakyRelu(negativeSlope: 0.2) }, "elu": { $0.elu(alpha: 1.3) },
        "selu": { $0.selu() }, "celu": { $0.celu(alpha: 0.6) }, "gelu": { $0.gelu() },
        "geluTanh": { $0.gelu(approximate: .tanh) }, "silu": { $0.silu() }, "softplus": { $0.softplus(beta: 1.5, threshold: 2) },
        "hardtanh": { $0.hardtanh(minVal: -0.7, maxVal: 0.9) }, "relu6": { ($0 * 4).relu6() }, "hardsigmoid": { ($0 * 2).hardsigmoid() },
        "hardswish": { ($0 * 2).hardswish() }, "logsigmoid": { $0.logsigmoid() }, "softsign": { $0.softsign() }, "mish": { $0.mish() },
    ]

    @Test(arguments: ActivationTests.differentiable.keys.sorted())
    func gradcheckActivation(_ name: String) {
        let f = Self.differentiable[name]!
        // Inputs kept away from the kinks (0, ±1, ±3, thresholds) by construction.
        let x = Tensor([[-2.3, -0.45, 0.35, 1.45], [2.6, -1.2, 0.8, -0.15], [0.1, 1.9, -3.4, 4.1]], dtype: .float64)
        let r = gradcheck({ f($0[0]) }, inputs: [x])
        #expect(r.passed, "\(name): \(r)")
        let rt = gradcheck({ f($0[0].t()) }, inputs: [x.t().contiguous()])
        #expect(rt.passed, "\(name) (transposed): \(rt)")
    }

    @Test func secondOrder() {
        let x = Tensor([[-1.3, 0.4, 2.2], [0.7, -0.25, -2.9]], dtype: .float64)
        let fs: [(String, @Sendable ([Tensor]) -> Tensor)] = [
            ("gelu", { $0[0].gelu() }), ("geluTanh", { $0[0].gelu(approximate: .tanh) }), ("silu", { $0[0].silu() }),
            ("softplus", { $0[0].softplus() }), ("elu", { $0[0].elu() }), ("mish", { $0[0].mish() }),
            ("relu", { $0[0].relu() * $0[0] }), ("leakyRelu", { $0[0].leakyRelu() * $0[0] }),
        ]
        for (name, f) in fs {
            let r = gradgradcheck(f, inputs: [x])
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func reluGradientIsAMask() {
        let x = Tensor([-1.0, 2.0, -3.0, 4.0]).requiresGrad_()
        x.relu().sum().backward()
        #expect(x.grad?.toDoubleArray() == [0, 1, 0, 1])
        #expect(x.relu().gradFn?.name == "ReluBackward")
    }

    @Test func inPlaceActivations() {
        let x = Tensor([-1.0, 0.5, 2.0])
        let v = x.version
        x.sigmoid_()
        #expect(x.version > v)
        #expect(allClose(x, Tensor([-1.0, 0.5, 2.0]).sigmoid()).ok)
        x.tanh_()
        #expect(allClose(x, Tensor([-1.0, 0.5, 2.0]).sigmoid().tanh()).ok)
        let y = Tensor([-1.0, 0.5], dtype: .float64).requiresGrad_()
        let z = y * 3
        z.tanh_()
        z.sum().backward()
        let t = Tensor([-3.0, 1.5], dtype: .float64).tanh()
        #expect(allClose(y.grad!, (1 - t * t) * 3, rtol: 1e-12).ok)
    }
}
