// The composite convolution of every backend: im2col, one matrix product and the swap into NCHW with the bias,
// built from the backend's own primitive kernels (no autograd).

extension Backend {
    /// Default `conv2d`: the composite.
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, out: Tensor) {
        compositeConv2d(x, weight: weight, bias: bias, geometry: geometry, out: out)
    }

    /// Default `conv2dBackward`: the composite.
    public func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry: ConvGeometry,
                               input: Bool, weight needWeight: Bool, bias: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        compositeConv2dBackward(x, weight: weight, grad: grad, geometry: geometry, input: input, weight: needWeight, bias: bias)
    }

    /// `conv2d` as im2col, a matrix product [OC, K] × [K, N·L] and the swap to [N, OC, L] with the bias added.
    public func compositeConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, out: Tensor) {
        noGrad {
            let oc = weight.shape[0], k = g.columnsShape[0], l = g.outH * g.outW
            let y = Nabla.matmul(weight.reshapeNoGrad([oc, k]), im2colColumns(x, g))      // [OC, N·L]
            swapLeadingDims(y.reshapeNoGrad([oc, g.batch, l]), bias: bias, out: out.reshapeNoGrad([g.batch, oc, l]))
        }
    }

    /// The gradients of `compositeConv2d`: col2im of `Wᵀ·gy` for the input, `gy·colsᵀ` for the weight, row sums for
    /// the bias (gy seen as [OC, N·L]).
    public func compositeConv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry g: ConvGeometry,
                                        input needX: Bool, weight needW: Bool,
                                        bias needB: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        noGrad {
            let oc = weight.shape[0], k = g.columnsShape[0], l = g.outH * g.outW
            let gy = swapLeadingDimsOp(grad.reshapeNoGrad([g.batch, oc, l]), bias: nil).reshapeNoGrad([oc, g.batch * l])
            let gx = needX ? col2imColumns(Nabla.matmul(weight.reshapeNoGrad([oc, k]).mT, gy), g) : nil
            let gw = needW ? Nabla.matmul(gy, im2colColumns(x, g).mT).reshapeNoGrad(weight.shape) : nil
            let gb = needB ? gy.sum(dim: 1) : nil
            return (gx, gw, gb)
        }
    }

    /// Default `conv2dReluMaxPool`: the composite.
    public func conv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvGeometry, windows: PoolWindows,
                                  out: Tensor, indices: Tensor) {
        compositeConv2dReluMaxPool(x, weight: weight, bias: bias, geometry: geometry, windows: windows, out: out, indices: indices)
    }

    /// `conv2dReluMaxPool` as this backend's `conv2d`, `unary(.relu)` in place and `maxPool2d`.
    public func compositeConv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                           windows: PoolWindows, out: Tensor, indices: Tensor) {
        let y = Tensor(empty: [g.batch, weight.shape[0], g.outH, g.outW], dtype: x.dtype, device: x.device)
        conv2d(x, weight: weight, bias: bias, geometry: g, out: y)
        unary(.relu, y, out: y)
        maxPool2d(y, windows: windows, out: out, indices: indices)
    }

    /// Default `maxPool2dReluBackward`: the composite.
    public func maxPool2dReluBackward(_ grad: Tensor, pooled: Tensor, indices: Tensor, windows: PoolWindows, out: Tensor) {
        compositeMaxPool2dReluBackward(grad, pooled: pooled, indices: indices, out: out)
    }

    /// `maxPool2dReluBackward` as this backend's `binary(.thresholdBackward)` and `maxPool2dBackward`.
    public func compositeMaxPool2dReluBackward(_ grad: Tensor, pooled: Tensor, indices: Tensor, out: Tensor) {
        let masked = Tensor(empty: grad.shape, dtype: grad.dtype, device: grad.device)
        binary(.thresholdBackward, grad, pooled, out: masked)
        maxPool2dBackward(masked, indices: indices, out: out)
    }
}
