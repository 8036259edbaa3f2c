import Testing
import Nabla
import NablaTestSupport

/// The fused attention ops and the fused softmax rows against the same maths written with other Tensor ops
/// (softmax through `logSoftmax(...).exp()`, which does not use the fused row kernel).
@Suite struct FusedAttentionTests {
    private func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale: Double) -> Tensor {
        var s = matmul(q, k.mT) * scale
        if let mask { s = s + mask }
        return matmul(s.logSoftmax(dim: -1).exp(), v)
    }

    private func tolerance(_ dt: DType) -> (Double, Double) { dt == .float32 ? (2e-4, 2e-5) : (1e-10, 1e-12) }

    /// `[B, H, L, D]` heads seen through a permute of `[B, L, H, D]` storage (not contiguous).
    private func heads(_ b: Int, _ h: Int, _ l: Int, _ d: Int, _ dt: DType) -> Tensor {
        Tensor.randn([b, l, h, d], dtype: dt).permute(0, 2, 1, 3).requiresGrad_()
    }

    private func expectClose(_ a: Tensor, _ e: Tensor, _ dt: DType, _ what: String) {
        let (rtol, atol) = tolerance(dt)
        let r = allClose(a, e, rtol: rtol, atol: atol)
        #expect(r.ok, "\(what) \(dt): \(r.failure)")
    }

    @Test(.seeded(3), arguments: [DType.float32, .float64])
    func headsMatchReferenceWithGradients(_ dt: DType) {
        let (b, h, l, s, d, dv) = (2, 3, 5, 7, 3, 4)
        let masks: [Tensor?] = [
            nil,
            Tensor.randn([l, s], dtype: dt),
            Tensor.zeros([b, 1, 1, s], dtype: dt).maskedFill(Tensor.arange(s).ge(5).reshape([1, 1, 1, s]), value: -Double.infinity),
        ]
        for mask in masks {
            let q = heads(b, h, l, d, dt), k = heads(b, h, s, d, dt)
            let v = Tensor.randn([b, h, s, dv], dtype: dt).requiresGrad_()
            let y = attentionHeads(q, k, v, mask: mask, scale: 0.37)
            let r = reference(q, k, v, mask: mask, scale: 0.37)
            expectClose(y, r, dt, "forward")
            let up = Tensor.randn(y.shape, dtype: dt)
            let g = gradients(of: [(y * up).sum()], wrt: [q, k, v])
            let e = gradients(of: [(r * up).sum()], wrt: [q, k, v])
            for (i, (a, x)) in zip(g, e).enumerated() { expectClose(a!, x!, dt, "grad \(i)") }
        }
    }

    @Test(.seeded(11)) func largeInputsSplitAcrossThreadsMatchReference() {
        let q = heads(3, 4, 64, 16, .float32), k = heads(3, 4, 80, 16, .float32)
        let v = Tensor.randn([3, 4, 80, 8]).requiresGrad_()
        let mask = Tensor.randn([3, 1, 64, 80])
        let y = attentionHeads(q, k, v, mask: mask, scale: 0.25), r = reference(q, k, v, mask: mask, scale: 0.25)
        expectClose(y, r, .float32, "large forward")
        let up = Tensor.randn(y.shape)
        let g = gradients(of: [(y * up).sum()], wrt: [q, k, v]), e = gradients(of: [(r * up).sum()], wrt: [q, k, v])
        for (i, (a, x)) in zip(g, e).enumerated() { expectClose(a!, x!, .float32, "large grad \(i)") }
        let x = (Tensor.randn([300, 256]) * 3).requiresGrad_()
        let sy = softmax(x, dim: 1), sr = x.logSoftmax(dim: 1).exp()
        expectClose(sy, sr, .float32, "large softmax")
        let su = Tensor.randn(sy.shape)
        expectClose(gradients(of: [(sy * su).sum()], wrt: [x])[0]!, gradients(of: [(sr * su).sum()], wrt: [x])[0]!, .float32, "large softmax grad")
    }

    @Test func headsSecondOrderMatchesReference() {
        let q = heads(1, 2, 3, 2, .float64), k = heads(1, 2, 4, 2, .float64)
        let v = Tensor.randn([1, 2, 4, 3], dtype: .float64).requiresGrad_()
        let mask = Tensor.randn([3, 4], dtype: .float64)
        func gradNorm(_ f: (Tensor, Tensor, Tensor) -> Tensor) -> [Tensor?] {
            let y = f(q, k, v)
            let g = gradients(of: [(y * y).sum()], wrt: [q, k, v], createGraph: true)
            return gradients(of: [g[0]!.pow(2).sum() + (g[1]! * g[2]!.sum()).sum()], wrt: [q, k, v])
        }
        let a = gradNorm { attentionHeads($0, $1, $2, mask: mask, scale: 0.5) }
        let e = gradNorm { reference($0, $1, $2, mask: mask, scale: 0.5) }
        for (i, (x, r)) in zip(a, e).enumerated() { expectClose(x!, r!, .float64, "second order \(i)") }
        #expect(gradcheck({ attentionHeads($0[0], $0[1], $0[2], mask: mask, scale: 0.5) },
                          inputs: [q.detached(), k.detached(), v.detached()]).passed)
    }

    @Test(.seeded(5), arguments: [DType.float32, .float64])
    func packedMatchesReference(_ dt: DType) {
        let (n, l, heads, e) = (3, 6, 2, 10)
        for seqFirst in [false, true] {
            let raw = Tensor.randn(seqFirst ? [l, n, 3 * e] : [n, l, 3 * e], dtype: dt).requiresGrad_()
            let qkv = seqFirst ? raw.transpose(0, 1) : raw
            let mask = Tensor.randn([n, heads, l, l], dtype: dt)
            let y = packedSelfAttention(qkv, heads: heads, mask: mask, scale: 0.3)
            func part(_ i: Int) -> Tensor { qkv.narrow(2, start: i * e, length: e).reshape([n, l, heads, e / heads]).permute(0, 2, 1, 3) }
            let r = reference(part(0), part(1), part(2), mask: mask, scale: 0.3).permute(0, 2, 1, 3).reshape([n, l, e])
            expectClose(y, r, dt, "packed forward seqFirst=\(seqFirst)")
            let up = Tensor.randn(y.shape, dtype: dt)
            let g = gradients(of: [(y * up).sum()], wrt: [raw], retainGraph: true)[0]!
            let x = gradients(of: [(r * up).sum()], wrt: [raw])[0]!
            expectClose(g, x, dt, "packed grad seqFirst=\(seqFirst)")
        }
    }

    @Test func packedSecondOrderPassesGradgradcheck() {
        let qkv = Tensor.randn([2, 3, 12], dtype: .float64)
        #expect(gradgradcheck({ packedSelfAttention($0[0], heads: 2, scale: 0.4) }, inputs: [qkv]).passed)
    }

    @Test(.seeded(7), arguments: [DType.float32, .float64])
    func softmaxRowsMatchReference(_ dt: DType) {
        for cols in [1, 3, 17, 128] {
            let x = (Tensor.randn([5, 3, cols], dtype: dt) * 4).requiresGrad_()
            let y = softmax(x, dim: -1)
            let r = x.logSoftmax(dim: -1).exp()
            expectClose(y, r, dt, "softmax cols=\(cols)")
            let up = Tensor.randn(y.shape, dtype: dt)
            expectClose(gradients(of: [(y * up).sum()], wrt: [x])[0]!, gradients(of: [(r * up).sum()], wrt: [x])[0]!, dt, "softmax grad")
        }
        // -inf entries give exact zeros; a NaN or an all -inf row gives a NaN row, as PyTorch.
        let inf = Double.infinity
        let z = softmax(Tensor([[0, -inf, 1], [.nan, 0, 0], [-inf, -inf, -inf]], dtype: dt), dim: 1).toDoubleArray()
        #expect(z[1] == 0 && abs(z[0] + z[2] - 1) < 1e-6)
        #expect(z[3...].allSatisfy { $0.isNaN })
    }
}
