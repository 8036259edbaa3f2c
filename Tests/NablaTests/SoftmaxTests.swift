import Foundation
import Testing
import Nabla
import NablaTestSupport

@Suite struct SoftmaxTests {
    static let ops: [String: ReduceFixtureOp] = [
        "softmax_last": { [softmax($0[0], dim: -1)] },
        "softmax_dim0": { [$0[0].softmax(dim: 0)] },
        "log_softmax_last": { [logSoftmax($0[0], dim: -1)] },
        "log_softmax_dim1_3d": { [$0[0].logSoftmax(dim: 1)] },
        "softmax_large": { [softmax($0[0], dim: 1)] },
        "log_softmax_large": { [logSoftmax($0[0], dim: 1)] },
        "softmax_neginf": { [softmax($0[0], dim: 1)] },
        "softmin_last": { [softmin($0[0], dim: -1)] },
    ]

    @Test(arguments: reduceCaseNames(ops)) func matchesTorch(_ name: String) {
        expectMatchesReduceFixture(name, Self.ops[baseCaseName(name)]!)
    }

    static var x: Tensor { Tensor.randn([3, 4], dtype: .float64, generator: Generator(seed: 21)) }   // made per use: on the default device of the caller
    static var x3: Tensor { Tensor.randn([2, 3, 2], dtype: .float64, generator: Generator(seed: 22)) }   // made per use: on the default device of the caller

    @Test func gradcheckSoftmax() {
        #expect(gradcheck({ softmax($0[0], dim: -1) }, inputs: [Self.x]).passed)
        #expect(gradcheck({ softmax($0[0], dim: 1) }, inputs: [Self.x3]).passed)
        #expect(gradcheck({ $0[0].t().softmax(dim: 0) }, inputs: [Self.x]).passed)
        #expect(gradcheck({ softmax($0[0] * $0[1], dim: -1) }, inputs: [Self.x, Tensor.randn([4], dtype: .float64)]).passed)
        #expect(gradgradcheck({ softmax($0[0], dim: -1) }, inputs: [Self.x]).passed)
    }

    @Test func gradcheckLogSoftmax() {
        #expect(gradcheck({ logSoftmax($0[0], dim: -1) }, inputs: [Self.x]).passed)
        #expect(gradcheck({ logSoftmax($0[0], dim: 0) }, inputs: [Self.x3]).passed)
        #expect(gradcheck({ $0[0].t().logSoftmax(dim: 1) }, inputs: [Self.x]).passed)
        #expect(gradgradcheck({ logSoftmax($0[0], dim: 1) }, inputs: [Self.x]).passed)
        #expect(gradcheck({ softmin($0[0], dim: 1) }, inputs: [Self.x]).passed)
    }

    @Test func rowsSumToOneAndStayFinite() {
        let big = Tensor([[1e4, -1e4, 0], [88, 89, 90]], dtype: .float32)
        let s = softmax(big, dim: 1)
        #expect(s.sum(dim: 1).toDoubleArray().allSatisfy { Swift.abs($0 - 1) < 1e-6 })
        #expect(logSoftmax(big, dim: 1).toDoubleArray().allSatisfy { $0.isFinite })
        #expect(softmax(Tensor(3.0), dim: 0).item() == 1)
        #expect(softmax(Tensor([1, 2, 3]), dim: 0, dtype: .float64).dtype == .float64)
    }

    /// The CPU's one-pass logSoftmax rows (forward and backward, float32) against the same formulas in Double, on
    /// rows with -inf entries, an all -inf row (NaN, as x - max gives), a NaN (a NaN row) and a large value.
    @Test func logSoftmaxRowsMatchDoublePrecision() {
        let cols = 37
        var rows: [[Float]] = (0..<64).map { r in (0..<cols).map { c in Float(Foundation.sin(Double(r * cols + c)) * 30) } }
        rows[0][3] = -.infinity
        rows[1] = Array(repeating: -.infinity, count: cols)
        rows[2][5] = .nan
        rows[3][0] = 1e4
        let x = Tensor(shape: [64, cols], data: rows.flatMap { $0 }).requiresGrad_()
        let y = logSoftmax(x, dim: 1)
        let g = Tensor(shape: [64, cols], data: (0..<(64 * cols)).map { Float(Foundation.cos(Double($0))) })
        y.backward(gradient: g)
        let got = y.toFloatArray(), gotGrad = x.grad!.toFloatArray(), gs = g.toFloatArray()
        for (r, row) in rows.enumerated() {
            let m = row.contains { $0.isNaN } ? Double.nan : Double(row.max()!)
            let lse = Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
            let want = row.map { Double($0) - m - lse }
            let gsum = gs[r * cols..<(r + 1) * cols].reduce(0.0) { $0 + Double($1) }
            for c in 0..<cols {
                let i = r * cols + c
                let wantGrad = Double(gs[i]) - Foundation.exp(want[c]) * gsum
                if want[c].isNaN {
                    #expect(got[i].isNaN && gotGrad[i].isNaN, "row \(r) col \(c): \(got[i]), \(gotGrad[i]) where NaN is expected")
                    continue
                }
                if want[c].isInfinite { #expect(Double(got[i]) == want[c], "row \(r) col \(c): \(got[i]) against -inf") }
                else { #expect(Swift.abs(Double(got[i]) - want[c]) <= 2e-6 * max(1, Swift.abs(want[c])), "row \(r) col \(c): \(got[i]) against \(want[c])") }
                #expect(Swift.abs(Double(gotGrad[i]) - wantGrad) <= 2e-6 * max(1, Swift.abs(wantGrad)), "grad row \(r) col \(c)")
            }
        }
    }

    @Test func forwardModeMatchesFiniteDifferences() {
        let x = Self.x, t = Tensor.randn([3, 4], dtype: .float64, generator: Generator(seed: 23))
        for f in [{ (v: Tensor) in softmax(v, dim: 1) }, { logSoftmax($0, dim: 0) }, { $0.logsumexp(dim: 1) }, { $0.amax(dim: 0) }] {
            let (_, tangent) = jvp({ f($0[0]) }, primals: [x], tangents: [t])
            let eps = 1e-6
            let numeric = (f(x + t * eps) - f(x - t * eps)) / (2 * eps)
            let r = allClose(tangent, numeric, rtol: 1e-5, atol: 1e-7)
            #expect(r.ok, "\(r.failure)")
        }
    }
}
