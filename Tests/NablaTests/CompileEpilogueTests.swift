import Testing
import Nabla
import NablaTestSupport

/// `compile`'s GEMM epilogues: a matrix product with its bias, activation and residual add (and, in a backward, an
/// activation's gradient) runs as one node, block of rows by block, with eager's results; values other nodes read
/// are written out, and a group never moves a read past a write.
@Suite struct CompileEpilogueTests {
    /// The GEMM-epilogue programs of a graph.
    private func epilogues(_ g: CompiledGraph) -> [GemmEpilogue] {
        g.nodes.compactMap { if case .gemmEpilogue(let e) = $0.kind { return e } else { return nil } }
    }

    private func activation(_ name: String, _ x: Tensor) -> Tensor {
        switch name {
        case "relu": return x.relu()
        case "gelu": return x.gelu()
        case "tanh": return x.tanh()
        default: return x.sigmoid()
        }
    }

    /// 300 rows of 2048 columns: three blocks of rows, the last one short.
    @Test(arguments: ["relu", "gelu", "tanh", "sigmoid"], [DType.float32, .float64])
    func aLinearLayerItsActivationAndAResidualAddRunAsOneNode(_ act: String, _ dtype: DType) throws {
        let gen = Generator(seed: 3)
        let w = Tensor.randn([2048, 64], dtype: dtype, generator: gen) * 0.1
        let b = Tensor.randn([2048], dtype: dtype, generator: gen)
        let f = { (x: Tensor, r: Tensor) -> Tensor in activation(act, linear(x, weight: w, bias: b)) + r }
        let c = compile(f)
        let x = Tensor.randn([300, 64], dtype: dtype, generator: gen), r = Tensor.randn([300, 2048], dtype: dtype, generator: gen)
        _ = c(x, r); _ = c(x, r)
        let g = try #require(c.graph)
        #expect(g.nodes.count == 1, "\(g)")
        let e = try #require(epilogues(g).first, "\(g)")
        #expect(e.accumulate && e.initializer == .copy && e.ops.count == 2 && e.outputs == [.member(1)], "\(e)")
        #expect("\(g)".contains("matmulAccumulateEpilogue[copy(in2) → acc"), "\(g)")
        let tol = dtype == .float64 ? 1e-12 : 1e-6
        for _ in 0..<2 {
            let x = Tensor.randn([300, 64], dtype: dtype, generator: gen), r = Tensor.randn([300, 2048], dtype: dtype, generator: gen)
            let check = allClose(c(x, r), f(x, r), rtol: tol, atol: tol)
            #expect(check.ok, "\(act) \(dtype): \(check.failure)")
        }
    }

    /// A training step of a two-layer GELU network: the forward's epilogue keeps the pre-activation (GELU's backward
    /// reads it), the backward's product runs with GELU's gradient as its epilogue; gradients equal eager's.
    @Test(arguments: [DType.float32, .float64])
    func forwardAndBackwardEpiloguesGiveEagersGradients(_ dtype: DType) throws {
        let gen = Generator(seed: 8)
        let w1 = (Tensor.randn([4096, 16], dtype: dtype, generator: gen) * 0.2).requiresGrad_()
        let b1 = Tensor.randn([4096], dtype: dtype, generator: gen).requiresGrad_()
        let w2 = (Tensor.randn([8, 4096], dtype: dtype, generator: gen) * 0.02).requiresGrad_()
        let params = [w1, b1, w2]
        let f = { (x: Tensor) -> Tensor in
            for p in params { p.grad = nil }
            let loss = linear(linear(x, weight: w1, bias: b1).gelu(), weight: w2).pow(2).mean()
            loss.backward()
            return loss
        }
        let c = compile(f)
        let x = Tensor.randn([200, 16], dtype: dtype, generator: gen)
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        let programs = epilogues(g)
        #expect(programs.count >= 2, "\(g)")
        #expect(programs.contains { $0.outputs.contains(.product) && $0.ops.first == .unary(.gelu) }, "\(g)")
        #expect(programs.contains { !$0.accumulate && $0.initializer == nil && !$0.outputs.contains(.product) }, "\(g)")
        let tol = dtype == .float64 ? 1e-12 : 1e-6
        let compiledLoss = c(x)
        let compiledGrads = try params.map { try #require($0.grad).clone() }
        let eagerLoss = f(x)
        #expect(allClose(compiledLoss, eagerLoss.detach(), rtol: tol, atol: 0).ok)
        for (a, p) in zip(compiledGrads, params) {
            let check = allClose(a, try #require(p.grad), rtol: tol, atol: tol)
            #expect(check.ok, "\(dtype) \(p.shape): \(check.failure)")
        }
    }

    @Test func aLinearLayerAsEagerRunsItIsOneLinearEpilogueCall() throws {
        // The forms `Backend.linearEpilogue` computes (bias, then residual, then ReLU) are recognised and give eager's
        // numbers bit for bit; an activation before the residual add is not that form.
        let gen = Generator(seed: 5)
        let w = Tensor.randn([300, 64], generator: gen) * 0.1, b = Tensor.randn([300], generator: gen)
        let x = Tensor.randn([200, 64], generator: gen), r = Tensor.randn([200, 300], generator: gen)
        let forms: [(String, (Tensor, Tensor) -> Tensor, (residual: Bool, relu: Bool)?)] = [
            ("bias", { x, _ in linear(x, weight: w, bias: b) }, (false, false)),
            ("bias+relu", { x, _ in linear(x, weight: w, bias: b).relu() }, (false, true)),
            ("bias+residual", { x, r in linear(x, weight: w, bias: b) + r }, (true, false)),
            ("residual+relu", { x, r in (r + linear(x, weight: w, bias: b)).relu() }, (true, true)),
            ("no bias", { x, _ in linear(x, weight: w).relu() }, (false, true)),
            ("relu then residual", { x, r in linear(x, weight: w, bias: b).relu() + r }, nil),
        ]
        for (name, f, want) in forms {
            let c = compile(f)
            _ = c(x, r); let got = c(x, r)
            let g = try #require(c.graph)
            let e = try #require(epilogues(g).first, "\(name): \(g)")
            let form = e.linearLayerForm
            #expect(form?.residual == want?.residual && form?.relu == want?.relu, "\(name): \(e)")
            let eager = f(x, r)
            #expect(got.toArray(Float.self).map(\.bitPattern) == eager.toArray(Float.self).map(\.bitPattern), "\(name)")
        }
    }

    @Test func aPreActivationReadOutsideTheGroupIsWrittenOut() throws {
        let w = Tensor.randn([70, 30], dtype: .float64, generator: Generator(seed: 2))
        let f = { (xs: [Tensor]) -> [Tensor] in
            let h = xs[0].matmul(w)
            return [h.relu(), h * 2.0]
        }
        let c = compile(f)
        let x = Tensor.randn([90, 70], dtype: .float64)
        _ = c.call([x]); _ = c.call([x])
        let g = try #require(c.graph)
        let e = try #require(epilogues(g).first, "\(g)")
        #expect(e.outputs == [.member(0), .member(1)] && !e.accumulate, "\(e)")
        for (a, b) in zip(c.call([x]), f([x])) {
            let check = allClose(a, b, rtol: 0, atol: 0)
            #expect(check.ok, "\(check.failure)")
        }
    }

    /// Also: the argument's in-place change reaches the caller, as in eager mode.
    @Test func anEpilogueIsNotMovedPastAWriteToWhatItReads() throws {
        let w = Tensor.randn([12, 40], dtype: .float64, generator: Generator(seed: 4))
        let f = { (x: Tensor, y: Tensor) -> Tensor in
            let t = x.matmul(w) + y      // reads y before...
            _ = y.add_(1.0)              // ...y changes
            return t.relu() + y          // reads the new y
        }
        let c = compile(f)
        let x = Tensor.randn([30, 12], dtype: .float64), y0 = Tensor.randn([30, 40], dtype: .float64)
        for _ in 0..<3 {
            let y1 = y0.clone(), y2 = y0.clone()
            let check = allClose(c(x, y1), f(x, y2), rtol: 0, atol: 0)
            #expect(check.ok, "\(check.failure)")
            #expect(allClose(y1, y2, rtol: 0, atol: 0).ok)
        }
        let g = try #require(c.graph)
        let e = try #require(epilogues(g).first, "\(g)")
        #expect(e.ops == [.binary(.add)], "\(e)")
    }

    /// In-place reuse: element-wise outputs are written over inputs that die at them (in the backward, gradients over
    /// the gradients they are computed from); results equal eager's.
    @Test func anElementWiseOutputIsWrittenOverItsDeadInput() throws {
        let w = Tensor.randn([64, 48], dtype: .float64, generator: Generator(seed: 12)).requiresGrad_()
        let f = { (x: Tensor) -> Tensor in
            w.grad = nil
            let h = x.matmul(w)
            let loss = (h.exp() * h.sin()).relu().sum()
            loss.backward()
            return loss
        }
        let c = compile(f)
        let x = Tensor.randn([200, 64], dtype: .float64) * 0.1
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        let log = try #require(g.passLog.first { $0.hasPrefix("in-place reuse:") }, "\(g.passLog)")
        #expect(!log.hasPrefix("in-place reuse: 0 "), "\(log)\n\(g)")
        #expect(g.plan.liveBytesBound <= g.plan.peakBytes, "\(g)")
        let compiledLoss = c(x), compiledGrad = try #require(w.grad).clone()
        let eagerLoss = f(x)
        #expect(allClose(compiledLoss, eagerLoss.detach(), rtol: 1e-12, atol: 0).ok)
        let r = allClose(compiledGrad, try #require(w.grad), rtol: 1e-12, atol: 1e-12)
        #expect(r.ok, "\(r.failure)")
    }
}
