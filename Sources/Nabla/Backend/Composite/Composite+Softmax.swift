// The composite softmax and logSoftmax of every backend: max, shift, exp, sum, from primitive kernels.

extension Backend {
    /// Default `softmax`: the composite.
    public func softmax(_ x: Tensor, dim: Int, log: Bool, out: Tensor) {
        compositeSoftmax(x, dim: dim, log: log, out: out)
    }

    /// Default `softmaxBackward`: the composite.
    public func softmaxBackward(_ grad: Tensor, output: Tensor, dim: Int, log: Bool, out: Tensor) {
        compositeSoftmaxBackward(grad, output: output, dim: dim, log: log, out: out)
    }

    /// `exp(x − max) / sum` (or `x − max − log(sum(exp(x − max)))`) along `dim`, into `out`.
    public func compositeSoftmax(_ x: Tensor, dim d: Int, log: Bool, out: Tensor) {
        noGrad {
            let shifted = OpSupport.binary(.sub, x, SoftmaxKernels.lineMax(x, d), name: log ? "logSoftmax" : "softmax")
            let e = OpSupport.unary(.exp, shifted)
            let s = e.reduceKernel(.sum, dims: [d], keepDim: true, dtype: e.dtype)
            let y = log ? OpSupport.binary(.sub, shifted, OpSupport.unary(.log, s), name: "logSoftmax")
                        : OpSupport.binary(.div, e, s, name: "softmax")
            copy(y, into: out)
        }
    }

    /// `y ⊙ (g − Σ g ⊙ y)` (softmax) or `g − exp(y) ⊙ Σ g` (logSoftmax) along `dim`, into `out`.
    public func compositeSoftmaxBackward(_ grad: Tensor, output y: Tensor, dim d: Int, log: Bool, out: Tensor) {
        noGrad {
            let gx: Tensor
            if log {
                gx = grad - Nabla.exp(y) * grad.sum(dims: [d], keepDim: true)
            } else {
                let gy = grad * y
                gx = gy - y * gy.sum(dims: [d], keepDim: true)
            }
            copy(gx, into: out)
        }
    }
}
