import Testing
import NablaNN
import NablaTestSupport

@Suite struct DistanceLayerTests {
    @Test func modulesCallTheFunctions() {
        let a = Tensor.randn([5, 7], dtype: .float64), b = Tensor.randn([5, 7], dtype: .float64)
        let cos = CosineSimilarity(dim: 1, eps: 1e-6)
        let r = allClose(cos(a, b), cosineSimilarity(a, b, dim: 1, eps: 1e-6), rtol: 0, atol: 0)
        #expect(r.ok, "\(r.failure)")
        let pdist = PairwiseDistance(p: 1, keepDim: true)
        let d = pdist(a, b)
        #expect(d.shape == [5, 1])
        #expect(allClose(d, pairwiseDistance(a, b, p: 1, keepDim: true), rtol: 0, atol: 0).ok)
        #expect(cos.parameters().isEmpty && pdist.parameters().isEmpty)
    }

    @Test func gradientsFlowThroughTheModule() {
        let a = Tensor.randn([3, 4], dtype: .float64).requiresGrad_(), b = Tensor.randn([3, 4], dtype: .float64)
        CosineSimilarity()(a, b).sum().backward()
        #expect(a.grad?.shape == [3, 4])
    }
}
