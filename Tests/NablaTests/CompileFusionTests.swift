import Testing
import Nabla
import NablaTestSupport

/// `compile`'s element-wise fusion and copy forwarding: chains become one tiled node whose results equal eager's
/// exactly, values that leave a chain stay buffers, and reordering never moves a read past a write.
@Suite struct CompileFusionTests {
    /// The fused nodes of a graph.
    private func fused(_ g: CompiledGraph) -> [FusedProgram] {
        g.nodes.compactMap { if case .fused(let p) = $0.kind { return p } else { return nil } }
    }

    @Test(arguments: [[37, 1000], [3, 50, 4000], [5]], [DType.float32, .float64])
    func anElementWiseChainRunsAsOneTiledNodeWithEagersResults(shape: [Int], dtype: DType) throws {
        let gen = Generator(seed: 11)
        let bias = Tensor.randn([shape.last!], dtype: dtype, generator: gen)
        let f = { (x: Tensor) -> Tensor in ((x * bias + 0.5).relu() - x).exp() * 2.0 }
        let c = compile(f)
        let x = Tensor.randn(shape, dtype: dtype, generator: gen)
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        let programs = fused(g)
        #expect(programs.count == 1 && programs[0].ops.count == 6, "\(g)")
        #expect(g.nodes.count == 1, "\(g)")
        for _ in 0..<2 {
            let x = Tensor.randn(shape, dtype: dtype, generator: gen)
            let r = allClose(c(x), f(x), rtol: 0, atol: 0)
            #expect(r.ok, "\(r.failure)")
        }
    }

    @Test func aValueReadOutsideTheChainStaysABuffer() throws {
        let f = { (xs: [Tensor]) -> [Tensor] in
            let t = xs[0].exp()
            return [(t * 2.0).sin() + xs[1], t]
        }
        let c = compile(f)
        let x = Tensor.randn([20, 30], dtype: .float64), y = Tensor.randn([30], dtype: .float64)
        _ = c.call([x, y]); _ = c.call([x, y])
        let g = try #require(c.graph)
        #expect(g.nodes.contains { "\($0.kind)" == "exp" }, "\(g)")
        #expect(fused(g).first?.ops.count == 3, "\(g)")
        for (a, b) in zip(c.call([x, y]), f([x, y])) {
            let r = allClose(a, b, rtol: 0, atol: 0)
            #expect(r.ok, "\(r.failure)")
        }
    }

    /// Also: an argument the function changes in place changes for the caller, as in eager mode.
    @Test func aChainIsNotMovedPastAWriteToWhatItReads() throws {
        let f = { (x: Tensor, y: Tensor) -> Tensor in
            let a = x * y                 // reads y before...
            _ = y.add_(1.0)               // ...y changes
            return (a + y).exp()          // reads the new y
        }
        let c = compile(f)
        let x = Tensor.randn([8, 9], dtype: .float64)
        let y0 = Tensor.randn([8, 9], dtype: .float64)
        for _ in 0..<3 {
            let y1 = y0.clone(), y2 = y0.clone()
            let r = allClose(c(x, y1), f(x, y2), rtol: 0, atol: 0)
            #expect(r.ok, "\(r.failure)")
            #expect(allClose(y1, y2, rtol: 0, atol: 0).ok)
        }
        _ = try #require(c.graph)
    }

    @Test func gradientsAreWrittenInPlaceWithoutACopy() throws {
        let w = Tensor.randn([30, 20], dtype: .float64, generator: Generator(seed: 5)).requiresGrad_()
        let f = { (x: Tensor) -> Tensor in
            w.grad = nil
            let loss = (x.matmul(w).relu() * 3.0).sum()
            loss.backward()
            return loss
        }
        let c = compile(f)
        let x = Tensor.randn([16, 30], dtype: .float64)
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        #expect(!g.nodes.contains { if case .copy = $0.kind { return true } else { return false } }, "\(g)")
        #expect(g.passLog.contains { $0.hasPrefix("copy forwarding: removed") && !$0.hasSuffix("removed 0 copies") }, "\(g.passLog)")
        let compiledLoss = c(x)
        let compiledGrad = try #require(w.grad).clone()
        let eagerLoss = f(x)
        #expect(allClose(compiledLoss, eagerLoss.detach(), rtol: 1e-12, atol: 0).ok)
        let r = allClose(compiledGrad, try #require(w.grad), rtol: 1e-12, atol: 1e-12)
        #expect(r.ok, "\(r.failure)")
    }
}
