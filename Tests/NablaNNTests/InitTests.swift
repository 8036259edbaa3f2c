import Testing
import NablaNN
import NablaTestSupport

/// `torch.nn.init` twins: statistics of the random initialisers, gains, fans, orthogonality.
@Suite struct InitTests {
    /// Mean and population standard deviation of a tensor's values.
    func stats(_ t: Tensor) -> (mean: Double, std: Double) {
        (t.mean().item(), t.to(.float64).std(correction: 0).item())
    }

    @Test func gainsEqualPyTorch() {
        #expect(calculateGain(.linear) == 1 && calculateGain(.conv2d) == 1 && calculateGain(.sigmoid) == 1)
        #expect(calculateGain(.tanh) == 5.0 / 3)
        #expect(calculateGain(.relu) == 2.0.squareRoot())
        #expect(abs(calculateGain(.leakyRelu) - 1.4141428569978354) < 1e-15)
        #expect(abs(calculateGain(.leakyRelu, param: 0.2) - 1.3867504905630728) < 1e-15)
        #expect(calculateGain(.selu) == 0.75)
    }

    @Test func fans() {
        #expect(calculateFanInAndFanOut(Tensor.zeros([16, 3, 5, 5])) == (75, 400))
        #expect(calculateFanInAndFanOut(Tensor.zeros([10, 20])) == (20, 10))
    }

    @Test func uniformNormalConstant() {
        let g = Generator(seed: 1)
        let u = uniform_(Tensor.empty([200, 200]), a: -1, b: 3, generator: g)
        let su = stats(u)
        #expect(abs(su.mean - 1) < 0.03 && abs(su.std - 4 / 12.0.squareRoot()) < 0.02)
        #expect(u.min().item() >= -1 && u.max().item() < 3)
        let sn = stats(normal_(Tensor.empty([200, 200]), mean: 2, std: 0.5, generator: g))
        #expect(abs(sn.mean - 2) < 0.01 && abs(sn.std - 0.5) < 0.01)
        #expect(constant_(Tensor.empty([3]), val: 0.25).toDoubleArray() == [0.25, 0.25, 0.25])
        #expect(zeros_(Tensor.ones([2])).toDoubleArray() == [0, 0] && ones_(Tensor.zeros([2])).toDoubleArray() == [1, 1])
        #expect(eye_(Tensor.empty([2, 3])).toDoubleArray() == [1, 0, 0, 0, 1, 0])
    }

    @Test func xavierAndKaimingHaveTheRightSpread() {
        let g = Generator(seed: 2)
        let xu = xavierUniform_(Tensor.empty([300, 200]), generator: g)
        let a = (6.0 / 500).squareRoot()
        #expect(xu.abs().max().item() <= a && abs(stats(xu).std - a / 3.0.squareRoot()) < 0.003)
        #expect(abs(stats(xavierNormal_(Tensor.empty([300, 200]), gain: 2, generator: g)).std - 2 * (2.0 / 500).squareRoot()) < 0.003)
        let kn = kaimingNormal_(Tensor.empty([256, 64, 3, 3]), mode: .fanOut, nonlinearity: .relu, generator: g)
        #expect(abs(stats(kn).std - 2.0.squareRoot() / (256.0 * 9).squareRoot()) < 0.001)
        let ku = kaimingUniform_(Tensor.empty([128, 400]), a: 5.0.squareRoot(), generator: g)
        let bound = 1 / 400.0.squareRoot()   // PyTorch's Linear default
        #expect(ku.abs().max().item() <= bound + 1e-7 && ku.abs().max().item() > 0.99 * bound)
    }

    @Test func truncNormalStaysInBounds() {
        let t = truncNormal_(Tensor.empty([100, 100]), std: 1, a: -1, b: 1.5, generator: Generator(seed: 3))
        #expect(t.min().item() >= -1 && t.max().item() <= 1.5)
        let s = truncNormal_(Tensor.empty([100, 100]), mean: 0, std: 0.02, generator: Generator(seed: 4))
        #expect(abs(stats(s).std - 0.02) < 0.001)   // a, b are absolute: ±2 is 100 std away here
    }

    @Test func orthogonalGivesOrthonormalRowsOrColumns() {
        let tall = orthogonal_(Tensor.empty([6, 4], dtype: .float64), generator: Generator(seed: 5))
        #expect(allClose(matmul(tall.t(), tall), Tensor.eye(4, dtype: .float64), atol: 1e-12).ok)
        let wide = orthogonal_(Tensor.empty([3, 2, 4]), gain: 2, generator: Generator(seed: 6))
        let w = wide.reshape([3, 8])
        #expect(allClose(matmul(w, w.t()), Tensor.eye(3) * 4, atol: 1e-5).ok)
    }

    @Test func sameGeneratorStateGivesSameWeights() {
        let a = kaimingUniform_(Tensor.empty([5, 5]), generator: Generator(seed: 9))
        let b = kaimingUniform_(Tensor.empty([5, 5]), generator: Generator(seed: 9))
        #expect(a.equal(b))
    }

    @Test func perTypeInitByWalkingModules() {
        let net = Sequential(Linear(8, 16), BatchNorm1d(16), ReLU(), Linear(16, 4), LayerNorm(4))
        let g = Generator(seed: 10)
        for m in net.modules() {
            if let l = m as? Linear {
                xavierUniform_(l.weight, generator: g)
                if let b = l.bias { zeros_(b) }
            } else if let bn = m as? BatchNormBase {
                constant_(bn.weight!, val: 0.5)
                zeros_(bn.bias!)
            }
        }
        let linears = net.modules().compactMap { $0 as? Linear }
        #expect(linears.count == 2 && linears.allSatisfy { $0.bias!.abs().sum().item() == 0 && $0.weight.requiresGrad })
        #expect((net[1] as? BatchNorm1d)?.weight?.toDoubleArray() == Array(repeating: 0.5, count: 16))
        #expect(net.parameters().allSatisfy { $0.isLeaf && $0.requiresGrad })
    }
}
