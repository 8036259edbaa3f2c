import CNablaKernels

#if canImport(Glibc)
import Glibc
#endif

/// Nabla's own float32 GEMM (`nabla_f32_gemm`, CNablaKernels/gemm_blocked.c): a cache-blocked product on the
/// 16-row AVX-512 register tile, or the 6-row AVX2 one on CPUs without AVX-512, which `BLAS.gemm` runs in place of
/// OpenBLAS's `sgemm` where it is measured faster (AMD CPUs). `NABLA_GEMM=openblas` in the environment keeps every
/// product on OpenBLAS; `NABLA_GEMM=nabla` uses this one on any CPU with AVX2 and FMA.
package enum BlockedGemm {
    /// Whether this CPU can run it (AVX-512, or AVX2 and FMA, on x86-64 Linux).
    package static let available = nabla_f32_gemm_available() != 0

    /// Runs `body` with the AVX2 tile on an AVX-512 CPU (for tests: the two tiles give the same results bit for bit).
    package static func withAVX2Tile<R>(_ body: () throws -> R) rethrows -> R {
        nabla_f32_gemm_use_avx2_tile(1)
        defer { nabla_f32_gemm_use_avx2_tile(0) }
        return try body()
    }

    /// Whether float32 products run here: on AMD CPUs unless `NABLA_GEMM=openblas`, on any CPU where it is
    /// `available` when `NABLA_GEMM=nabla`.
    package static let enabled: Bool = {
        guard available else { return false }
        switch getenv("NABLA_GEMM").map({ String(cString: $0) }) {
        case "openblas": return false
        case "nabla": return true
        default: return nabla_f32_gemm_preferred() != 0
        }
    }()

    /// Whether a product of `m` rows and `n` columns, A's rows `lda` apart, runs faster here than on OpenBLAS: not
    /// below 64 rows (a linear layer at batch 1, where OpenBLAS runs a matrix-vector kernel and packing all of B
    /// costs more than the product saves: W6 at batch 1, 178 against 130 µs), and not when A must be copied for
    /// every 256 columns of C (W1's square products at n = 1024 and 2048: 183–198 against 186–207 GFLOP/s).
    @inline(__always)
    package static func worthIt(m: Int, n: Int, lda: Int) -> Bool {
        m >= 64 && n >= 16 && (n <= 256 || nabla_f32_gemm_copies_a(Int64(lda)) == 0)
    }

    /// Whether a product with op(A) = Aᵀ (`transA`) is a weight gradient of at most 256 output features summed over
    /// at least 4 096 rows on several threads, which OpenBLAS runs faster: W7's 256×256 and 256×1024 weight
    /// gradients over 4 096 tokens, where the team has four blocks of C to share (W7 0.1–1.2 ms a step faster on
    /// OpenBLAS, nine processes alternating it by step; the 768- and 1024-row ones ran slower there).
    @inline(__always)
    package static func longNarrowGradient(transA: Bool, m: Int, k: Int, threads: Int) -> Bool {
        transA && m <= 256 && k >= 4096 && threads > 1
    }

    /// Whether an `m`×`n`×`k` float32 product (A's rows `lda` apart, op(A) = Aᵀ when `transA`) on `threads` threads
    /// runs here rather than on OpenBLAS: where this GEMM is enabled, `worthIt` holds and it is not a
    /// `longNarrowGradient`. Any amount of work: products of 8 M to 32 M multiply-adds on several threads went to
    /// OpenBLAS while teams started through libdispatch (W1 at n = 256: 154–165 against 176–185 GFLOP/s); on the
    /// spinning pool they run faster here (194–200 against 171–181; W3's 8.4–16.8 M products 167–176 against
    /// 225–232 µs a call).
    @inline(__always)
    package static func takes(transA: Bool, m: Int, n: Int, k: Int, lda: Int, threads: Int) -> Bool {
        enabled && worthIt(m: m, n: n, lda: lda) && !longNarrowGradient(transA: transA, m: m, k: k, threads: threads)
    }

    /// Multiply-adds below which a product stays on one thread (a few microseconds: less than any hand-off).
    static let splitWork = 1 << 18

    /// Multiply-adds from which a product runs as a team (`teamGemm`); smaller ones (tens of microseconds) split
    /// into one part per thread: W6's batch-1 convolution (3.6 M) took 73 µs on one thread against OpenBLAS's 45 on
    /// two.
    static let teamWork = 1 << 23

    /// `C = alpha * op(A) @ op(B)`, added to C when `accumulate`, on `threads` threads.
    ///
    /// Products from `teamWork` multiply-adds run as one team (`nabla_f32_gemm_team_run`): blocks of C claimed as
    /// threads come free, op(B) packed once for all. Smaller ones split into one part per thread, by rows of C when
    /// C has at least as many rows as columns (each thread packs all of B, which is then the smaller operand) and by
    /// columns otherwise. Both run on the kernel threads' pool (`Parallel.forEach`).
    package static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                             lda: Int, b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>,
                             ldc: Int, threads: Int) {
        let ta: Int32 = transA ? 1 : 0, tb: Int32 = transB ? 1 : 0, acc: Int32 = accumulate ? 1 : 0
        let work = m * n * k
        if threads > 1, work >= teamWork {
            teamGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     accumulate: accumulate, c: c, ldc: ldc, threads: threads)
            return
        }
        let byRows = m >= n
        let extent = byRows ? m : n
        let parts = work < splitWork ? 1 : min(threads, max(1, extent / 16))
        if parts <= 1 {
            nabla_f32_gemm(ta, tb, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), acc, c, Int64(ldc))
            return
        }
        // Whole 16-row tiles or 16-column panels per part.
        let step = (extent + parts - 1) / parts
        let aligned = (step + 15) & ~15
        Parallel.forEach(parts) { p in
            let lo = min(extent, p * aligned), hi = min(extent, lo + aligned)
            if lo >= hi { return }
            if byRows {
                nabla_f32_gemm(ta, tb, Int64(hi - lo), Int64(n), Int64(k), alpha, transA ? a + lo : a + lo * lda, Int64(lda),
                               b, Int64(ldb), acc, c + lo * ldc, Int64(ldc))
            } else {
                nabla_f32_gemm(ta, tb, Int64(m), Int64(hi - lo), Int64(k), alpha, a, Int64(lda),
                               transB ? b + lo * ldb : b + lo, Int64(ldb), acc, c + lo, Int64(ldc))
            }
        }
    }

    /// What a team does to C besides the product (`nabla_f32_gemm_team_epilogue`): `bias` (n floats) added to every
    /// row, then `residual` (rows `ldr` apart) added, then a ReLU; each optional.
    package struct Epilogue {
        package var bias: UnsafePointer<Float>?
        package var residual: UnsafePointer<Float>?
        package var ldr: Int
        package var relu: Bool

        package init(bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, ldr: Int, relu: Bool) {
            (self.bias, self.residual, self.ldr, self.relu) = (bias, residual, ldr, relu)
        }
    }

    /// `C = epilogue(alpha * op(A) @ op(B))` as one team on as many of `threads` threads as the work pays for (one
    /// below `splitWork` multiply-adds).
    package static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                             lda: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                             epilogue: Epilogue, threads: Int) {
        let work = m * n * k
        let team = work < splitWork ? 1 : threads
        teamGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 accumulate: false, c: c, ldc: ldc, threads: team, epilogue: epilogue)
    }

    /// `gemm` as one team of `threads` threads (`nabla_f32_gemm_team_run`): blocks of C claimed as threads come
    /// free, so that a core slowed by another process takes fewer, the last `threads` of them in pieces so that no
    /// thread waits long for the last one; op(B) packed once for all of them; `epilogue`
    /// applied to each block of C while it is in the cache. `pool` runs `body(i)` for `i` in `0..<threads` (the
    /// kernel threads' pool; a test passes one that runs them one after another). Returns how many blocks of C it
    /// handed out. The result is the same, bit for bit, as on one thread.
    @discardableResult
    package static func teamGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                                 lda: Int, b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                 c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int, epilogue: Epilogue? = nil,
                                 pool: (Int, (Int) -> Void) -> Void = { Parallel.forEach($0, $1) }) -> Int {
        precondition(m > 0 && n > 0 && k > 0, "BlockedGemm.teamGemm: expected a non-empty product, got \(m)×\(n)×\(k)")
        precondition(epilogue?.bias == nil || !accumulate, "BlockedGemm.teamGemm: a bias replaces C, so no accumulate")
        let team = nabla_f32_gemm_team_create(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a,
                                              Int64(lda), b, Int64(ldb), accumulate ? 1 : 0, c, Int64(ldc), Int32(threads))
        defer { nabla_f32_gemm_team_destroy(team) }
        if let e = epilogue { nabla_f32_gemm_team_epilogue(team, e.bias, e.residual, Int64(e.ldr), e.relu ? 1 : 0) }
        pool(threads) { _ in nabla_f32_gemm_team_run(team) }
        return Int(nabla_f32_gemm_team_chunks(team))
    }
}
