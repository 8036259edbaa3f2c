// Softmax family along one dim: softmax, logSoftmax, softmin. Forward subtracts the maximum for
// stability; backward reads the saved output.

/// `exp(x) / sum(exp(x))` along `dim`, computed stably (`torch.softmax`).
///
/// ```swift
/// softmax(Tensor([[1.0, 2, 3]]), dim: -1)   // tensor([[0.0900, 0.2447, 0.6652]])
/// ```
/// - Parameter dtype: casts the input first (as PyTorch's `dtype=`); integer inputs need it.
public func softmax(_ x: Tensor, dim: Int, dtype: DType? = nil) -> Tensor {
    softmaxFamily(x, dim: dim, dtype: dtype, log: false)
}

/// `x - log(sum(exp(x)))` along `dim`, computed stably (`torch.log_softmax`).
///
/// ```swift
/// logSoftmax(Tensor([1000.0, 1000]), dim: 0)   // tensor([-0.6931, -0.6931])
/// ```
public func logSoftmax(_ x: Tensor, dim: Int, dtype: DType? = nil) -> Tensor {
    softmaxFamily(x, dim: dim, dtype: dtype, log: true)
}

/// `softmax` or, with `log`, `logSoftmax`: one shape rule, one backend kernel, and the two backward formulas.
private func softmaxFamily(_ x: Tensor, dim: Int, dtype: DType?, log: Bool) -> Tensor {
    let name: StaticString = log ? "logSoftmax" : "softmax"
    let src = dtype.map { x.to($0) } ?? x
    check(src.dtype.isFloatingPoint, "\(name): expected a floating point input, got \(src.dtype); pass dtype: .float32 to convert")
    if src.rank == 0 {
        _ = Shape.normalize(dim, 0, op: name)
        return softmaxFamily(src.reshape([1]), dim: 0, dtype: nil, log: log).reshape([])
    }
    let d = Shape.normalize(dim, src.rank, op: name)
    let out = Tensor(empty: src.shape, dtype: src.dtype, device: src.device)
    if out.count > 0 { src.backend.softmax(src, dim: d, log: log, out: out) }
    guard isRecording(src) else { return out }
    return record(out, op: log ? "LogSoftmaxBackward" : "SoftmaxBackward", inputs: [src], saveOutput: true) { g, node in
        let y = node.output()
        if !isGradEnabled && g[0].dtype == y.dtype && g[0].device == y.device {   // first order: the backend's kernel
            let gx = Tensor(empty: y.shape, dtype: y.dtype, device: y.device)
            if gx.count > 0 { y.backend.softmaxBackward(g[0], output: y, dim: d, log: log, out: gx) }
            return [gx]
        }
        if log { return [g[0] - Nabla.exp(y) * g[0].sum(dims: [d], keepDim: true)] }
        let gy = g[0] * y
        return [gy - y * gy.sum(dims: [d], keepDim: true)]
    }
}

/// `softmax(-x)` along `dim` (`torch.nn.functional.softmin`).
public func softmin(_ x: Tensor, dim: Int, dtype: DType? = nil) -> Tensor {
    softmax(-(dtype.map { x.to($0) } ?? x), dim: dim)
}

extension Tensor {
    /// `softmax(self, dim:)` (`Tensor.softmax`).
    public func softmax(dim: Int, dtype: DType? = nil) -> Tensor { Nabla.softmax(self, dim: dim, dtype: dtype) }
    /// `logSoftmax(self, dim:)` (`Tensor.log_softmax`).
    public func logSoftmax(dim: Int, dtype: DType? = nil) -> Tensor { Nabla.logSoftmax(self, dim: dim, dtype: dtype) }
    /// `softmin(self, dim:)`.
    public func softmin(dim: Int, dtype: DType? = nil) -> Tensor { Nabla.softmin(self, dim: dim, dtype: dtype) }
}

/// Kernel-level pieces of the softmax forward (no autograd).
enum SoftmaxKernels {
    /// The maximum along `d` (keep-dim); a line of -inf gives NaN, as in PyTorch.
    static func lineMax(_ x: Tensor, _ d: Int) -> Tensor {
        x.reduceKernel(.max, dims: [d], keepDim: true, dtype: x.dtype)
    }
}
