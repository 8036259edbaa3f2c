import CNablaBLAS

/// Thin wrapper over OpenBLAS's CBLAS interface (row-major). OpenBLAS is loaded at the first call (see
/// `BLASLibrary`); a machine without it gets a clear error then, not at process start.
enum BLAS {
    /// Loads OpenBLAS once, or stops with the reason it could not be loaded.
    static let loaded: Void = {
        if nabla_blas_load() == 0 { nablaFail("matmul: \(String(cString: nabla_blas_error()))") }
    }()

    /// Sets OpenBLAS's own thread count (kept equal to the kernel pool's).
    static func setThreads(_ n: Int) { _ = loaded; nabla_blas_set_threads(Int32(n)) }

    /// OpenBLAS's own thread count.
    static var threads: Int { _ = loaded; return Int(nabla_blas_get_threads()) }

    /// `C = alpha * op(A) @ op(B) + beta * C` in float32 or float64 (`cblas_sgemm` or `cblas_dgemm`). Float32
    /// products with beta 0 or 1 and enough rows run on `BlockedGemm` where it is enabled (AMD CPUs with
    /// AVX-512 or AVX2), on OpenBLAS's thread count.
    @inline(__always)
    static func gemm<T: BLASScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
                                    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                    beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        _ = loaded
        if T.self == Float.self, beta == 0 || beta == 1, BlockedGemm.enabled {
            let threads = Self.threads
            if BlockedGemm.takes(transA: transA, m: m, n: n, k: k, lda: lda, threads: threads) {
                BlockedGemm.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(alpha),
                                 a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
                                 b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb,
                                 accumulate: beta == 1, c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self),
                                 ldc: ldc, threads: threads)
                return
            }
        }
        T.cblasGemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b,
                    Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Row-major CBLAS GEMM with C's argument order (`nabla_blas_sgemm`, `nabla_blas_dgemm`).
typealias CBLASGemm<T> = (_ transA: Int32, _ transB: Int32, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: T,
                          _ a: UnsafePointer<T>?, _ lda: Int32, _ b: UnsafePointer<T>?, _ ldb: Int32, _ beta: T,
                          _ c: UnsafeMutablePointer<T>?, _ ldc: Int32) -> Void

/// Element types OpenBLAS multiplies (float32 and float64).
protocol BLASScalar: BinaryFloatingPoint {
    /// This type's GEMM.
    static var cblasGemm: CBLASGemm<Self> { get }
}

extension Float: BLASScalar {
    static var cblasGemm: CBLASGemm<Float> { nabla_blas_sgemm }
}

extension Double: BLASScalar {
    static var cblasGemm: CBLASGemm<Double> { nabla_blas_dgemm }
}

/// The BLAS library behind CPU matrix products: OpenBLAS, loaded at run time; on AMD CPUs (AVX-512 or AVX2), float32
/// products of 64 rows or more run on Nabla's own blocked GEMM instead (`ownFloatGemm`; docs/performance.md).
///
/// Debian 12's OpenBLAS chooses its kernels from the CPU model and falls back to its SSE3 kernels ("Prescott",
/// about 5× slower) on CPUs newer than itself. Unless `OPENBLAS_CORETYPE` is set, Nabla then reloads it with the
/// AVX2 ("Haswell") or AVX-512 ("SkylakeX") kernels the CPU supports. Unless `OPENBLAS_THREAD_TIMEOUT` is set,
/// OpenBLAS's idle threads spin 2^18 cycles instead of 2^28 before they sleep, so they do not take the cores from
/// Nabla's own kernel threads. Neither changes the process environment; `NABLA_BLAS_TUNING=0` turns both off.
public enum BLASLibrary {
    /// OpenBLAS's name for the kernels it runs, such as "Haswell" or "SkylakeX".
    public static var core: String { _ = BLAS.loaded; return String(cString: nabla_blas_core()) }

    /// The kernels OpenBLAS chose by itself when Nabla reloaded it with better ones, else nil.
    public static var detectedCore: String? {
        _ = BLAS.loaded
        let name = String(cString: nabla_blas_detected_core())
        return name.isEmpty ? nil : name
    }

    /// The `OPENBLAS_THREAD_TIMEOUT` Nabla loaded OpenBLAS with (18), or nil when the environment's applies.
    public static var threadTimeout: Int? {
        _ = BLAS.loaded
        let t = Int(nabla_blas_thread_timeout())
        return t < 0 ? nil : t
    }

    /// OpenBLAS's version and build configuration, such as "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...".
    public static var configuration: String { _ = BLAS.loaded; return String(cString: nabla_blas_config()) }

    /// The OpenBLAS kernels Nabla reloads with when OpenBLAS detected `detected` on a CPU with `cpuLevel`
    /// (0: no AVX2, 1: AVX2 + FMA, 2: AVX-512), or nil to keep OpenBLAS's choice. The policy, exposed for tests.
    public static func betterCore(detected: String, cpuLevel: Int) -> String? {
        nabla_blas_better_core(detected, Int32(cpuLevel)).map { String(cString: $0) }
    }

    /// Whether float32 products of 64 rows or more run on Nabla's own cache-blocked GEMM rather than OpenBLAS's
    /// `sgemm` (most of them: the shapes left to OpenBLAS are in docs/performance.md): true on AMD CPUs with
    /// AVX-512 or AVX2 (where it is measured faster) unless `NABLA_GEMM=openblas` is set in the environment;
    /// `NABLA_GEMM=nabla` turns it on for any x86-64 CPU with AVX2 and FMA.
    public static var ownFloatGemm: Bool { BlockedGemm.enabled }

    /// This CPU's level as `betterCore` takes it.
    public static var cpuLevel: Int { Int(nabla_blas_cpu_level()) }
}
