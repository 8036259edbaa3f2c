import Testing
import Nabla
import NablaTestSupport

@Suite struct SortTests {
    static let ops: [String: ReduceFixtureOp] = [
        "sort_last": { let r = $0[0].sort(); return [r.values, r.indices] },
        "sort_dim0_desc": { let r = sort($0[0], dim: 0, descending: true); return [r.values, r.indices] },
        "sort_ties": { let r = $0[0].sort(dim: 1); return [r.values, r.indices] },
        "sort_desc_ties": { let r = $0[0].sort(dim: 1, descending: true); return [r.values, r.indices] },
        "sort_nan": { let r = $0[0].sort(dim: 1); return [r.values, r.indices] },
        "sort": { let r = $0[0].sort(dim: 1); return [r.values, r.indices] },
        "argsort_desc": { [$0[0].argsort(dim: 1, descending: true)] },
        "topk_largest": { let r = $0[0].topk(2); return [r.values, r.indices] },
        "topk_smallest_dim0": { let r = topk($0[0], 2, dim: 0, largest: false); return [r.values, r.indices] },
        "kthvalue_dim": { let r = $0[0].kthvalue(2, dim: 1); return [r.values, r.indices] },
        "median_all": { [$0[0].median()] },
        "median_dim": { let r = $0[0].median(dim: 1); return [r.values, r.indices] },
        "msort": { [$0[0].msort()] },
    ]

    @Test(arguments: reduceCaseNames(ops)) func matchesTorch(_ name: String) {
        expectMatchesReduceFixture(name, Self.ops[baseCaseName(name)]!)
    }

    static var x: Tensor { Tensor.randn([3, 4], dtype: .float64, generator: Generator(seed: 31)) }   // made per use: on the default device of the caller
    static var x3: Tensor { Tensor.randn([2, 3, 2], dtype: .float64, generator: Generator(seed: 32)) }   // made per use: on the default device of the caller

    @Test func gradcheckSelections() {
        #expect(gradcheck({ $0[0].sort().values }, inputs: [Self.x]).passed)
        #expect(gradcheck({ $0[0].sort(dim: 0, descending: true).values }, inputs: [Self.x3]).passed)
        #expect(gradcheck({ $0[0].t().sort(dim: -1).values }, inputs: [Self.x]).passed)
        #expect(gradcheck({ $0[0].topk(2).values }, inputs: [Self.x]).passed)
        #expect(gradcheck({ $0[0].topk(1, dim: 1, largest: false).values }, inputs: [Self.x3]).passed)
        #expect(gradcheck({ $0[0].t().topk(3, dim: 0).values }, inputs: [Self.x]).passed)
        #expect(gradcheck({ $0[0].kthvalue(2, dim: 0, keepDim: true).values }, inputs: [Self.x]).passed)
        #expect(gradcheck({ $0[0].median(dim: 1).values }, inputs: [Self.x]).passed)
        #expect(gradcheck({ $0[0].median() }, inputs: [Self.x]).passed)
        #expect(gradgradcheck({ $0[0].sort(dim: 1).values * $0[0].topk(4, dim: 1).values }, inputs: [Self.x]).passed)
    }

    @Test func valuesAndIndices() {
        let (v, i) = Tensor([3.0, 1, 2]).sort()
        #expect(v.toDoubleArray() == [1, 2, 3] && i.toIntArray() == [1, 2, 0])
        #expect(argsort(Tensor([3, 1, 2]), descending: true).toIntArray() == [0, 2, 1])
        let t = Tensor([[1.0, 5, 3], [4, 2, 6]]).topk(2, dim: 1)
        #expect(t.values.toDoubleArray() == [5, 3, 6, 4] && t.indices.toIntArray() == [1, 2, 2, 0])
        #expect(Tensor([5.0, 1, 4]).topk(0).values.shape == [0])
        #expect(Tensor([4.0, 1, 3, 2]).median().item() == 2)
    }
}
