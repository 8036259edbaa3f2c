// Raw-pointer building blocks for the fused recurrent layers of NablaNN: the fused LSTM, GRU and RNN cell
// kernels of CNablaKernels (rnn.c), GEMM against a pre-packed weight (gemm_packed.c) and the kernel thread
// pool. Host memory only; the caller owns every bound check.
import CNablaKernels

/// Element types the fused recurrent kernels run on (float32 and float64).
package protocol RecurrentKernelScalar: TensorScalar, BinaryFloatingPoint {
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
    /// One GRU step forward over `rows` rows (`nabla_?_gru_fwd` in nabla_rnn.h): from the products `gx`, `gh`
    /// [rows, 3·hid] and the biases, writes `h` and saves (r, z, n, h_n) in `act` [rows, 4·hid].
    static func gruForward(gx: UnsafePointer<Self>, gh: UnsafePointer<Self>, bih: UnsafePointer<Self>, bhh: UnsafePointer<Self>,
                           hPrev: UnsafePointer<Self>, act: UnsafeMutablePointer<Self>, h: UnsafeMutablePointer<Self>,
                           rows: Int, hidden: Int)
    /// One GRU step backward over `rows` rows (`nabla_?_gru_bwd`): from `dh + gOut` (`dh` is replaced by the direct
    /// part of the previous state's gradient) to the pre-activation gradients `dgx`, `dgh`, whose column sums are
    /// added to `dbih`, `dbhh`.
    static func gruBackward(act: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dh: UnsafeMutablePointer<Self>,
                            gOut: UnsafePointer<Self>, dgx: UnsafeMutablePointer<Self>, dgh: UnsafeMutablePointer<Self>,
                            dbih: UnsafeMutablePointer<Self>, dbhh: UnsafeMutablePointer<Self>, rows: Int, hidden: Int)
    /// One Elman RNN step forward over `rows` rows (`nabla_?_rnn_fwd`): `h = tanh(g + bias)`, or ReLU when `relu`.
    static func rnnForward(g: UnsafePointer<Self>, bias: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>, rows: Int,
                           hidden: Int, relu: Bool)
    /// One Elman RNN step backward (`nabla_?_rnn_bwd`): `dg = (dhRec + gOut) · act'` from the step's output `h`,
    /// with its column sums added to `dBias`.
    static func rnnBackward(h: UnsafePointer<Self>, dhRec: UnsafePointer<Self>, gOut: UnsafePointer<Self>,
                            dg: UnsafeMutablePointer<Self>, dBias: UnsafeMutablePointer<Self>, rows: Int, hidden: Int,
                            relu: Bool)
    /// Elements the packed form of a `k`×`n` matrix takes (`nabla_?_packed_size` in nabla_gemm_packed.h).
    static func packedSize(k: Int, n: Int) -> Int
    /// Packs B (`k`×`n`, element (i, j) at `b[i·ldb + j]`, or at `b[j·ldb + i]` when `transB`) for `gemmPacked`.
    static func packB(_ b: UnsafePointer<Self>, ldb: Int, transB: Bool, k: Int, n: Int, into out: UnsafeMutablePointer<Self>)
    /// `C (+)= A · B` with B packed by `packB`, on the calling thread: for a weight reused at every time step, where
    /// BLAS would repack it and wake its threads on every call. Adds to C when `accumulate`, overwrites it otherwise.
    /// Element (i, q) of A is `a[i·lda + q]`, or `a[q·lda + i]` when `transA`.
    static func gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int, transA: Bool,
                           packedB: UnsafePointer<Self>, accumulate: Bool, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: RecurrentKernelScalar {
    /// `nabla_f32_lstm_fwd`.
    package static func lstmForward(gates: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                   c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                                   rows: Int, hidden: Int) {
        nabla_f32_lstm_fwd(gates, bias, cPrev, c, tanhC, h, Int64(rows), Int64(hidden))
    }
    /// `nabla_f32_lstm_bwd`.
    package static func lstmBackward(act: UnsafePointer<Float>, tanhC: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                    dhRec: UnsafePointer<Float>, gOut: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
                                    dGates: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        nabla_f32_lstm_bwd(act, tanhC, cPrev, dhRec, gOut, dc, dGates, dBias, Int64(rows), Int64(hidden))
    }
    /// `nabla_f32_gru_fwd`.
    package static func gruForward(gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, bih: UnsafePointer<Float>,
                                  bhh: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, act: UnsafeMutablePointer<Float>,
                                  h: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        nabla_f32_gru_fwd(gx, gh, bih, bhh, hPrev, act, h, Int64(rows), Int64(hidden))
    }
    /// `nabla_f32_gru_bwd`.
    package static func gruBackward(act: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                                   gOut: UnsafePointer<Float>, dgx: UnsafeMutablePointer<Float>, dgh: UnsafeMutablePointer<Float>,
                                   dbih: UnsafeMutablePointer<Float>, dbhh: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        nabla_f32_gru_bwd(act, hPrev, dh, gOut, dgx, dgh, dbih, dbhh, Int64(rows), Int64(hidden))
    }
    /// `nabla_f32_rnn_fwd`.
    package static func rnnForward(g: UnsafePointer<Float>, bias: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, rows: Int,
                                   hidden: Int, relu: Bool) {
        nabla_f32_rnn_fwd(g, bias, h, Int64(rows), Int64(hidden), relu ? 1 : 0)
    }
    /// `nabla_f32_rnn_bwd`.
    package static func rnnBackward(h: UnsafePointer<Float>, dhRec: UnsafePointer<Float>, gOut: UnsafePointer<Float>,
                                    dg: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>, rows: Int, hidden: Int,
                                    relu: Bool) {
        nabla_f32_rnn_bwd(h, dhRec, gOut, dg, dBias, Int64(rows), Int64(hidden), relu ? 1 : 0)
    }
    /// `nabla_f32_packed_size`.
    package static func packedSize(k: Int, n: Int) -> Int { Int(nabla_f32_packed_size(Int64(k), Int64(n))) }
    /// `nabla_f32_pack_b`.
    package static func packB(_ b: UnsafePointer<Float>, ldb: Int, transB: Bool, k: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        nabla_f32_pack_b(b, Int64(ldb), transB ? 1 : 0, Int64(k), Int64(n), out)
    }
    /// `nabla_f32_gemm_packed`.
    package static func gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool,
                                  packedB: UnsafePointer<Float>, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        nabla_f32_gemm_packed(Int64(m), Int64(n), Int64(k), a, Int64(lda), transA ? 1 : 0, packedB, accumulate ? 1 : 0, c, Int64(ldc))
    }
}

extension Double: RecurrentKernelScalar {
    /// `nabla_f64_lstm_fwd`.
    package static func lstmForward(gates: UnsafeMutablePointer<Double>, bias: UnsafePointer<Double>, cPrev: UnsafePointer<Double>,
                                   c: UnsafeMutablePointer<Double>, tanhC: UnsafeMutablePointer<Double>, h: UnsafeMutablePointer<Double>,
                                   rows: Int, hidden: Int) {
        nabla_f64_lstm_fwd(gates, bias, cPrev, c, tanhC, h, Int64(rows), Int64(hidden))
    }
    /// `nabla_f64_lstm_bwd`.
    package static func lstmBackward(act: UnsafePointer<Double>, tanhC: UnsafePointer<Double>, cPrev: UnsafePointer<Double>,
                                    dhRec: UnsafePointer<Double>, gOut: UnsafePointer<Double>, dc: UnsafeMutablePointer<Double>,
                                    dGates: UnsafeMutablePointer<Double>, dBias: UnsafeMutablePointer<Double>, rows: Int, hidden: Int) {
        nabla_f64_lstm_bwd(act, tanhC, cPrev, dhRec, gOut, dc, dGates, dBias, Int64(rows), Int64(hidden))
    }
    /// `nabla_f64_gru_fwd`.
    package static func gruForward(gx: UnsafePointer<Double>, gh: UnsafePointer<Double>, bih: UnsafePointer<Double>,
                                  bhh: UnsafePointer<Double>, hPrev: UnsafePointer<Double>, act: UnsafeMutablePointer<Double>,
                                  h: UnsafeMutablePointer<Double>, rows: Int, hidden: Int) {
        nabla_f64_gru_fwd(gx, gh, bih, bhh, hPrev, act, h, Int64(rows), Int64(hidden))
    }
    /// `nabla_f64_gru_bwd`.
    package static func gruBackward(act: UnsafePointer<Double>, hPrev: UnsafePointer<Double>, dh: UnsafeMutablePointer<Double>,
                                   gOut: UnsafePointer<Double>, dgx: UnsafeMutablePointer<Double>, dgh: UnsafeMutablePointer<Double>,
                                   dbih: UnsafeMutablePointer<Double>, dbhh: UnsafeMutablePointer<Double>, rows: Int, hidden: Int) {
        nabla_f64_gru_bwd(act, hPrev, dh, gOut, dgx, dgh, dbih, dbhh, Int64(rows), Int64(hidden))
    }
    /// `nabla_f64_rnn_fwd`.
    package static func rnnForward(g: UnsafePointer<Double>, bias: UnsafePointer<Double>, h: UnsafeMutablePointer<Double>, rows: Int,
                                   hidden: Int, relu: Bool) {
        nabla_f64_rnn_fwd(g, bias, h, Int64(rows), Int64(hidden), relu ? 1 : 0)
    }
    /// `nabla_f64_rnn_bwd`.
    package static func rnnBackward(h: UnsafePointer<Double>, dhRec: UnsafePointer<Double>, gOut: UnsafePointer<Double>,
                                    dg: UnsafeMutablePointer<Double>, dBias: UnsafeMutablePointer<Double>, rows: Int, hidden: Int,
                                    relu: Bool) {
        nabla_f64_rnn_bwd(h, dhRec, gOut, dg, dBias, Int64(rows), Int64(hidden), relu ? 1 : 0)
    }
    /// `nabla_f64_packed_size`.
    package static func packedSize(k: Int, n: Int) -> Int { Int(nabla_f64_packed_size(Int64(k), Int64(n))) }
    /// `nabla_f64_pack_b`.
    package static func packB(_ b: UnsafePointer<Double>, ldb: Int, transB: Bool, k: Int, n: Int, into out: UnsafeMutablePointer<Double>) {
        nabla_f64_pack_b(b, Int64(ldb), transB ? 1 : 0, Int64(k), Int64(n), out)
    }
    /// `nabla_f64_gemm_packed`.
    package static func gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, transA: Bool,
                                  packedB: UnsafePointer<Double>, accumulate: Bool, c: UnsafeMutablePointer<Double>, ldc: Int) {
        nabla_f64_gemm_packed(Int64(m), Int64(n), Int64(k), a, Int64(lda), transA ? 1 : 0, packedB, accumulate ? 1 : 0, c, Int64(ldc))
    }
}

extension Parallel {
    /// Runs `body(0..<n)` concurrently on the kernel threads and returns when all are done (`n == 1` runs inline).
    /// For kernels outside the core that split their own work into `n` independent parts.
    package static func run(_ n: Int, _ body: (Int) -> Void) {
        check(n >= 1, "Parallel.run: expected at least 1 part, got \(n)")
        forEach(n, body)
    }
}
