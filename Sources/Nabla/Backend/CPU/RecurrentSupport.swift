// Raw-pointer building blocks for the fused recurrent layers of NablaNN: the fused LSTM, GRU and RNN cell
// kernels of CNablaKernels (rnn.c), GEMM against a pre-packed weight (gemm_packed.c) and the kernel thread
// pool. Host memory only; the caller owns every bound check.
import CNablaKernels

/// The fused recurrent and packed-GEMM kernels of CNablaKernels for one element type, as function values: the
/// generic code below calls them through `RecurrentKernelScalar.recurrentKernels`, so each signature is written once.
package struct RecurrentKernels<T> {
    /// A pointer the kernel only reads.
    package typealias In = UnsafePointer<T>?
    /// A pointer the kernel writes.
    package typealias Out = UnsafeMutablePointer<T>?
    let lstmForward: (Out, In, In, Out, Out, Out, Int64, Int64) -> Void
    let lstmBackward: (In, In, In, In, In, Out, Out, Out, Int64, Int64) -> Void
    let gruForward: (In, In, In, In, In, Out, Out, Int64, Int64) -> Void
    let gruBackward: (In, In, Out, In, Out, Out, Out, Out, Int64, Int64) -> Void
    let rnnForward: (In, In, Out, Int64, Int64, Int32) -> Void
    let rnnBackward: (In, In, In, Out, Out, Int64, Int64, Int32) -> Void
    let packedSize: (Int64, Int64) -> Int64
    let packB: (In, Int64, Int32, Int64, Int64, Out) -> Void
    let gemmPacked: (Int64, Int64, Int64, In, Int64, Int32, In, Int32, Out, Int64) -> Void
}

/// Element types the fused recurrent kernels run on (float32 and float64).
package protocol RecurrentKernelScalar: TensorScalar, BinaryFloatingPoint {
    /// This type's kernels (`nabla_f32_*` or `nabla_f64_*` of nabla_rnn.h and nabla_gemm_packed.h).
    static var recurrentKernels: RecurrentKernels<Self> { get }
}

extension Float: RecurrentKernelScalar {
    /// The `nabla_f32_*` kernels.
    package static var recurrentKernels: RecurrentKernels<Float> {
        RecurrentKernels(lstmForward: nabla_f32_lstm_fwd, lstmBackward: nabla_f32_lstm_bwd, gruForward: nabla_f32_gru_fwd,
                         gruBackward: nabla_f32_gru_bwd, rnnForward: nabla_f32_rnn_fwd, rnnBackward: nabla_f32_rnn_bwd,
                         packedSize: nabla_f32_packed_size, packB: nabla_f32_pack_b, gemmPacked: nabla_f32_gemm_packed)
    }
}

extension Double: RecurrentKernelScalar {
    /// The `nabla_f64_*` kernels.
    package static var recurrentKernels: RecurrentKernels<Double> {
        RecurrentKernels(lstmForward: nabla_f64_lstm_fwd, lstmBackward: nabla_f64_lstm_bwd, gruForward: nabla_f64_gru_fwd,
                         gruBackward: nabla_f64_gru_bwd, rnnForward: nabla_f64_rnn_fwd, rnnBackward: nabla_f64_rnn_bwd,
                         packedSize: nabla_f64_packed_size, packB: nabla_f64_pack_b, gemmPacked: nabla_f64_gemm_packed)
    }
}

extension RecurrentKernelScalar {
    /// One LSTM step forward over `rows` rows (`nabla_?_lstm_fwd` in nabla_rnn.h): `gates` [rows, 4·hid] holds the
    /// pre-activations without bias and is overwritten with the activations; writes `c`, `tanh(c)` and `h`.
    package static func lstmForward(gates: UnsafeMutablePointer<Self>, bias: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
                                    c: UnsafeMutablePointer<Self>, tanhC: UnsafeMutablePointer<Self>, h: UnsafeMutablePointer<Self>,
                                    rows: Int, hidden: Int) {
        recurrentKernels.lstmForward(gates, bias, cPrev, c, tanhC, h, Int64(rows), Int64(hidden))
    }
    /// One LSTM step backward over `rows` rows (`nabla_?_lstm_bwd`): from `dhRec + gOut` and `dc` (replaced by the
    /// gradient of `cPrev`) to the pre-activation gradients `dGates`, whose column sums are added to `dBias`.
    package static func lstmBackward(act: UnsafePointer<Self>, tanhC: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
                                     dhRec: UnsafePointer<Self>, gOut: UnsafePointer<Self>, dc: UnsafeMutablePointer<Self>,
                                     dGates: UnsafeMutablePointer<Self>, dBias: UnsafeMutablePointer<Self>, rows: Int, hidden: Int) {
        recurrentKernels.lstmBackward(act, tanhC, cPrev, dhRec, gOut, dc, dGates, dBias, Int64(rows), Int64(hidden))
    }
    /// One GRU step forward over `rows` rows (`nabla_?_gru_fwd` in nabla_rnn.h): from the products `gx`, `gh`
    /// [rows, 3·hid] and the biases, writes `h` and saves (r, z, n, h_n) in `act` [rows, 4·hid].
    package static func gruForward(gx: UnsafePointer<Self>, gh: UnsafePointer<Self>, bih: UnsafePointer<Self>,
                                   bhh: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, act: UnsafeMutablePointer<Self>,
                                   h: UnsafeMutablePointer<Self>, rows: Int, hidden: Int) {
        recurrentKernels.gruForward(gx, gh, bih, bhh, hPrev, act, h, Int64(rows), Int64(hidden))
    }
    /// One GRU step backward over `rows` rows (`nabla_?_gru_bwd`): from `dh + gOut` (`dh` is replaced by the direct
    /// part of the previous state's gradient) to the pre-activation gradients `dgx`, `dgh`, whose column sums are
    /// added to `dbih`, `dbhh`.
    package static func gruBackward(act: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dh: UnsafeMutablePointer<Self>,
                                    gOut: UnsafePointer<Self>, dgx: UnsafeMutablePointer<Self>, dgh: UnsafeMutablePointer<Self>,
                                    dbih: UnsafeMutablePointer<Self>, dbhh: UnsafeMutablePointer<Self>, rows: Int, hidden: Int) {
        recurrentKernels.gruBackward(act, hPrev, dh, gOut, dgx, dgh, dbih, dbhh, Int64(rows), Int64(hidden))
    }
    /// One Elman RNN step forward over `rows` rows (`nabla_?_rnn_fwd`): `h = tanh(g + bias)`, or ReLU when `relu`.
    package static func rnnForward(g: UnsafePointer<Self>, bias: UnsafePointer<Self>, h: UnsafeMutablePointer<Self>, rows: Int,
                                   hidden: Int, relu: Bool) {
        recurrentKernels.rnnForward(g, bias, h, Int64(rows), Int64(hidden), relu ? 1 : 0)
    }
    /// One Elman RNN step backward (`nabla_?_rnn_bwd`): `dg = (dhRec + gOut) · act'` from the step's output `h`,
    /// with its column sums added to `dBias`.
    package static func rnnBackward(h: UnsafePointer<Self>, dhRec: UnsafePointer<Self>, gOut: UnsafePointer<Self>,
                                    dg: UnsafeMutablePointer<Self>, dBias: UnsafeMutablePointer<Self>, rows: Int, hidden: Int,
                                    relu: Bool) {
        recurrentKernels.rnnBackward(h, dhRec, gOut, dg, dBias, Int64(rows), Int64(hidden), relu ? 1 : 0)
    }
    /// Elements the packed form of a `k`×`n` matrix takes (`nabla_?_packed_size` in nabla_gemm_packed.h).
    package static func packedSize(k: Int, n: Int) -> Int { Int(recurrentKernels.packedSize(Int64(k), Int64(n))) }
    /// Packs B (`k`×`n`, element (i, j) at `b[i·ldb + j]`, or at `b[j·ldb + i]` when `transB`) for `gemmPacked`.
    package static func packB(_ b: UnsafePointer<Self>, ldb: Int, transB: Bool, k: Int, n: Int, into out: UnsafeMutablePointer<Self>) {
        recurrentKernels.packB(b, Int64(ldb), transB ? 1 : 0, Int64(k), Int64(n), out)
    }
    /// `C (+)= A · B` with B packed by `packB`, on the calling thread: for a weight reused at every time step, where
    /// BLAS would repack it and wake its threads on every call. Adds to C when `accumulate`, overwrites it otherwise.
    /// Element (i, q) of A is `a[i·lda + q]`, or `a[q·lda + i]` when `transA`.
    package static func gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int, transA: Bool,
                                   packedB: UnsafePointer<Self>, accumulate: Bool, c: UnsafeMutablePointer<Self>, ldc: Int) {
        recurrentKernels.gemmPacked(Int64(m), Int64(n), Int64(k), a, Int64(lda), transA ? 1 : 0, packedB, accumulate ? 1 : 0,
                                    c, Int64(ldc))
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
