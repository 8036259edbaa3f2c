import Testing
import Nabla

/// `gemmPacked` (the pre-packed-weight GEMM of the recurrent layers) against a plain triple loop in Double.
@Suite struct PackedGemmTests {
    /// Runs one product with B packed from a row-major or transposed source and A read directly or transposed,
    /// into a C with a wider row stride whose padding must stay untouched; returns the largest error.
    private func maxError<T: RecurrentKernelScalar>(_: T.Type, m: Int, n: Int, k: Int, transA: Bool, transB: Bool,
                                                     accumulate: Bool) -> Double {
        var g = SystemRandomNumberGenerator()
        func rand(_ count: Int) -> [T] { (0..<count).map { _ in T(Double.random(in: -1...1, using: &g)) } }
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 5
        let a = rand((transA ? k : m) * lda), b = rand((transB ? n : k) * ldb)
        var c = rand(m * ldc)
        let c0 = c
        var packed = [T](repeating: 0, count: T.packedSize(k: k, n: n))
        b.withUnsafeBufferPointer { bp in
            packed.withUnsafeMutableBufferPointer { T.packB(bp.baseAddress!, ldb: ldb, transB: transB, k: k, n: n, into: $0.baseAddress!) }
        }
        a.withUnsafeBufferPointer { ap in
            packed.withUnsafeBufferPointer { pp in
                c.withUnsafeMutableBufferPointer {
                    T.gemmPacked(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, transA: transA, packedB: pp.baseAddress!,
                                 accumulate: accumulate, c: $0.baseAddress!, ldc: ldc)
                }
            }
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                var e = j < n && !accumulate ? 0.0 : Double(c0[i * ldc + j])
                if j < n {
                    for q in 0..<k {
                        e += Double(transA ? a[q * lda + i] : a[i * lda + q]) * Double(transB ? b[j * ldb + q] : b[q * ldb + j])
                    }
                }
                worst = max(worst, abs(Double(c[i * ldc + j]) - e) / (1 + abs(e)))
            }
        }
        return worst
    }

    @Test func matchesTripleLoop() {
        // Full and partial row tiles (6 rows, 16 on AVX-512) and column panels (16 floats, 8 doubles; whole panels of
        // a row-major B are packed by row copies), K over one block (256), K = 0.
        let shapes = [(1, 1, 1), (6, 16, 8), (7, 17, 3), (13, 37, 300), (12, 8, 256), (5, 40, 0), (64, 28, 9),
                      (16, 32, 5), (33, 48, 70), (47, 21, 257)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for accumulate in [false, true] {
                        let what = "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) accumulate \(accumulate)"
                        let e32 = maxError(Float.self, m: m, n: n, k: k, transA: transA, transB: transB, accumulate: accumulate)
                        let e64 = maxError(Double.self, m: m, n: n, k: k, transA: transA, transB: transB, accumulate: accumulate)
                        #expect(e32 < 1e-5, "float32 \(what): error \(e32)")
                        #expect(e64 < 1e-13, "float64 \(what): error \(e64)")
                    }
                }
            }
        }
    }
}
