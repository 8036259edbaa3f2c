import Testing
import Nabla
import NablaTestSupport

/// The LayerNorm row kernels (forward and first-order backward) against the formula written with Tensor ops.
@Suite struct LayerNormKernelTests {
    private func reference(_ x: Tensor, _ w: Tensor?, _ b: Tensor?, eps: Double) -> Tensor {
        let m = x.mean(dims: [-1], keepDim: true)
        let v = ((x - m) * (x - m)).mean(dims: [-1], keepDim: true)
        var y = (x - m) / (v + eps).sqrt()
        if let w { y = y * w }
        if let b { y = y + b }
        return y
    }

    @Test(.seeded(2), arguments: [DType.float32, .float64])
    func matchesFormulaWithGradients(_ dt: DType) {
        let (rtol, atol) = dt == .float32 ? (1e-4, 2e-5) : (1e-10, 1e-12)
        // Odd widths, a strided (transposed) input, every weight/bias combination, and one size split across threads.
        for (rows, n) in [(3, 1), (5, 7), (4, 33), (300, 256)] {
            for (hasW, hasB) in [(true, true), (true, false), (false, true), (false, false)] {
                let x = (Tensor.randn([n, rows], dtype: dt) * 3 + 1).t().requiresGrad_()
                let w = hasW ? Tensor.randn([n], dtype: dt).requiresGrad_() : nil
                let b = hasB ? Tensor.randn([n], dtype: dt).requiresGrad_() : nil
                let y = layerNorm(x, normalizedShape: [n], weight: w, bias: b, eps: 1e-5)
                let r = reference(x, w, b, eps: 1e-5)
                let what = "rows \(rows) n \(n) w \(hasW) b \(hasB) \(dt)"
                #expect(allClose(y, r, rtol: rtol, atol: atol).ok, "\(what): \(allClose(y, r, rtol: rtol, atol: atol).failure)")
                let up = Tensor.randn(y.shape, dtype: dt)
                let wrt = [x] + [w, b].compactMap { $0 }
                let g = gradients(of: [(y * up).sum()], wrt: wrt), e = gradients(of: [(r * up).sum()], wrt: wrt)
                for (i, (a, c)) in zip(g, e).enumerated() {
                    let ok = allClose(a!, c!, rtol: rtol * 10, atol: atol * 10)
                    #expect(ok.ok, "\(what) grad \(i): \(ok.failure)")
                }
            }
        }
    }
}
