import Foundation
import Testing
import Nabla

/// The float32 erf and exact-GELU kernels (CNablaKernels/erf.c) against double-precision libm, on a dense grid that
/// crosses both of the kernels' ranges, the far tails, special values, and a size split across the kernel threads.
@Suite struct ErfKernelTests {
    private static let grid: [Float] = (0...400_000).map { -14 + 28 * Float($0) / 400_000 }

    private func worstRelativeError(_ got: [Float], _ want: [Double], where keep: (Int) -> Bool) -> (Double, Int) {
        var worst = 0.0, at = 0
        for i in got.indices where keep(i) && Swift.abs(want[i]) > 1e-30 {
            let e = Swift.abs(Double(got[i]) - want[i]) / Swift.abs(want[i])
            if e > worst { worst = e; at = i }
        }
        return (worst, at)
    }

    @Test func erfIsWithinTwoUlpsOfDoublePrecision() {
        let x = Tensor(shape: [Self.grid.count], data: Self.grid)
        let got = x.erf().toFloatArray()
        let want = Self.grid.map { Foundation.erf(Double($0)) }
        let (worst, at) = worstRelativeError(got, want) { _ in true }
        #expect(worst < 3e-7, "erf: relative error \(worst) at x = \(Self.grid[at])")
    }

    @Test func geluKeepsItsRelativePrecisionInTheLeftTail() {
        let x = Tensor(shape: [Self.grid.count], data: Self.grid)
        let got = x.gelu().toFloatArray()
        // x·Φ(x) with Φ from erfc, so the reference itself does not cancel for negative x.
        let want = Self.grid.map { Double($0) * 0.5 * Foundation.erfc(-Double($0) / 2.0.squareRoot()) }
        // Below −13, Φ(x) is subnormal in float: only the normal range is held to the bound.
        let (worst, at) = worstRelativeError(got, want) { Self.grid[$0] > -13 }
        #expect(worst < 1e-6, "gelu: relative error \(worst) at x = \(Self.grid[at])")
    }

    @Test func stridedInputsTakeTheScalarPathAndAgree() {
        let x = Tensor(shape: [2000, 2], data: Self.grid.prefix(4000).map { $0 })
        let strided = x.t()[0]                  // every other element: not contiguous
        let contiguous = strided.contiguous()
        for (name, f) in [("erf", { (t: Tensor) in t.erf() }), ("gelu", { (t: Tensor) in t.gelu() })] {
            let a = f(strided).toFloatArray(), b = f(contiguous).toFloatArray()
            let worst = zip(a, b).map { Swift.abs(Double($0) - Double($1)) / max(Swift.abs(Double($1)), 1e-30) }.max() ?? 0
            #expect(worst < 2e-6, "\(name): strided and contiguous differ by \(worst)")
        }
    }

    @Test func specialValues() {
        let x = Tensor(shape: [7], data: [Float.nan, .infinity, -.infinity, 0, -0.0, 1e-30, -1e-30])
        let e = x.erf().toFloatArray(), g = x.gelu().toFloatArray()
        #expect(e[0].isNaN && e[1] == 1 && e[2] == -1 && e[3] == 0 && e[4] == 0 && e[4].sign == .minus)
        #expect(Swift.abs(e[5] - 1.1283791e-30) < 1e-36 && e[6] == -e[5])
        #expect(g[0].isNaN && g[1] == .infinity && g[2].isNaN && g[3] == 0 && g[4] == 0)
        #expect(g[5] == 5e-31)
    }
}
