// Raw-pointer building blocks for the fused recurrent layers of NablaNN: BLAS GEMM, the fused LSTM cell kernels
// of CNablaKernels (rnn.c), and the kernel thread pool. Host memory only; the caller owns every bound check.
import CNablaKernels

/// Element types the fused recurrent kernels run on (float32 and float64).
public protocol RecurrentKernelScalar: TensorScalar, BinaryFloatingPoint {
    /// `C = alpha · op(A) @ op(B) + beta · C`, row-major, as `cblas_?gemm` (`op` transposes when the flag is set).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// One LSTM step forward over `rows` rows (`nabla_?_lstm_fwd` in nabla_rnn.h): `gates` [rows, 4·hid] holds the
    /// pre-activations without bias and is overwritten with the activations; writes `c`, `tanh(c)` and `h`.
    static func lstmForward(gates: UnsafeMutablePointer<Self>, bias: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
                            c: UnsafeMutablePointer<Self>, tanhC: UnsafeMutablePointer<Self>, h: UnsafeMutablePointer<Self>,
                            rows: Int, hidden: Int)
    /// One LSTM step backward over `rows` rows (`nabla_?_lstm_bwd`): from `dhRec + gOut` and `dc` (replaced by the
    /// gradient of `cPrev`) to the pre-activation gradients `dGates`, whose column sums are added to `dBias`.
    static func lstmBackward(act: UnsafePointer<Self>, tanhC: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
                             dhRec: UnsafePointer<Self>, gOut: UnsafePointer<Self>, dc: UnsafeMutablePointer<Self>,
                             dGates: UnsafeMutablePointer<Self>, dBias: UnsafeMutablePointer<Self>, rows: Int, hidden: Int)
}

extension Float: RecurrentKernelScalar {
    /// `cblas_sgemm` (row-major).
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    }
    /// `nabla_f32_lstm_fwd`.
    public static func lstmForward(gates: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                   c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                                   rows: Int, hidden: Int) {
        nabla_f32_lstm_fwd(gates, bias, cPrev, c, tanhC, h, Int64(rows), Int64(hidden))
    }
    /// `nabla_f32_lstm_bwd`.
    public static func lstmBackward(act: UnsafePointer<Float>, tanhC: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                    dhRec: UnsafePointer<Float>, gOut: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
                                    dGates: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        nabla_f32_lstm_bwd(act, tanhC, cPrev, dhRec, gOut, dc, dGates, dBias, Int64(rows), Int64(hidden))
    }
}

extension Double: RecurrentKernelScalar {
    /// `cblas_dgemm` (row-major).
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        BLAS.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    }
    /// `nabla_f64_lstm_fwd`.
    public static func lstmForward(gates: UnsafeMutablePointer<Double>, bias: UnsafePointer<Double>, cPrev: UnsafePointer<Double>,
                                   c: UnsafeMutablePointer<Double>, tanhC: UnsafeMutablePointer<Double>, h: UnsafeMutablePointer<Double>,
                                   rows: Int, hidden: Int) {
        nabla_f64_lstm_fwd(gates, bias, cPrev, c, tanhC, h, Int64(rows), Int64(hidden))
    }
    /// `nabla_f64_lstm_bwd`.
    public static func lstmBackward(act: UnsafePointer<Double>, tanhC: UnsafePointer<Double>, cPrev: UnsafePointer<Double>,
                                    dhRec: UnsafePointer<Double>, gOut: UnsafePointer<Double>, dc: UnsafeMutablePointer<Double>,
                                    dGates: UnsafeMutablePointer<Double>, dBias: UnsafeMutablePointer<Double>, rows: Int, hidden: Int) {
        nabla_f64_lstm_bwd(act, tanhC, cPrev, dhRec, gOut, dc, dGates, dBias, Int64(rows), Int64(hidden))
    }
}

extension Parallel {
    /// Runs `body(0..<n)` concurrently on the kernel threads and returns when all are done (`n == 1` runs inline).
    /// For kernels outside the core that split their own work into `n` independent parts.
    public static func run(_ n: Int, _ body: (Int) -> Void) {
        check(n >= 1, "Parallel.run: expected at least 1 part, got \(n)")
        forEach(n, body)
    }
}
