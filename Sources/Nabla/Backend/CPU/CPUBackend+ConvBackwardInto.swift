extension CPUBackend {
    /// Winograd's input gradient is computed straight into `inputGradient`; the other algorithms allocate theirs and
    /// copy it in (the protocol's default).
    public func conv2dBackward(_ x: Tensor, weight: Tensor, grad: Tensor, geometry g: ConvGeometry, inputGradient: Tensor,
                               weight needW: Bool, bias needB: Bool) -> (weight: Tensor?, bias: Tensor?) {
        guard ConvAlgorithm(g, dtype: x.dtype) == .winograd, inputGradient.dtype == .float32, inputGradient.isContiguous,
              inputGradient.shape == g.imageShape
        else {
            let r = conv2dBackward(x, weight: weight, grad: grad, geometry: g, input: true, weight: needW, bias: needB)
            if let gx = r.input { copy(gx, into: inputGradient) }
            return (r.weight, r.bias)
        }
        counter.bump(.conv2dBackward)
        let r = convWinogradBackward(x, weight: weight, grad: grad, geometry: g, input: true, weight: needW, bias: needB,
                                     inputGradient: inputGradient)
        return (r.1, r.2)
    }
}
