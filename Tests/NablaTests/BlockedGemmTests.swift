import Foundation
import Testing
import Nabla

/// `BlockedGemm` (Nabla's own float32 GEMM, behind most float32 matrix products on AMD CPUs) against a triple
/// loop in Double: every transpose, partial tiles and panels, blocks of K and N beyond one, strides that make A's
/// rows collide in L1 (copied first), alpha, accumulation, and the split over threads by rows and by columns.
@Suite(.enabled(if: BlockedGemm.available, "needs AVX2 and FMA")) struct BlockedGemmTests {
    /// Random operands for one product into a C with a wider row stride (its padding random too, and NaNs in C
    /// where the product writes over it), C after `run` has multiplied them, and C before.
    private struct Product {
        let m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, accumulate: Bool
        let lda: Int, ldb: Int, ldc: Int
        let a: [Float], b: [Float], c0: [Float]

        init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float = 1, accumulate: Bool = false, lda: Int? = nil) {
            var g = SystemRandomNumberGenerator()
            func rand(_ count: Int) -> [Float] { (0..<count).map { _ in Float(Double.random(in: -1...1, using: &g)) } }
            (self.m, self.n, self.k, self.transA, self.transB, self.alpha, self.accumulate) = (m, n, k, transA, transB, alpha, accumulate)
            self.lda = lda ?? (transA ? m : k) + 3
            (ldb, ldc) = ((transB ? k : n) + 2, n + 5)
            a = rand((transA ? k : m) * self.lda)
            b = rand((transB ? n : k) * ldb)
            var c = rand(m * ldc)
            if !accumulate { for i in 0..<m { for j in 0..<n where (i + j) % 7 == 0 { c[i * ldc + j] = .nan } } }
            c0 = c
        }

        /// C after `run(a, b, c)`.
        func result(_ run: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var c = c0
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { run(ap.baseAddress!, bp.baseAddress!, $0.baseAddress!) } }
            }
            return c
        }

        /// C after `BlockedGemm.gemm` on `threads` threads.
        func gemm(threads: Int) -> [Float] {
            result { BlockedGemm.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: $0, lda: lda, b: $1, ldb: ldb,
                                      accumulate: accumulate, c: $2, ldc: ldc, threads: threads) }
        }
    }

    /// The largest error of `BlockedGemm.gemm` on `threads` threads relative to 1 + |expected|, or infinity where
    /// it touched the padding of C or left a NaN.
    private func maxError(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, accumulate: Bool,
                          threads: Int, lda: Int? = nil) -> Double {
        let p = Product(m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, accumulate: accumulate, lda: lda)
        let c = p.gemm(threads: threads), lda = p.lda, ldb = p.ldb, ldc = p.ldc
        // op(A) by rows and op(B) by columns, in Double, so each expected element is one contiguous dot product.
        var rowsA = [Double](repeating: 0, count: m * k), colsB = [Double](repeating: 0, count: n * k)
        for i in 0..<m { for q in 0..<k { rowsA[i * k + q] = Double(transA ? p.a[q * lda + i] : p.a[i * lda + q]) } }
        for j in 0..<n { for q in 0..<k { colsB[j * k + q] = Double(transB ? p.b[j * ldb + q] : p.b[q * ldb + j]) } }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else {
                    if c[i * ldc + j] != p.c0[i * ldc + j] { return .infinity }
                    continue
                }
                var e = rowsA.withUnsafeBufferPointer { ra in
                    colsB.withUnsafeBufferPointer { cb in
                        var sum = 0.0
                        for q in 0..<k { sum += ra[i * k + q] * cb[j * k + q] }
                        return sum
                    }
                }
                e = Double(alpha) * e + (accumulate ? Double(p.c0[i * ldc + j]) : 0)
                let got = Double(c[i * ldc + j])
                worst = got.isNaN ? .infinity : max(worst, abs(got - e) / (1 + abs(e)))
            }
        }
        return worst
    }

    /// The float32 rounding bound of a k-term dot product of values in [-1, 1] (k · 2⁻²⁴ of the terms' sum of
    /// magnitudes, at most k), relative to 1 + |result|, with room for the final scaling and accumulation.
    private func tolerance(_ k: Int) -> Double { 1e-6 + Double(k) * 6e-8 }

    @Test func matchesTripleLoop() {
        // Partial 16-row tiles and 16-column panels, K over a 256 block, N over a 256 block, K = 0.
        let shapes = [(1, 1, 1), (16, 16, 16), (17, 33, 5), (47, 21, 257), (70, 300, 40), (5, 3, 600), (33, 17, 0)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for (alpha, accumulate) in [(Float(1), false), (0.3, true)] {
                        let e = maxError(m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, accumulate: accumulate,
                                         threads: 1)
                        #expect(e < tolerance(k), "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) alpha \(alpha): error \(e)")
                    }
                }
            }
        }
    }

    @Test func splitsOverThreadsByRowsAndColumns() {
        // Taller than wide: split by rows; wider than tall: split by columns; parts of whole tiles and panels, with
        // more than one block of B per part; then teams (the last two, 8.4 M multiply-adds).
        for (m, n, k) in [(300, 40, 200), (40, 300, 200), (161, 161, 90), (300, 100, 300), (100, 40, 700), (4096, 16, 128),
                          (16, 2048, 256)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let e = maxError(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1, accumulate: false, threads: 2)
                    #expect(e < tolerance(k), "m \(m) n \(n) k \(k) transA \(transA) transB \(transB): error \(e)")
                }
            }
        }
    }

    @Test func teamsGiveTheOneThreadResultBitForBit() {
        // Chunks of all columns (taller than wide), of one block of 256 columns with a partial last one (wider),
        // a B too large to hold packed (each chunk packs its own), and lda 1024 (A copied); the last chunk of each
        // thread handed out in pieces of 64 columns (starting inside a block of B), of rows (200 × 600), or whole
        // (40 columns); two and three threads, and a pool that runs the calls one after another (the first does
        // every chunk). `chunks`: how many a team of two hands out.
        let sequential: (Int, (Int) -> Void) -> Void = { n, body in for i in 0..<n { body(i) } }
        let cases: [(m: Int, n: Int, k: Int, lda: Int?, chunks: Int)] = [
            (300, 40, 600, nil, 5), (100, 700, 300, nil, 1 + 2 * 4), (80, 2064, 2050, nil, 7 + 2 * 4),
            (1024, 256, 300, 1024, 14 + 2 * 4), (200, 600, 40, nil, 1 + 2 * 3),
        ]
        for (m, n, k, lda, chunks) in cases {
            for (transA, transB) in [(false, false), (true, true), (false, true)] {
                let p = Product(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.5, accumulate: transA,
                                lda: lda.map { transA ? max($0, m) : $0 })
                let one = p.gemm(threads: 1)
                for threads in [2, 3] {
                    var handed = 0
                    let c = p.result {
                        handed = BlockedGemm.teamGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: $0, lda: p.lda,
                                                      b: $1, ldb: p.ldb, accumulate: transA, c: $2, ldc: p.ldc, threads: threads)
                    }
                    #expect(c.elementsEqual(one) { $0 == $1 || ($0.isNaN && $1.isNaN) },
                            "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) threads \(threads)")
                    if threads == 2 { #expect(handed == chunks, "m \(m) n \(n) k \(k): \(handed) chunks") }
                }
                let c = p.result {
                    BlockedGemm.teamGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: $0, lda: p.lda, b: $1,
                                         ldb: p.ldb, accumulate: transA, c: $2, ldc: p.ldc, threads: 2, pool: sequential)
                }
                #expect(c.elementsEqual(one) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "m \(m) n \(n) k \(k): calls one after another")
            }
        }
    }

    @Test func avx2TileGivesTheAVX512ResultBitForBit() {
        // Partial tiles of both (6 and 16 rows), transposed B through both register transposes, a team with the
        // fused bias, residual and ReLU, and colliding rows of A. On a CPU without AVX-512 both runs take the AVX2
        // tile.
        let cases: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, lda: Int?)] = [
            (47, 33, 257, false, false, nil), (70, 300, 40, true, true, nil), (161, 161, 90, false, true, nil),
            (300, 48, 300, false, false, 1024), (64, 16, 16, true, false, nil),
        ]
        for (m, n, k, transA, transB, lda) in cases {
            let p = Product(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.7, accumulate: transA, lda: lda)
            let wide = p.gemm(threads: 1), narrow = BlockedGemm.withAVX2Tile { p.gemm(threads: 1) }
            #expect(narrow.elementsEqual(wide) { $0 == $1 || ($0.isNaN && $1.isNaN) },
                    "m \(m) n \(n) k \(k) transA \(transA) transB \(transB)")
        }
        let (m, n, k) = (300, 72, 520)
        let p = Product(m: m, n: n, k: k, transA: false, transB: true)
        let bias = (0..<n).map { Float($0) / 7 - 5 }, residual = (0..<m * n).map { Float($0 % 13) - 6 }
        func fused() -> [Float] {
            bias.withUnsafeBufferPointer { bp in
                residual.withUnsafeBufferPointer { rp in
                    p.result {
                        BlockedGemm.teamGemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: $0, lda: p.lda, b: $1,
                                             ldb: p.ldb, accumulate: false, c: $2, ldc: p.ldc, threads: 2,
                                             epilogue: .init(bias: bp.baseAddress, residual: rp.baseAddress, ldr: n, relu: true))
                    }
                }
            }
        }
        let wide = fused(), narrow = BlockedGemm.withAVX2Tile { fused() }
        #expect(narrow.elementsEqual(wide) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "the fused epilogue")
        #expect(wide.contains(0) && wide.contains { $0 > 0 }, "the ReLU cut some values and kept others")
    }

    @Test func copiesRowsThatCollideInCache() {
        // lda of 1024 and 512 floats put a tile's 16 rows in one or two L1 sets: the block of A is copied first.
        for lda in [1024, 512] {
            for transA in [false, true] {
                let e = maxError(m: transA ? 300 : 40, n: 48, k: transA ? 40 : 300, transA: transA, transB: false, alpha: 1,
                                 accumulate: true, threads: 1, lda: lda)
                #expect(e < tolerance(300), "lda \(lda) transA \(transA): error \(e)")
            }
        }
    }

    @Test func float32MatmulMatchesFloat64() {
        // Through the public op: a product big enough to run as a team over the kernel threads (the batch folds into
        // 520 rows: 42 M multiply-adds).
        manualSeed(3)
        let a = Tensor.randn([2, 260, 300], dtype: .float64), b = Tensor.randn([300, 270], dtype: .float64)
        #expect(!BLASLibrary.ownFloatGemm || BlockedGemm.takes(transA: false, m: 520, n: 270, k: 300, lda: 300, threads: 2))
        let expected = a.matmul(b)
        let got = a.to(.float32).matmul(b.to(.float32)).to(.float64)
        let err = (got - expected).abs().max().item() as Double
        #expect(err < 1e-4, "float32 matmul through BlockedGemm: max error \(err)")
    }

    @Test func takesTheProductsItRunsFaster() {
        #expect(BlockedGemm.worthIt(m: 4096, n: 1024, lda: 256), "W7's linear layers")
        #expect(BlockedGemm.worthIt(m: 4096, n: 256, lda: 1024), "A copied once: C no wider than 256 columns")
        #expect(!BlockedGemm.worthIt(m: 1, n: 128, lda: 3136), "a linear layer at batch 1 stays on OpenBLAS")
        #expect(!BlockedGemm.worthIt(m: 63, n: 500, lda: 100), "fewer than 64 rows")
        #expect(!BlockedGemm.worthIt(m: 1024, n: 1024, lda: 1024), "A copied again for every 256 columns of C")
        #expect(BlockedGemm.worthIt(m: 1024, n: 1024, lda: 1000), "A read in place")
        let here = BlockedGemm.enabled
        #expect(BlockedGemm.takes(transA: false, m: 128, n: 128, k: 64, lda: 768, threads: 1) == here, "attention's products")
        #expect(BlockedGemm.takes(transA: false, m: 64, n: 196, k: 288, lda: 288, threads: 2) == here, "one part a thread")
        #expect(BlockedGemm.takes(transA: false, m: 256, n: 256, k: 256, lda: 256, threads: 2) == here, "mid-size, two threads")
        #expect(BlockedGemm.takes(transA: false, m: 256, n: 256, k: 256, lda: 256, threads: 1) == here, "mid-size, one thread")
        #expect(BlockedGemm.takes(transA: false, m: 4096, n: 1024, k: 256, lda: 256, threads: 2) == here, "W7's linear layers")
        #expect(!BlockedGemm.takes(transA: false, m: 1, n: 128, k: 3136, lda: 3136, threads: 2), "batch 1: OpenBLAS")
        #expect(BlockedGemm.longNarrowGradient(transA: true, m: 256, k: 4096, threads: 2), "W7's 256-row weight gradients: OpenBLAS")
        #expect(!BlockedGemm.longNarrowGradient(transA: true, m: 768, k: 4096, threads: 2), "its 768-row one stays")
        #expect(!BlockedGemm.longNarrowGradient(transA: true, m: 256, k: 4095, threads: 2), "shorter sums stay")
        #expect(!BlockedGemm.longNarrowGradient(transA: false, m: 256, k: 4096, threads: 2), "A not transposed")
        #expect(!BlockedGemm.longNarrowGradient(transA: true, m: 256, k: 4096, threads: 1), "one thread: no team to share")
        #expect(!BlockedGemm.takes(transA: true, m: 256, n: 1024, k: 4096, lda: 256, threads: 2))
    }

    @Test func runsOnAMDUnlessTheEnvironmentSaysOtherwise() throws {
        // The policy: AMD CPUs (measured faster than OpenBLAS there); NABLA_GEMM overrides it.
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let amd = cpuinfo.contains("AuthenticAMD")
        let expected: Bool
        switch ProcessInfo.processInfo.environment["NABLA_GEMM"] {
        case "openblas": expected = false
        case "nabla": expected = true
        default: expected = amd
        }
        #expect(BLASLibrary.ownFloatGemm == expected, "AMD \(amd), NABLA_GEMM \(ProcessInfo.processInfo.environment["NABLA_GEMM"] ?? "unset")")
    }
}
