import Testing
import Nabla
import NablaTestSupport

@Suite struct MatmulTests {
    static let fixture = loadFixture("core")
    static let names = fixture.cases.map(\.name).filter { $0.hasPrefix("matmul_") && !$0.contains("transposed") }

    /// Values and gradients of `sum(matmul(a, b) * upstream)` against PyTorch.
    @Test(arguments: names) func matmulMatchesTorch(_ name: String) {
        let c = Self.fixture[name]
        let a = c.inputs[0].tensor.requiresGrad_(), b = c.inputs[1].tensor.requiresGrad_()
        let out = matmul(a, b)
        let isF32 = a.dtype == .float32
        let (rtol, atol) = isF32 ? (1e-4, 1e-5) : (1e-10, 1e-12)
        let r = allClose(out, c.outputs[0].tensor, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name): \(r.failure)")
        #expect(out.dtype == a.dtype)
        let gs = gradients(of: [(out * c.upstream!.tensor).sum()], wrt: [a, b])
        for (g, e) in zip(gs, c.grads!) {
            let rg = allClose(g!, e.tensor, rtol: rtol, atol: atol)
            #expect(rg.ok, "\(name) grad: \(rg.failure)")
        }
    }

    @Test func transposedOperands() {
        let c = Self.fixture["matmul_transposed_f64"]
        let a = c.inputs[0].tensor.requiresGrad_(), b = c.inputs[1].tensor.requiresGrad_()
        #expect(!a.t().isContiguous)
        let out = matmul(a.t(), b.t())
        #expect(allClose(out, c.outputs[0].tensor, rtol: 1e-10, atol: 1e-12).ok)
        let gs = gradients(of: [(out * c.upstream!.tensor).sum()], wrt: [a, b])
        #expect(allClose(gs[0]!, c.grads![0].tensor, rtol: 1e-10, atol: 1e-12).ok)
        #expect(allClose(gs[1]!, c.grads![1].tensor, rtol: 1e-10, atol: 1e-12).ok)
    }

    @Test func shapes() {
        #expect(matmul(Tensor.ones([3]), Tensor.ones([3])).shape == [])
        #expect(matmul(Tensor.ones([3]), Tensor.ones([3, 4])).shape == [4])
        #expect(matmul(Tensor.ones([2, 3]), Tensor.ones([3])).shape == [2])
        #expect(matmul(Tensor.ones([5, 1, 2, 3]), Tensor.ones([4, 3, 6])).shape == [5, 4, 2, 6])
        #expect(Tensor.ones([2, 3]).mm(Tensor.ones([3, 4])).shape == [2, 4])
        #expect(bmm(Tensor.ones([2, 3, 4]), Tensor.ones([2, 4, 1])).shape == [2, 3, 1])
        #expect(dot(Tensor([1.0, 2.0]), Tensor([3.0, 4.0])).item() == 11)
        #expect(outer(Tensor([1.0, 2.0]), Tensor([3.0, 4.0, 5.0])).toDoubleArray() == [3, 4, 5, 6, 8, 10])
    }

    @Test func integerMatmul() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[5, 6], [7, 8]])
        let c = matmul(a, b)
        #expect(c.dtype == .int64)
        #expect(c.toIntArray() == [19, 22, 43, 50])
    }

    /// `torch.addmm` values and gradients (the fused path for beta = alpha = 1, the composite one otherwise).
    @Test(arguments: ["bias", "matrix", "column", "scaled"]) func addmmMatchesTorch(_ kind: String) {
        let c = Self.fixture["addmm_\(kind)_f64"]
        let ins = c.inputs.map { $0.tensor.requiresGrad_() }
        let (beta, alpha) = kind == "scaled" ? (0.5, 2.0) : (1.0, 1.0)
        let out = addmm(ins[0], ins[1], ins[2], beta: beta, alpha: alpha)
        #expect(allClose(out, c.outputs[0].tensor, rtol: 1e-10, atol: 1e-12).ok)
        let gs = gradients(of: [(out * c.upstream!.tensor).sum()], wrt: ins)
        for (g, e) in zip(gs, c.grads!) { #expect(allClose(g!, e.tensor, rtol: 1e-10, atol: 1e-12).ok, "addmm_\(kind)") }
        #expect(gradcheck({ addmm($0[0], $0[1].t(), $0[2], beta: beta, alpha: alpha) },
                          inputs: [ins[0].detached(), ins[1].detached().t().contiguous(), ins[2].detached()]).passed)
    }

    @Test func addmmValues() {
        let i = Tensor([[1.0, 1.0], [1.0, 1.0]])
        let r = addmm(i, Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor.eye(2), beta: 2, alpha: 3)
        #expect(r.toDoubleArray() == [5, 8, 11, 14])
    }

    @Test func gradcheckMatmul() {
        #expect(gradcheck({ matmul($0[0], $0[1]) }, inputs: [Tensor.randn([2, 3], dtype: .float64), Tensor.randn([3, 2], dtype: .float64)]).passed)
        // Broadcast batch and a non-contiguous operand.
        #expect(gradcheck({ matmul($0[0], $0[1].t()) },
                          inputs: [Tensor.randn([2, 2, 3], dtype: .float64), Tensor.randn([4, 3], dtype: .float64)]).passed)
        #expect(gradcheck({ matmul($0[0], $0[1]) }, inputs: [Tensor.randn([3], dtype: .float64), Tensor.randn([2, 3, 2], dtype: .float64)]).passed)
        #expect(gradgradcheck({ matmul($0[0], $0[1]) }, inputs: [Tensor.randn([2, 3], dtype: .float64), Tensor.randn([3, 2], dtype: .float64)]).passed)
    }
}
