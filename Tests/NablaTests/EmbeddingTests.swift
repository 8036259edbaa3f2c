import Testing
import Nabla
import NablaTestSupport

/// embedding and bilinear against PyTorch, with gradchecks.
@Suite struct EmbeddingTests {
    @Test func embeddingMatchesPyTorch() {
        checkNormFixture("embedding_padding") { [embedding($0[0], $0[1], paddingIdx: 1)] }
        checkNormFixture("embedding") { [embedding($0[0], $0[1])] }
    }

    @Test func paddingRowGetsNoGradient() {
        let w = Tensor.randn([4, 3], requiresGrad: true)
        embedding(Tensor([[0, 2], [2, 2]]), w, paddingIdx: -2).sum().backward()
        #expect(w.grad!.toDoubleArray() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(embedding(Tensor([1, 3]), w).shape == [2, 3])
    }

    @Test func gradcheckEmbedding() {
        let idx = Tensor([[2, 0, 2], [1, 1, 3]])
        // The padding row's gradient is zero by definition (not the numerical one): keep it out of the lookup.
        let noPad = Tensor([[2, 0, 2], [3, 0, 3]])
        #expect(gradcheck({ embedding(noPad, $0[0], paddingIdx: 1) }, inputs: [Tensor.randn([4, 3], dtype: .float64)]).passed)
        #expect(gradcheck({ embedding(idx, $0[0].t()) }, inputs: [Tensor.randn([3, 4], dtype: .float64)]).passed)   // non-contiguous weight
    }

    @Test func bilinearMatchesPyTorch() {
        checkNormFixture("bilinear") { [bilinear($0[0], $0[1], $0[2], $0[3])] }
        #expect(bilinear(Tensor.randn([2, 3, 4]), Tensor.randn([2, 3, 5]), Tensor.randn([6, 4, 5])).shape == [2, 3, 6])
    }

    @Test func gradcheckBilinear() {
        let x1 = Tensor.randn([3, 2], dtype: .float64), x2 = Tensor.randn([2, 3], dtype: .float64)
        let w = Tensor.randn([2, 3, 3], dtype: .float64), b = Tensor.randn([2], dtype: .float64)
        #expect(gradcheck({ bilinear($0[0].t(), $0[1], $0[2], $0[3]) }, inputs: [x1, x2, w, b]).passed)
        // Leading dims broadcast-free but batched: (2, 1, 3) inputs.
        #expect(gradcheck({ bilinear($0[0].t().unsqueeze(1), $0[1].unsqueeze(1), $0[2], $0[3]) }, inputs: [x1, x2, w, b]).passed)
    }
}
