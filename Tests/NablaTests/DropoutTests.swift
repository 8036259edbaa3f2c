import Testing
import Nabla
import NablaTestSupport

/// dropout and dropout2d: identity in eval, scaling, reproducible masks from the generator, gradients.
@Suite struct DropoutTests {
    @Test func evalAndZeroProbabilityAreIdentityWithoutDrawing() {
        let g = Generator(seed: 5)
        let x = Tensor.randn([4, 5])
        let before = g.stateValue
        #expect(dropout(x, p: 0.5, training: false, generator: g) === x)
        #expect(dropout(x, p: 0, generator: g) === x)
        #expect(dropout2d(Tensor.randn([2, 3, 4, 4]), p: 0.3, training: false, generator: g).shape == [2, 3, 4, 4])
        #expect(g.stateValue == before, "no random numbers may be drawn")
    }

    @Test func dropsAboutPAndScalesTheRest() {
        let y = dropout(Tensor.ones([100, 100]), p: 0.3, generator: Generator(seed: 1)).toDoubleArray()
        let zeros = y.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / 10_000 - 0.3) < 0.03)
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
        #expect(dropout(Tensor.ones([3]), p: 1).toDoubleArray() == [0, 0, 0])
    }

    @Test func masksComeOnlyFromTheGenerator() {
        let g = Generator(seed: 11)
        let state = g.stateValue
        let x = Tensor.randn([6, 7])
        let a = dropout(x, p: 0.5, generator: g)
        g.setState(state)
        let b = dropout(x, p: 0.5, generator: g)
        #expect(a.equal(b))
        let c = dropout(x, p: 0.5, generator: g)
        #expect(!a.equal(c))
    }

    @Test func dropout2dZeroesWholeChannels() {
        let y = dropout2d(Tensor.ones([4, 8, 3, 3]), p: 0.5, generator: Generator(seed: 2))
        let planes = y.reshape([32, 9]).toDoubleArray()
        for i in 0..<32 {
            let plane = Array(planes[(i * 9)..<(i * 9 + 9)])
            #expect(plane.allSatisfy { $0 == 0 } || plane.allSatisfy { $0 == 2 })
        }
        #expect(dropout2d(Tensor.ones([8, 3, 3]), p: 0.5, generator: Generator(seed: 2)).shape == [8, 3, 3])
    }

    @Test func gradientIsTheScaledMask() {
        let x = Tensor.ones([5, 6], requiresGrad: true)
        let y = dropout(x, p: 0.4, generator: Generator(seed: 9))
        y.sum().backward()
        #expect(x.grad!.equal(y.detached()))
        #expect(gradcheck({ dropout($0[0].t(), p: 0.4, generator: Generator(seed: 4)) }, inputs: [Tensor.randn([3, 4], dtype: .float64)]).passed)
        #expect(gradcheck({ dropout2d($0[0], p: 0.5, generator: Generator(seed: 4)) }, inputs: [Tensor.randn([2, 3, 2, 2], dtype: .float64)]).passed)
    }
}
