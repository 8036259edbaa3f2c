import Testing
import Nabla
import NablaTestSupport

/// Softmax + cross-entropy: the fused kernels give the composite's values and gradients, and `compile` runs
/// `nllLoss(logSoftmax(x))` forward and backward as one node each, with eager's results.
@Suite struct CompileCrossEntropyTests {
    /// 37 rows of 11 classes, some rows ignored, class weights or none, every reduction.
    private func inputs(_ dtype: DType) -> (x: Tensor, y: Tensor, w: Tensor) {
        let gen = Generator(seed: 21)
        let x = Tensor.randn([37, 11], dtype: dtype, generator: gen) * 3.0
        var labels = (0..<37).map { ($0 * 7) % 11 }
        labels[4] = -100; labels[30] = -100
        return (x, Tensor(labels), Tensor.rand([11], dtype: dtype, generator: gen) + 0.5)
    }

    /// The CPU row kernels against the composites every backend inherits (run on the reference device).
    @Test(arguments: [LossReduction.none, .sum, .mean], [false, true])
    func theFusedKernelsMatchTheComposite(_ reduction: LossReduction, _ weighted: Bool) throws {
        let (x0, y, w0) = inputs(.float64)
        let w = weighted ? w0 : nil
        let g = reduction == .none ? Tensor.randn([37], dtype: .float64, generator: Generator(seed: 2)) : Tensor(1.5, dtype: .float64)
        for fusedCE in [true, false] {
            func run(_ device: Device) throws -> (Tensor, Tensor) {
                let x = x0.clone().to(device).requiresGrad_()
                let yd = y.to(device), wd = w?.to(device)
                let loss = fusedCE ? crossEntropyRows(x, yd, weight: wd, ignoreIndex: -100, reduction: reduction)
                                   : nllLossRows(logSoftmax(x, dim: 1), yd, weight: wd, ignoreIndex: -100, reduction: reduction)
                loss.backward(gradient: g.to(device))
                return (loss.detach().to(.cpu), try #require(x.grad).to(.cpu))
            }
            let (cpuLoss, cpuGrad) = try run(.cpu), (refLoss, refGrad) = try run(.reference)
            let v = allClose(cpuLoss, refLoss, rtol: 1e-12, atol: 1e-12)
            #expect(v.ok, "\(reduction) weighted \(weighted) fused \(fusedCE): \(v.failure)")
            let d = allClose(cpuGrad, refGrad, rtol: 1e-12, atol: 1e-12)
            #expect(d.ok, "\(reduction) weighted \(weighted) fused \(fusedCE): \(d.failure)")
            #expect(cpuGrad[4].abs().sum().item() == 0, "an ignored row gets no gradient")
        }
    }

    @Test func crossEntropyRowsPassesGradcheckToSecondOrder() throws {
        let (x0, y, w) = inputs(.float64)
        let x = x0.narrow(0, start: 0, length: 6).clone().requiresGrad_()
        let yy = y.narrow(0, start: 0, length: 6)
        #expect(gradcheck({ crossEntropyRows($0[0], yy, weight: w, ignoreIndex: -100, reduction: .mean) }, inputs: [x]).passed)
        #expect(gradgradcheck({ crossEntropyRows($0[0], yy, weight: w, ignoreIndex: -100, reduction: .sum) }, inputs: [x]).passed)
    }

    @Test(arguments: [DType.float32, .float64])
    func logSoftmaxThenNLLRunsAsOneNodeEachWay(_ dtype: DType) throws {
        let (_, y, w) = inputs(dtype)
        let weight = Tensor.randn([11, 20], dtype: dtype, generator: Generator(seed: 6)).requiresGrad_()
        let f = { (x: Tensor, y: Tensor) -> Tensor in
            weight.grad = nil
            let logits = x.matmul(weight.t())       // [37, 11]
            let loss = nllLossRows(logSoftmax(logits, dim: 1), y, weight: w, ignoreIndex: -100, reduction: .mean)
            loss.backward()
            return loss
        }
        let c = compile(f)
        let x = Tensor.randn([37, 20], dtype: dtype, generator: Generator(seed: 9))
        _ = c(x, y); _ = c(x, y)
        let g = try #require(c.graph)
        let kinds = g.nodes.map { "\($0.kind)" }
        #expect(kinds.contains { $0.hasPrefix("softmaxCrossEntropy(") } && kinds.contains { $0.hasPrefix("softmaxCrossEntropyBackward(") }, "\(g)")
        #expect(!kinds.contains { $0.hasPrefix("nllLoss") || $0.hasPrefix("logSoftmax") }, "\(g)")
        #expect(g.passLog.contains { $0.hasPrefix("softmax + cross-entropy: 1 forward and 1 backward") }, "\(g.passLog)")
        let tol = dtype == .float64 ? 1e-12 : 1e-6
        let compiledLoss = c(x, y)
        let compiledGrad = try #require(weight.grad).clone()
        let eagerLoss = f(x, y)
        #expect(allClose(compiledLoss, eagerLoss.detach(), rtol: tol, atol: tol).ok)
        let r = allClose(compiledGrad, try #require(weight.grad), rtol: tol, atol: tol)
        #expect(r.ok, "\(r.failure)")
    }
}
