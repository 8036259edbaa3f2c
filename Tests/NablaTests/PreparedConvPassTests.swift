import Testing
import Nabla
import NablaTestSupport

/// The prepared-convolution and prepared-linear passes of compiled eval graphs: conv2d (+ ReLU) (+ 2x2 max pool) on
/// parameters becomes one `conv2d(prepared, ...)` node and a batch-1 linear layer one `linear(prepared, ...)` node;
/// the results stay eager's (up to the rounding of another algorithm), a weight changed in place is packed again, and
/// training graphs keep their ops.
@Suite struct PreparedConvPassTests {
    /// A two-layer CNN forward on captured weights: conv + ReLU + pool, then conv + ReLU.
    static func model(seed: UInt64) -> (f: (Tensor) -> Tensor, w1: Tensor, w2: Tensor) {
        let g = Generator(seed: seed)
        let w1 = Tensor.randn([8, 3, 3, 3], generator: g) * 0.3, b1 = Tensor.randn([8], generator: g)
        let w2 = Tensor.randn([16, 8, 3, 3], generator: g) * 0.2, b2 = Tensor.randn([16], generator: g)
        let f = { (x: Tensor) -> Tensor in
            let h = maxPool2d(relu(conv2d(x, w1, bias: b1, padding: 1)), kernelSize: 2)
            return relu(conv2d(h, w2, bias: b2, padding: 1)) * 2.0
        }
        return (f, w1, w2)
    }

    @Test(arguments: [1, 3])
    func anEvalGraphRunsItsConvolutionsPreparedWithTheEpilogueFused(batch: Int) throws {
        let (f, _, _) = Self.model(seed: 5)
        let c = compile(name: "cnn", f)
        let x = Tensor.randn([batch, 3, 12, 13], generator: Generator(seed: 6))
        let expected = noGrad { f(x) }
        for _ in 0..<3 {
            let r = allClose(noGrad { c(x) }, expected, rtol: 1e-4, atol: 1e-5)
            #expect(r.ok, "\(r.failure)")
        }
        let g = try #require(c.graph)
        let kinds = g.nodes.map { "\($0.kind)" }
        #expect(kinds.contains("conv2d(prepared, k: 3x3, stride: 1, pad: 1, bias, epilogue: relu+maxPool2x2)"), "\(g)")
        #expect(kinds.contains("conv2d(prepared, k: 3x3, stride: 1, pad: 1, bias, epilogue: relu)"), "\(g)")
        #expect(!kinds.contains("relu") && !kinds.contains("maxPool2d") && !kinds.contains { $0.hasPrefix("conv2d(k:") }, "\(g)")
        #expect(g.passLog.contains("prepared convolutions: 2 conv2d nodes with 3 relu/maxPool2d nodes fused"), "\(g.passLog)")
    }

    @Test func aWeightChangedInPlaceIsPackedAgain() throws {
        let (f, w1, w2) = Self.model(seed: 7)
        let c = compile(name: "cnn", f)
        let x = Tensor.randn([1, 3, 10, 10], generator: Generator(seed: 8))
        _ = noGrad { c(x) }
        _ = noGrad { c(x) }
        let before = noGrad { c(x) }.clone()
        noGrad { w1.mul_(-0.5); w2.add_(0.25) }
        let after = noGrad { c(x) }
        let r = allClose(after, noGrad { f(x) }, rtol: 1e-4, atol: 1e-5)
        #expect(r.ok, "\(r.failure)")
        #expect(!allClose(after, before, rtol: 1e-3, atol: 1e-3).ok, "the output did not change with the weights")
        #expect("\(try #require(c.graph))".contains("conv2d(prepared"))
    }

    @Test func aTrainingGraphKeepsItsConvolutions() throws {
        let (_, _, graph, _) = try ConvReluPoolTests.compiledConvStep(seed: 9) { x, w, b in
            maxPool2d(relu(conv2d(x, w, bias: b, padding: 1)), kernelSize: 2).pow(2).mean()
        }
        let kinds = graph.nodes.map { "\($0.kind)" }
        // Its convolution block is the training form (values and indices kept for the backward), not the prepared one.
        #expect(!kinds.contains { $0.hasPrefix("conv2d(prepared") } && kinds.contains { $0.hasPrefix("conv2d+relu+maxPool2d(k:") }, "\(graph)")
    }

    @Test func aBatchOneLinearLayerRunsOnThePreparedWeight() throws {
        let g = Generator(seed: 11)
        let w1 = Tensor.randn([37, 300], generator: g) * 0.1, b1 = Tensor.randn([37], generator: g)
        let w2 = Tensor.randn([5, 37], generator: g) * 0.2
        let f = { (x: Tensor) -> Tensor in linear(relu(linear(x, weight: w1, bias: b1)), weight: w2) }
        let c = compile(name: "mlp", f)
        for rows in [1, 3, 9] {
            let x = Tensor.randn([rows, 300], generator: g)
            let expected = noGrad { f(x) }
            for _ in 0..<3 {
                let r = allClose(noGrad { c(x) }, expected, rtol: 1e-5, atol: 1e-5)
                #expect(r.ok, "\(rows) rows: \(r.failure)")
            }
            let kinds = try #require(c.graph).nodes.map { "\($0.kind)" }
            if rows <= 4 {
                #expect(kinds.contains("linear(prepared, bias)") && kinds.contains("linear(prepared)"), "\(kinds)")
            } else {
                #expect(!kinds.contains { $0.hasPrefix("linear(prepared") }, "\(kinds)")   // OpenBLAS's GEMM
            }
        }
        noGrad { w1.mul_(2.0) }
        let x = Tensor.randn([1, 300], generator: g)
        _ = noGrad { c(x) }
        let r = allClose(noGrad { c(x) }, noGrad { f(x) }, rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "after the weight changed: \(r.failure)")
    }
}
