import Testing
import Nabla
import NablaTestSupport

/// `cosineSimilarity` and `pairwiseDistance` against PyTorch (Scripts/fixtures/distance.py).
@Suite struct DistanceTests {
    static let fixture = loadFixture("distance")

    /// The op of each fixture case, with the case's arguments.
    static func op(_ name: String, _ x: [Tensor]) -> Tensor {
        switch name.replacingOccurrences(of: "_f32", with: "") {
        case "cos_default": return cosineSimilarity(x[0], x[1])
        case "cos_dim0": return cosineSimilarity(x[0], x[1], dim: 0)
        case "cos_broadcast_last": return cosineSimilarity(x[0], x[1], dim: -1)
        case "cos_broadcast_row": return x[0].cosineSimilarity(x[1], dim: 1)
        case "cos_clamped": return cosineSimilarity(x[0], x[1], dim: 1, eps: 0.1)
        case "pdist_default": return pairwiseDistance(x[0], x[1])
        case "pdist_p1_keepdim": return pairwiseDistance(x[0], x[1], p: 1, keepDim: true)
        case "pdist_p3_broadcast": return x[0].pairwiseDistance(x[1], p: 3, eps: 1e-3)
        default: fatalError("unknown distance case \(name)")
        }
    }

    static let float64Cases = fixture.cases.map(\.name).filter { !$0.hasSuffix("_f32") }
    static let float32Cases = fixture.cases.map(\.name).filter { $0.hasSuffix("_f32") }

    /// float64 values and gradients of `sum(out * upstream)` to 1e-9, and the float32 forward.
    @Test(arguments: float64Cases) func matchesTorch(_ name: String) {
        expectMatchesFixture(Self.fixture, name) { [Self.op(name, $0)] }
    }

    /// float32 values and gradients against PyTorch's float32 run.
    @Test(arguments: float32Cases) func matchesTorchFloat32(_ name: String) {
        let c = Self.fixture[name]
        let ins = c.inputs.map { $0.tensor.requiresGrad_() }
        #expect(ins[0].dtype == .float32)
        let out = Self.op(name, ins)
        #expect(out.dtype == .float32)
        let r = allClose(out, c.outputs[0].tensor, rtol: 1e-5, atol: 1e-6)
        #expect(r.ok, "\(name): \(r.failure)")
        let gs = gradients(of: [(out * c.upstream!.tensor).sum()], wrt: ins)
        for (i, (g, e)) in zip(gs, c.grads!).enumerated() {
            #expect(g!.dtype == .float32)
            let rg = allClose(g!, e.tensor, rtol: 1e-4, atol: 1e-5)
            #expect(rg.ok, "\(name) grad \(i): \(rg.failure)")
        }
    }

    @Test func gradcheckFloat64() {
        let a = Tensor.randn([3, 4], dtype: .float64), b = Tensor.randn([3, 4], dtype: .float64)
        #expect(gradcheck({ cosineSimilarity($0[0], $0[1]) }, inputs: [a, b]).passed)
        #expect(gradcheck({ cosineSimilarity($0[0], $0[1], dim: 0) }, inputs: [a, b]).passed)
        // Broadcast and non-contiguous operands.
        let row = Tensor.randn([1, 4], dtype: .float64), at = Tensor.randn([4, 3], dtype: .float64)
        #expect(gradcheck({ cosineSimilarity($0[0].t(), $0[1], dim: -1) }, inputs: [at, row]).passed)
        #expect(gradcheck({ pairwiseDistance($0[0], $0[1]) }, inputs: [a, b]).passed)
        #expect(gradcheck({ pairwiseDistance($0[0].t(), $0[1], p: 3) }, inputs: [at, row]).passed)
    }

    @Test func boundedAndSimpleValues() {
        let a = Tensor([[1.0, 0], [1, 1], [0, 0]]), b = Tensor([[1.0, 0], [-1, -1], [1, 2]])
        let s = cosineSimilarity(a, b).toDoubleArray()
        #expect(Swift.abs(s[0] - 1) < 1e-6 && Swift.abs(s[1] + 1) < 1e-6 && s[2] == 0)   // a zero vector gives 0, not NaN
        let d = pairwiseDistance(Tensor([[0.0, 0]]), Tensor([[3.0, 4]]), eps: 0)
        #expect(d.shape == [1] && d.item() == 5)
    }
}
