import Foundation
import Testing
import Nabla

/// The float32 exp, log, tanh, sigmoid and SiLU kernels (CNablaKernels/transcendental.c) against double-precision
/// libm: every 211th float of the whole range, measured in units in the last place of the float result, plus the
/// special values (overflow, subnormals, signed zeros, infinities, NaN) and strided inputs, which take the scalar path.
@Suite struct TranscendentalKernelTests {
    /// Every 211th bit pattern that is a finite float in `range`.
    private static func floats(in range: ClosedRange<Float>) -> [Float] {
        stride(from: UInt64(0), to: 1 << 32, by: 211).compactMap { bits in
            let f = Float(bitPattern: UInt32(bits))
            return f.isFinite && range.contains(f) ? f : nil
        }
    }

    /// The error of `got` in ulps of the float nearest to `want` (an infinite or zero `want` must be met exactly).
    private static func ulps(_ got: Float, _ want: Double) -> Double {
        let w = Float(want)
        if w.isInfinite || w == 0 { return got == w ? 0 : .infinity }
        return Swift.abs(Double(got) - want) / Double(w.magnitude.ulp)
    }

    private static func worst(_ op: (Tensor) -> Tensor, _ reference: (Double) -> Double,
                              over range: ClosedRange<Float>) -> (ulps: Double, at: Float) {
        let xs = floats(in: range)
        let got = op(Tensor(shape: [xs.count], data: xs)).toFloatArray()
        var worst = (ulps: 0.0, at: Float(0))
        for (x, y) in zip(xs, got) {
            let e = ulps(y, reference(Double(x)))
            if e > worst.ulps { worst = (e, x) }
        }
        return worst
    }

    @Test func expIsWithinOneUlpOverTheWholeRange() {
        let (e, at) = Self.worst({ $0.exp() }, Foundation.exp, over: -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude)
        #expect(e <= 1.01, "exp: \(e) ulps at \(at)")
    }

    @Test func logIsWithinOneUlpOverThePositiveFloats() {
        let (e, at) = Self.worst({ $0.log() }, Foundation.log, over: Float.leastNonzeroMagnitude...Float.greatestFiniteMagnitude)
        #expect(e <= 1.01, "log: \(e) ulps at \(at)")
    }

    @Test func tanhSigmoidAndSiluAreWithinAFewUlps() {
        let all = -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude
        let (t, tAt) = Self.worst({ $0.tanh() }, Foundation.tanh, over: all)
        #expect(t <= 2, "tanh: \(t) ulps at \(tAt)")
        // Below −87, 1 + exp(−x) overflows: sigmoid and SiLU give 0 and −0 there, as PyTorch's vector forms do.
        let (s, sAt) = Self.worst({ $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }, over: -87...Float.greatestFiniteMagnitude)
        #expect(s <= 3, "sigmoid: \(s) ulps at \(sAt)")
        let (u, uAt) = Self.worst({ $0.silu() }, { $0 / (1 + Foundation.exp(-$0)) }, over: -87...Float.greatestFiniteMagnitude)
        #expect(u <= 3, "silu: \(u) ulps at \(uAt)")
    }

    @Test func specialValues() {
        let x = Tensor(shape: [10], data: [Float.nan, .infinity, -.infinity, 0, -0.0, 88.72, 88.73, -103.9, -87.5, 1e-40])
        let e = x.exp().toFloatArray(), l = x.log().toFloatArray(), t = x.tanh().toFloatArray()
        let s = x.sigmoid().toFloatArray(), u = x.silu().toFloatArray()
        #expect(e[0].isNaN && e[1] == .infinity && e[2] == 0 && e[3] == 1 && e[4] == 1)
        #expect(e[5] == Foundation.expf(88.72) && e[6] == .infinity)           // the largest finite result; overflow
        #expect(e[7] == Float.leastNonzeroMagnitude && e[8] == Foundation.expf(-87.5) && e[8].isSubnormal)
        #expect(l[0].isNaN && l[1] == .infinity && l[2].isNaN && l[3] == -.infinity && l[4] == -.infinity)
        #expect(Swift.abs(l[9] - Float(Foundation.log(Double(Float(1e-40))))) <= l[9].ulp)   // a subnormal input
        #expect(t[0].isNaN && t[1] == 1 && t[2] == -1 && t[3] == 0 && t[4] == 0 && t[4].sign == .minus && t[9] == 1e-40)
        #expect(s[0].isNaN && s[1] == 1 && s[2] == 0 && s[3] == 0.5 && s[4] == 0.5)
        #expect(u[0].isNaN && u[1] == .infinity && u[3] == 0 && u[4] == 0 && u[4].sign == .minus)
        #expect(Tensor(shape: [1], data: [Float(-1)]).log().toFloatArray()[0].isNaN)
    }

    @Test func stridedInputsTakeTheScalarPathAndAgree() {
        let values = (0..<4000).map { Float($0 - 2000) / 97 }
        let strided = Tensor(shape: [2000, 2], data: values).t()[0]       // every other element: not contiguous
        let contiguous = strided.contiguous()
        let ops: [(String, (Tensor) -> Tensor)] = [("exp", { $0.exp() }), ("log", { $0.abs().log() }), ("tanh", { $0.tanh() }),
                                                   ("sigmoid", { $0.sigmoid() }), ("silu", { $0.silu() })]
        for (name, f) in ops {
            let a = f(strided).toFloatArray(), b = f(contiguous).toFloatArray()
            let worst = zip(a, b).map { Swift.abs(Double($0) - Double($1)) / max(Swift.abs(Double($1)), 1e-30) }.max() ?? 0
            #expect(worst < 4e-7, "\(name): strided and contiguous differ by \(worst)")
        }
    }
}
