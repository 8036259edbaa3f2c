import Foundation
import Testing
import Nabla
import NablaTestSupport

/// `MetaCompiledFunction`: a graph from a symbolic trace agrees with eager code from its first call on, reads its
/// captured weights at each run, falls back to eager on a graph break, and refuses other shapes.
@Suite struct MetaCompiledFunctionTests {
    /// An encoder-like block (gather by ids, a constant made inside, matmul + bias + GELU, LayerNorm, a masked
    /// softmax, a reduction): the first call already runs the graph and matches eager.
    @Test func theFirstCallRunsTheGraphAndMatchesEager() throws {
        let gen = Generator(seed: 7)
        let table = Tensor.randn([20, 8], generator: gen)
        let w = Tensor.randn([16, 8], generator: gen), b = Tensor.randn([16], generator: gen)
        let gamma = Tensor.randn([16], generator: gen), beta = Tensor.randn([16], generator: gen)
        let f = { (xs: [Tensor]) -> [Tensor] in
            let ids = xs[0], mask = xs[1]
            let pos = Tensor.arange(0, Double(ids.shape[1]), dtype: .int64).view([1, -1])
            let e = embedding(ids, table) + embedding(pos, table)
            let h = gelu(e.matmul(w.t()) + b)
            let n = layerNorm(h, normalizedShape: [16], weight: gamma, bias: beta)
            let scores = n.matmul(n.transpose(1, 2)) + (1 - mask.to(.float32)).unsqueeze(1) * -1e9
            return [scores.softmax(dim: -1).matmul(n).sum(dim: 1)]
        }
        let specs = [TensorSpec(shape: [3, 5], dtype: .int64), TensorSpec(shape: [3, 5], dtype: .int64)]
        let c = MetaCompiledFunction(name: "block", inputs: specs, f)
        let g = try #require(c.graph)
        #expect(c.graphBreak == nil && g.nodes.count > 0 && g.nodes.count < g.tracedNodeCount)
        let p = c.compilePhases
        #expect(p.trace >= 0 && p.optimize >= 0 && p.runner >= 0 && abs(p.trace + p.optimize + p.runner - c.compileSeconds) < 1e-6)
        for seed in 0..<3 {
            let ids = Tensor.randint(0, 20, [3, 5], generator: Generator(seed: UInt64(seed)))
            let mask = Tensor(shape: [3, 5], data: [Int64](arrayLiteral: 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0))
            let got = c.call([ids, mask])[0]
            #expect(c.lastBackendCalls > 0, "call \(seed) ran eagerly")
            let want = noGrad { f([ids, mask])[0] }
            let r = allClose(got, want, rtol: 1e-5, atol: 1e-5)
            #expect(r.ok, "call \(seed): \(r.failure)")
        }
        #expect(c.explain().contains("symbolic trace") && c.explain().contains("nodes"), "\(c.explain())")
    }

    /// Captured weights are read in place at each run: a new value copied into one changes the result.
    @Test func capturedWeightsAreReadAtEachRun() {
        let w = Tensor.randn([4, 4], generator: Generator(seed: 2))
        let c = MetaCompiledFunction(inputs: [TensorSpec(shape: [2, 4])]) { xs in [xs[0].matmul(w).relu()] }
        let x = Tensor.randn([2, 4], generator: Generator(seed: 3))
        let r1 = allClose(c(x), x.matmul(w).relu(), rtol: 1e-6, atol: 1e-6)
        #expect(r1.ok, "\(r1.failure)")
        noGrad { w.copy_(Tensor.randn([4, 4], generator: Generator(seed: 4))) }
        let r2 = allClose(c(x), x.matmul(w).relu(), rtol: 1e-6, atol: 1e-6)
        #expect(r2.ok, "\(r2.failure)")
    }

    /// A function that reads a computed value on the host cannot be traced symbolically: it runs eagerly, right,
    /// and says why.
    @Test func aHostReadFallsBackToEager() throws {
        let c = MetaCompiledFunction(name: "branchy", inputs: [TensorSpec(shape: [3])]) { xs in
            [xs[0].sum().item() > 0 ? xs[0] * 2.0 : xs[0] - 1.0]
        }
        let br = try #require(c.graphBreak)
        #expect(c.graph == nil && "\(br)".contains("item"), "\(br)")
        let pos = c(Tensor([1.0, 2.0, 3.0] as [Float])), neg = c(Tensor([-1.0, -2.0, -3.0] as [Float]))
        #expect(pos.toArray(Float.self) == [2, 4, 6] && neg.toArray(Float.self) == [-2, -3, -4])
        #expect(c.lastBackendCalls == 0 && c.explain().contains("EAGER"))
    }

    @Test func anotherShapeIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let c = MetaCompiledFunction(name: "fixed", inputs: [TensorSpec(shape: [2, 3])]) { xs in [xs[0] + 1.0] }
            _ = c(Tensor.zeros([4, 3]))
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("MetaCompiledFunction(fixed)") && text.contains("[2, 3]") && text.contains("[4, 3]"), "stderr: \(text)")
    }
}
