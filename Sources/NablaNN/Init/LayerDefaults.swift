// The default initialisations of PyTorch's layers, drawn through `uniform_` so that a generator on the
// `.mt19937` engine fills them with the very numbers PyTorch's layers get from the same seed.

/// A parameter of `shape`, uniform on ±`bound` (`init.uniform_(w, -bound, bound)`).
/// Zeros inside `withoutInitialization`.
func uniformParameter(_ shape: [Int], bound: Double, dtype: DType) -> Tensor {
    if SkipInitialization.active { return Parameter(Tensor.zeros(shape, dtype: dtype)) }
    return Parameter(Tensor.empty(shape, dtype: dtype).uniform_(from: -bound, to: bound))
}

/// The weight and optional bias of Linear and the conv layers, as their `reset_parameters`: the weight by
/// `kaiming_uniform_(a: √5)` (±1/√fanIn, with PyTorch's rounding of the bound), then the bias on ±1/√fanIn.
func defaultLayerParameters(weight shape: [Int], fanIn: Int, bias biasShape: [Int]?, dtype: DType) -> (weight: Tensor, bias: Tensor?) {
    let gain = calculateGain(.leakyRelu, param: 5.0.squareRoot())
    let weightBound = fanIn > 0 ? 3.0.squareRoot() * (gain / Double(fanIn).squareRoot()) : 0
    let biasBound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
    let weight = uniformParameter(shape, bound: weightBound, dtype: dtype)
    return (weight, biasShape.map { uniformParameter($0, bound: biasBound, dtype: dtype) })
}
