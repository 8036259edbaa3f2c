import Testing
import Nabla
import NablaTestSupport

/// grad, vmap, jacrev and jacfwd against torch.func (Scripts/fixtures/functransforms.py), float64.
@Suite struct FunctionTransformsTests {
    static let fixture = loadFixture("functransforms")

    static func fSin(_ x: Tensor) -> Tensor { (x.sin() * x).sum() }
    static func fVec(_ w43: Tensor) -> (Tensor) -> Tensor { { x in (w43.matmul(x)).tanh() * x[0] } }
    static func sampleLoss(_ a: [Tensor]) -> Tensor {
        let h = (a[0].matmul(a[4]) + a[1]).tanh()
        return (a[2].matmul(h) + a[3] - a[5]).pow(2).sum()
    }
    /// The constant matrix the fixture's f_vec closes over (stored as case "w43").
    static let w43 = fixture["w43"].inputs[0].tensor

    func expectOutputs(_ name: String, _ outs: [Tensor], rtol: Double = 1e-10, atol: Double = 1e-12,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let c = Self.fixture[name]
        #expect(outs.count == c.outputs.count, "\(name): \(outs.count) outputs, expected \(c.outputs.count)", sourceLocation: sourceLocation)
        for (i, (o, e)) in zip(outs, c.outputs).enumerated() {
            let r = allClose(o, e.tensor, rtol: rtol, atol: atol)
            #expect(r.ok, "\(name) output \(i): \(r.failure)", sourceLocation: sourceLocation)
        }
    }

    func inputs(_ name: String) -> [Tensor] { Self.fixture[name].inputs.map(\.tensor) }

    @Test func gradMatchesTorch() {
        expectOutputs("grad_sin", [grad(Self.fSin)(inputs("grad_sin")[0])])
        let dTwo = grad(argnums: [0, 1]) { a in a[0].matmul(a[1]).tanh().sum() }
        expectOutputs("grad_argnums", dTwo(inputs("grad_argnums")))
    }

    @Test func vmapMatchesTorch() {
        let mm = vmap({ a in a[0].matmul(a[1]) }, inDims: [0, nil], outDims: 1)
        expectOutputs("vmap_in_none_out1", [mm(inputs("vmap_in_none_out1"))])
        let mixed = vmap({ a in (a[0] * a[1]).sum() + a[0].exp() }, inDims: [1, 0])
        expectOutputs("vmap_in_dims_1_0", [mixed(inputs("vmap_in_dims_1_0"))])
    }

    @Test func vmapOfGradGivesPerSampleGradients() {
        expectOutputs("vmap_grad", [vmap(grad(Self.fSin))(inputs("vmap_grad")[0])])
    }

    @Test func jacobiansMatchTorch() {
        let f = Self.fVec(Self.w43)
        expectOutputs("jacrev_vec", [jacrev(f)(inputs("jacrev_vec")[0])])
        expectOutputs("jacfwd_vec", [jacfwd(f)(inputs("jacfwd_vec")[0])])
        let gram = { (m: Tensor) in m.matmul(m.t()) }
        expectOutputs("jacrev_gram", [jacrev(gram)(inputs("jacrev_gram")[0])])
        expectOutputs("jacfwd_gram", [jacfwd(gram)(inputs("jacfwd_gram")[0])])
        expectOutputs("vmap_jacrev", [vmap(jacrev(f))(inputs("vmap_jacrev")[0])])
    }

    @Test func hessianByComposition() {
        let x = inputs("hessian_sin")[0]
        expectOutputs("hessian_sin", [jacrev(jacrev(Self.fSin))(x)])
        expectOutputs("hessian_sin", [jacfwd(jacrev(Self.fSin))(x)])
        expectOutputs("hessian_sin", [jacrev(grad(Self.fSin))(x)])
    }

    /// vmap over grad of a small MLP's per-sample loss: against torch.func and against a loop of backward calls.
    @Test func perSampleGradientsOfAnMLP() {
        let args = inputs("per_sample_grads")
        let perSample = vmap(grad(argnums: [0, 1, 2, 3], Self.sampleLoss), inDims: [nil, nil, nil, nil, 0, 0], outDims: [0])(args)
        expectOutputs("per_sample_grads", perSample)
        // The same by hand: one backward per sample.
        let params = (0..<4).map { args[$0].detached().requiresGrad_() }
        for i in 0..<args[4].shape[0] {
            for p in params { p.zeroGrad() }
            Self.sampleLoss(params + [args[4][i], args[5][i]]).backward()
            for k in 0..<4 {
                let r = allClose(perSample[k][i], params[k].grad!, rtol: 1e-12, atol: 1e-14)
                #expect(r.ok, "sample \(i) parameter \(k): \(r.failure)")
            }
        }
    }

    @Test func transformsAreDifferentiable() {
        // grad(grad(sin))(x) = -sin(x), elementwise through a sum.
        let x = Tensor.randn([4], dtype: .float64)
        let gg = grad { y in grad { z in z.sin().sum() }(y).sum() }(x)
        #expect(allClose(gg, -x.sin(), rtol: 1e-12, atol: 1e-14).ok)
        // Reverse mode through vmap: d/dx Σ_i f(x_i) = per-sample gradient.
        let xs = Tensor.randn([3, 5], dtype: .float64).requiresGrad_()
        vmap({ Self.fSin($0) })(xs).sum().backward()
        #expect(allClose(xs.grad!, vmap(grad(Self.fSin))(xs.detached()), rtol: 1e-12, atol: 1e-14).ok)
    }

    @Test func unusedArgumentsGiveZeros() {
        let g = grad(argnums: [0, 1]) { a in a[0].sum() }([Tensor.randn([2], dtype: .float64), Tensor.randn([3], dtype: .float64)])
        #expect(g[1].shape == [3] && g[1].toDoubleArray() == [0, 0, 0])
    }
}
