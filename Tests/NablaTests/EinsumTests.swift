import Testing
import Foundation
import Nabla
import NablaTestSupport

@Suite struct EinsumTests {
    static let fixture = loadFixture("einsum")
    /// Case name (without dtype suffix) → equation, as in Scripts/fixtures/einsum.py.
    static let equations: [String: String] = [
        "matmul": "ij,jk->ik", "batch_matmul": "bij,bjk->bik", "trace": "ii", "diagonal": "ii->i",
        "transpose": "ij->ji", "outer": "i,j->ij", "sum_all": "ij->", "bilinear": "bn,anm,bm->ba",
        "ellipsis_matmul": "...ij,...jk->...ik", "implicit_matmul": "ij,jk", "chain3": "ij,jk,kl->il",
        "dot_implicit": "i,i", "batch_diagonal": "bii->bi", "repeated_apart": "iji->j",
        "broadcast_size1": "ij,jk", "ellipsis_sum": "...ij->ij", "uppercase_implicit": "ij,Ij",
        "hadamard": "ij,ij->ij", "scalar_operand": ",i->i", "double_contraction": "ijk,ikl->jl",
        "ellipsis_middle": "i...j,j->...i", "permute3": "abc->cab", "chain4_implicit": "ab,bc,cd,de",
        "attention": "bhqd,bhkd->bhqk",
    ]

    @Test(arguments: fixture.cases.map(\.name)) func matchesTorch(_ name: String) {
        let c = Self.fixture[name]
        let base = String(name.dropLast(4))
        guard let eq = Self.equations[base] else { Issue.record("no equation for \(name)"); return }
        let xs = c.inputs.map { $0.tensor.requiresGrad_() }
        let out = einsum(eq, xs)
        let isF32 = xs[0].dtype == .float32
        let (rtol, atol) = isF32 ? (1e-4, 1e-5) : (1e-10, 1e-12)
        let r = allClose(out, c.outputs[0].tensor, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name) '\(eq)': \(r.failure)")
        let gs = gradients(of: [(out * c.upstream!.tensor).sum()], wrt: xs)
        for (i, (g, e)) in zip(gs, c.grads!).enumerated() {
            let rg = allClose(g!, e.tensor, rtol: rtol, atol: atol)
            #expect(rg.ok, "\(name) '\(eq)' grad \(i): \(rg.failure)")
        }
    }

    @Test func everyEquationHasAFixture() {
        let bases = Set(Self.fixture.cases.map { String($0.name.dropLast(4)) })
        #expect(bases == Set(Self.equations.keys))
    }

    static func r(_ shape: [Int], _ seed: UInt64) -> Tensor { Tensor.randn(shape, dtype: .float64, generator: Generator(seed: seed)) }

    @Test func gradcheckEinsum() {
        #expect(gradcheck({ einsum("ij,jk->ik", $0[0], $0[1]) }, inputs: [Self.r([2, 3], 1), Self.r([3, 2], 2)]).passed)
        #expect(gradcheck({ einsum("ii", $0[0]) }, inputs: [Self.r([3, 3], 3)]).passed)
        #expect(gradcheck({ einsum("bn,anm,bm->ba", $0[0], $0[1], $0[2]) },
                          inputs: [Self.r([2, 3], 4), Self.r([2, 3, 2], 5), Self.r([2, 2], 6)]).passed)
        #expect(gradcheck({ einsum("...ij,...jk->...ik", $0[0], $0[1]) }, inputs: [Self.r([2, 1, 2, 3], 7), Self.r([2, 3, 2], 8)]).passed)
        #expect(gradcheck({ einsum("iji->j", $0[0]) }, inputs: [Self.r([3, 2, 3], 9)]).passed)
        // Non-contiguous operand.
        #expect(gradcheck({ einsum("ij,j->i", $0[0].t(), $0[1]) }, inputs: [Self.r([4, 3], 10), Self.r([4], 11)]).passed)
        #expect(gradgradcheck({ einsum("ij,jk,kl->il", $0[0], $0[1], $0[2]) },
                              inputs: [Self.r([2, 2], 12), Self.r([2, 3], 13), Self.r([3, 2], 14)]).passed)
    }

    @Test func shapesAndSpaces() {
        let a = Tensor.ones([2, 3]), b = Tensor.ones([3, 4])
        #expect(einsum(" ij , jk -> ik ", a, b).shape == [2, 4])
        #expect(einsum("ij,jk", a, b).toDoubleArray() == [Double](repeating: 3, count: 8))
        #expect(einsum("ii", Tensor.eye(4)).item() == 4)
        #expect(einsum("ij->j", a).shape == [3])
        #expect(einsum("i->i", Tensor([1, 2, 3])).toIntArray() == [1, 2, 3])
        #expect(einsum("ij,jk->ik", [Tensor([[1, 2]]), Tensor([[3], [4]])]).toIntArray() == [11])
    }

    static func stderrText(_ r: ExitTest.Result?) -> String {
        String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func wrongOperandCountIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("ij,jk->ik", Tensor.ones([2, 3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("einsum") && text.contains("ij,jk->ik") && text.contains("2 operand terms"), "stderr: \(text)")
    }

    @Test func sizeMismatchIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("ij,jk->ik", Tensor.ones([2, 3]), Tensor.ones([4, 5]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("einsum") && text.contains("'j'") && text.contains("[2, 3]") && text.contains("[4, 5]"), "stderr: \(text)")
    }

    @Test func badSubscriptIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("i1->i", Tensor.ones([2, 3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("einsum") && text.contains("i1->i") && text.contains("'1'"), "stderr: \(text)")
    }

    @Test func unknownOutputLetterIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("ij->k", Tensor.ones([2, 3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("einsum") && text.contains("'k'") && text.contains("does not appear"), "stderr: \(text)")
    }

    @Test func rankMismatchIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("ijk->i", Tensor.ones([2, 3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("einsum") && text.contains("operand 0 has 2 dims"), "stderr: \(text)")
    }
}
