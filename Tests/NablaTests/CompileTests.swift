import Testing
import Nabla
import NablaTestSupport

/// `compile`: traced graphs agree with eager code, retrace on a new signature and say why, and the passes (dead
/// code, common subexpressions, identities, constants, memory plan) do what they claim.
@Suite struct CompileTests {
    @Test func aCompiledFunctionMatchesEagerAndRetracesOnANewShape() {
        let w = Tensor.randn([4, 3], dtype: .float64, generator: Generator(seed: 1))
        let f = { (x: Tensor) -> Tensor in (x.matmul(w).tanh() * 2.0 + 1.0).softmax(dim: -1).sum(dims: [0]) }
        let c = compile(name: "f", f)
        for n in [5, 5, 5, 7, 7, 7, 5] {
            let x = Tensor.randn([n, 4], dtype: .float64)
            let r = allClose(c(x), f(x), rtol: 1e-12, atol: 1e-14)
            #expect(r.ok, "\(r.failure)")
        }
        let text = c.explain()
        #expect(text.contains("2 signature(s)") && text.contains("retrace: (torch.float64[7, 4])"), "\(text)")
        #expect(c.graph != nil)
    }

    @Test func deadCodeCommonSubexpressionsIdentitiesAndConstantsAreOptimisedAway() throws {
        let c = compile { (x: Tensor) -> Tensor in
            _ = x.exp().sum()                  // dead: nothing reads it
            let a = x.sin(), b = x.sin()       // the same value twice
            let one = Tensor.ones([3]) * 3.0   // a constant
            return (a + b) * 1.0 + one
        }
        let x = Tensor.randn([2, 3])
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        #expect(g.tracedNodeCount > g.nodes.count, "\(g.passLog)")
        let kinds = g.nodes.map { "\($0.kind)" }
        #expect(!kinds.contains("exp"), "\(g)")
        #expect("\(g)".components(separatedBy: "sin").count == 2, "\(g)")
        #expect(!kinds.contains { $0.hasPrefix("mul(_, 1.0)") }, "\(g)")
        #expect(g.folded.contains(true), "\(g.passLog)")
        let r = allClose(c(x), x.sin() * 2.0 + 3.0, rtol: 1e-6, atol: 1e-6)
        #expect(r.ok, "\(r.failure)")
        #expect("\(g)".hasPrefix("graph(") && g.dot().contains("digraph"))
    }

    @Test func theMemoryPlanReusesBuffersWhoseLifetimesDoNotOverlap() throws {
        let w = Tensor.randn([64, 64], generator: Generator(seed: 3))
        let f = { (x: Tensor) -> Tensor in
            var y = x
            for _ in 0..<8 { y = y.matmul(w).softmax(dim: 1) }   // no element-wise chain: every result is a buffer
            return y
        }
        let c = compile(f)
        let x = Tensor.randn([64, 64])
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        #expect(g.plan.peakBytes * 4 <= g.plan.unplannedBytes, "peak \(g.plan.peakBytes) of \(g.plan.unplannedBytes)")
        // No plan fits in less than what is alive at once; this one stays close to it.
        #expect(g.plan.peakBytes >= g.plan.liveBytesBound && g.plan.peakBytes <= 2 * g.plan.liveBytesBound, "\(g)")
        let y = f(x)
        let r = allClose(c(x), y, rtol: 1e-6, atol: 1e-7)
        #expect(r.ok, "\(r.failure)")
    }

    @Test func anOutputThatNeedsAutogradFallsBackToEagerAndSaysSo() {
        let w = Tensor.randn([3, 2]).requiresGrad_()
        let c = compile { (x: Tensor) -> Tensor in x.matmul(w) }
        let x = Tensor.randn([4, 3])
        for _ in 0..<3 {
            let y = c(x)
            #expect(y.requiresGrad)   // eager: gradients still flow
        }
        #expect(c.graph == nil)
        #expect(c.graphBreaks.first?.reason.contains("requires grad") == true, "\(c.explain())")
        // Under noGrad the same function compiles.
        let y = noGrad { () -> Tensor in _ = c(x); _ = c(x); return c(x) }
        #expect(c.graph != nil, "\(c.explain())")
        let r = allClose(y, noGrad { x.matmul(w) }, rtol: 1e-6, atol: 1e-7)
        #expect(r.ok, "\(r.failure)")
    }

    @Test func aCapturedTensorReadOnTheHostFallsBackInsteadOfKeepingItsTracedValue() {
        let threshold = Tensor([0.0], dtype: .float64)
        let c = compile { (x: Tensor) -> Tensor in threshold.item() > 0.5 ? x * 2 : x }
        let x = Tensor([1.0, 2.0], dtype: .float64)
        for _ in 0..<2 { #expect(c(x).toDoubleArray() == [1, 2]) }
        threshold.fill_(1)                                  // the caller changes it between calls
        #expect(c(x).toDoubleArray() == [2, 4])
        #expect(c.graph == nil)
        #expect(c.graphBreaks.first?.reason.contains("captured") == true, "\(c.explain())")
        // A literal made inside the function is a constant: reading it does not break the graph.
        let d = compile { (x: Tensor) -> Tensor in x * Tensor([3.0], dtype: .float64).item() }
        for _ in 0..<3 { #expect(d(x).toDoubleArray() == [3, 6]) }
        #expect(d.graph != nil, "\(d.explain())")
    }

    @Test func randomOpsDrawAnewAtEveryRun() {
        let c = compile { (x: Tensor) -> Tensor in x + Tensor.rand([4]) }
        let x = Tensor.zeros([4])
        let runs = (0..<4).map { _ in c(x).toFloatArray() }
        #expect(c.graph != nil)
        #expect(Set(runs.map { $0.description }).count == 4, "\(runs)")
    }
}
