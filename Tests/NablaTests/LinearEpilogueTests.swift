import Testing
import Nabla

/// `Backend.linearEpilogue`, the forward of `linear`, `linearRelu` and `linear(_:weight:bias:residual:)`: on the CPU
/// backend where Nabla's own GEMM runs, one product whose store adds the bias, the residual and the ReLU. It must give,
/// bit for bit, the same numbers as those steps one after another (the bias written into C, the GEMM adding the
/// product onto it, the residual added, the ReLU), for every layout of its operands; and everywhere the values of
/// the composite form in float64.
@Suite struct LinearEpilogueTests {
    /// One case: `input` [m, k] (transposed when `transposedInput`), `weight` [n, k] (column-major when
    /// `columnMajorWeight`), a residual whose rows lie wider apart than n, NaNs in two rows of the input and in one
    /// entry of the residual (the ReLU keeps NaN).
    struct Case {
        let m: Int, n: Int, k: Int, bias: Bool, residual: Bool, relu: Bool, transposedInput: Bool, columnMajorWeight: Bool

        var operands: (input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?) {
            let g = Generator(seed: UInt64(m * 31 + n * 7 + k))
            let x = Tensor.randn([m, k], generator: g)
            x[3, 1].fill_(.nan)
            x[m - 1, k - 1].fill_(.nan)
            let input = transposedInput ? x.t().contiguous().t() : x
            let w = Tensor.randn([n, k], generator: g) / Double(k).squareRoot()
            let weight = columnMajorWeight ? w.t().contiguous().t() : w
            let b = bias ? Tensor.randn([n], generator: g) : nil
            var r: Tensor? = nil
            if residual {
                let wide = Tensor.randn([m, n + 5], generator: g)
                wide[m / 2, n / 3].fill_(.nan)
                r = wide[.all, .range(0, n)]
            }
            return (input, weight, b, r)
        }
    }

    static let shapes = [(200, 70, 300), (640, 300, 300), (64, 16, 8), (100, 600, 70)]
    static let epilogues = [(true, false, true), (true, true, false), (false, true, true), (false, false, false), (true, true, true)]

    static func cases() -> [Case] {
        var cases: [Case] = []
        for (i, (m, n, k)) in shapes.enumerated() {
            for (j, (bias, residual, relu)) in epilogues.enumerated() {
                cases.append(Case(m: m, n: n, k: k, bias: bias, residual: residual, relu: relu,
                                  transposedInput: (i + j) % 2 == 1, columnMajorWeight: (i + j) % 3 == 2))
            }
        }
        return cases
    }

    /// The fused op through the CPU backend.
    static func fused(_ c: Case) -> [Float] {
        let (x, w, b, r) = c.operands
        let out = Tensor(empty: [c.m, c.n])
        Device.cpu.backend.linearEpilogue(x, weight: w, bias: b, residual: r, relu: c.relu, out: out)
        return out.toArray(Float.self)
    }

    @Test func equalsItsStepsOneAfterAnotherBitForBit() {
        guard BLASLibrary.ownFloatGemm else { return }  // elsewhere the backend runs the steps themselves
        for c in Self.cases() {
            #expect(BlockedGemm.takes(transA: c.transposedInput, m: c.m, n: c.n, k: c.k, lda: c.transposedInput ? c.m : c.k,
                                      threads: 2), "\(c): not on Nabla's GEMM")
            let (x, w, b, r) = c.operands
            let xs = x.contiguous().toArray(Float.self), ws = w.contiguous().toArray(Float.self)
            var want = b.map { bias in (0..<c.m).flatMap { _ in bias.toArray(Float.self) } } ?? [Float](repeating: 0, count: c.m * c.n)
            xs.withUnsafeBufferPointer { xp in
                ws.withUnsafeBufferPointer { wp in
                    want.withUnsafeMutableBufferPointer {
                        BlockedGemm.gemm(transA: false, transB: true, m: c.m, n: c.n, k: c.k, alpha: 1, a: xp.baseAddress!, lda: c.k,
                                         b: wp.baseAddress!, ldb: c.k, accumulate: b != nil, c: $0.baseAddress!, ldc: c.n, threads: 1)
                    }
                }
            }
            if let r { want = zip(want, r.contiguous().toArray(Float.self)).map { $0 + $1 } }
            if c.relu { want = want.map { $0 > 0 ? $0 : ($0.isNaN ? $0 : 0) } }
            let got = Self.fused(c)
            let bad = (0..<want.count).first { got[$0].bitPattern != want[$0].bitPattern && !(got[$0].isNaN && want[$0].isNaN) }
            #expect(bad == nil, "\(c): element \(bad ?? -1): \(bad.map { got[$0] } ?? 0) against \(bad.map { want[$0] } ?? 0)")
        }
    }

    @Test func matchesTheCompositeFormInFloat64() {
        for c in Self.cases() {
            let (x, w, b, r) = c.operands
            var y = x.to(.float64).matmul(w.to(.float64).t())
            if let b { y = y + b.to(.float64) }
            if let r { y = y + r.to(.float64) }
            if c.relu { y = relu(y) }
            let want = y.toArray(Double.self), got = Self.fused(c)
            var worst = 0.0
            for i in 0..<want.count {
                if want[i].isNaN != got[i].isNaN { worst = .infinity; break }
                if !want[i].isNaN { worst = max(worst, abs(Double(got[i]) - want[i]) / (1 + abs(want[i]))) }
            }
            #expect(worst < 1e-5, "\(c): error \(worst)")
        }
    }
}
