import Testing
import Nabla
import NablaTestSupport

/// The autograd examples of the seed document, as tests.
@Suite struct SeedExamplesTests {
    /// Linear regression `y = 0.1 x + 0.3` from 100 random points, with plain autograd and a manual SGD step.
    @Test func linearRegressionRecoversWeights() {
        let g = Generator(seed: 7)
        let x = Tensor.rand([100], generator: g)
        let y = x * 0.1 + 0.3
        let w = Tensor.zeros([1], requiresGrad: true)
        let b = Tensor.zeros([1], requiresGrad: true)
        let lr = 0.5
        for _ in 0..<500 {
            let pred = x * w + b
            let diff = pred - y
            let loss = (diff * diff).mean()
            loss.backward()
            noGrad {
                w.sub_(w.grad! * lr)
                b.sub_(b.grad! * lr)
            }
            w.zeroGrad()
            b.zeroGrad()
        }
        #expect(abs(w.item() - 0.1) < 0.01, "w = \(w.item())")
        #expect(abs(b.item() - 0.3) < 0.01, "b = \(b.item())")
        #expect(w.isLeaf && b.isLeaf && w.requiresGrad)
    }

    /// Without `zeroGrad`, a second identical backward doubles `.grad`.
    @Test func gradientAccumulationWithoutZeroGradDoubles() {
        let w = Tensor([0.5, -1.5], requiresGrad: true)
        let x = Tensor([2.0, 3.0])
        func loss() -> Tensor { (w * x).sum() }
        loss().backward()
        let first = w.grad!.toDoubleArray()
        #expect(first == [2, 3])
        loss().backward()
        #expect(w.grad!.toDoubleArray() == first.map { $0 * 2 })
        w.zeroGrad()
        loss().backward()
        #expect(w.grad!.toDoubleArray() == first)
    }

    /// Two networks chained: detaching the first one's output stops the gradient from reaching it.
    @Test func detachStopsGradientToFirstNetwork() {
        let w1 = Tensor([[0.5, -0.2], [0.1, 0.3]], requiresGrad: true)
        let w2 = Tensor([[1.0], [2.0]], requiresGrad: true)
        let x = Tensor([[1.0, 2.0]])
        let h = matmul(x, w1)            // network 1
        let out = matmul(h.detach(), w2) // network 2, trained on network 1's frozen output
        out.sum().backward()
        #expect(w1.grad == nil)
        #expect(w2.grad != nil)
        #expect(allClose(w2.grad!, h.detach().t()).ok)

        // Without detach both networks get gradients; stopGradient behaves as detach.
        let out2 = matmul(h, w2)
        out2.sum().backward()
        #expect(w1.grad != nil)
        w1.zeroGrad()
        matmul(stopGradient(h), w2).sum().backward()
        #expect(w1.grad == nil)
    }
}
