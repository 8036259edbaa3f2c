import Testing
import Nabla
import NablaTestSupport

@Suite struct LinearTests {
    static let fixture = loadFixture("core")
    static let names = fixture.cases.map(\.name).filter { $0.hasPrefix("linear_") }

    /// Values and gradients of `sum(linear(x, w, b) * upstream)` against `torch.nn.functional.linear`.
    @Test(arguments: names) func linearMatchesTorch(_ name: String) {
        let c = Self.fixture[name]
        let ins = c.inputs.map { $0.tensor.requiresGrad_() }
        let out = linear(ins[0], weight: ins[1], bias: ins.count > 2 ? ins[2] : nil)
        let (rtol, atol) = ins[0].dtype == .float32 ? (1e-4, 1e-5) : (1e-10, 1e-12)
        let r = allClose(out, c.outputs[0].tensor, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name): \(r.failure)")
        expectCompiledMatchesEager(name, ins.map { $0.detached() }) { [linear($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil)] }
        let gs = gradients(of: [(out * c.upstream!.tensor).sum()], wrt: ins)
        for (i, (g, e)) in zip(gs, c.grads!).enumerated() {
            let rg = allClose(g!, e.tensor, rtol: rtol, atol: atol)
            #expect(rg.ok, "\(name) grad \(i): \(rg.failure)")
        }
    }

    @Test func gradcheckAllOperands() {
        let x = Tensor.randn([4, 3], dtype: .float64), w = Tensor.randn([2, 3], dtype: .float64)
        let b = Tensor.randn([2], dtype: .float64)
        #expect(gradcheck({ linear($0[0], weight: $0[1], bias: $0[2]) }, inputs: [x, w, b]).passed)
        #expect(gradcheck({ linear($0[0], weight: $0[1]) }, inputs: [x, w]).passed)
        // Non-contiguous input and weight, and a 3-D input.
        let xt = Tensor.randn([3, 4], dtype: .float64), wt = Tensor.randn([3, 2], dtype: .float64)
        #expect(gradcheck({ linear($0[0].t(), weight: $0[1].t(), bias: $0[2]) }, inputs: [xt, wt, b]).passed)
        let x3 = Tensor.randn([2, 2, 3], dtype: .float64)
        #expect(gradcheck({ linear($0[0], weight: $0[1], bias: $0[2]) }, inputs: [x3, w, b]).passed)
    }

    @Test func secondOrderGradients() {
        let x = Tensor.randn([3, 2], dtype: .float64), w = Tensor.randn([2, 2], dtype: .float64)
        let b = Tensor.randn([2], dtype: .float64)
        #expect(gradgradcheck({ linear($0[0], weight: $0[1], bias: $0[2]).tanh() }, inputs: [x, w, b]).passed)
    }

    @Test func equalsTheCompositeForm() {
        let x = Tensor.randn([7, 5]), w = Tensor.randn([3, 5]), b = Tensor.randn([3])
        #expect(allClose(linear(x, weight: w, bias: b), matmul(x, w.t()) + b, rtol: 1e-5, atol: 1e-6).ok)
        // The weight gradient comes out contiguous in the weight's layout (no copy when accumulated).
        let wp = w.requiresGrad_()
        linear(x, weight: wp, bias: b).sum().backward()
        #expect(wp.grad!.isContiguous)
        #expect(allClose(wp.grad!, Tensor.ones([7, 3]).t().matmul(x), rtol: 1e-5, atol: 1e-6).ok)
        // Mixed dtypes take the promoting path.
        #expect(linear(x.to(.float64), weight: w, bias: b).dtype == .float64)
    }

    @Test func badShapesNameTheOp() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linear(Tensor.ones([2, 4]), weight: Tensor.ones([3, 5]))
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("linear: input shape [2, 4] does not match weight shape [3, 5]"), "stderr: \(text)")
        let rb = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linear(Tensor.ones([2, 5]), weight: Tensor.ones([3, 5]), bias: Tensor.ones([4]))
        }
        let textB = String(decoding: rb?.standardErrorContent ?? [], as: UTF8.self)
        #expect(textB.contains("linear: expected a bias of shape [3]"), "stderr: \(textB)")
    }
}
