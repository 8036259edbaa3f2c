import Nabla

// The fused losses a traced loss function records (`crossEntropy` and `nllLoss` run as one backend call each) as
// ONNX's own loss operators (opset 13 and later, so every opset the exporter writes): `SoftmaxCrossEntropyLoss`,
// whose optional second output is the log-probabilities, and `NegativeLogLikelihoodLoss`. Both take PyTorch's
// `reduction` and `ignore_index`, and the class weights as an optional third input (the weighted mean divides by the
// summed weights of the counted rows, as PyTorch and Nabla do).

extension ONNXExporter {
    /// The attributes both loss operators take.
    private func lossAttributes(ignoreIndex: Int, reduction: LossReduction) -> [Onnx_AttributeProto] {
        [ONNXGraphBuilder.attr("reduction", "\(reduction)"), ONNXGraphBuilder.attr("ignore_index", ignoreIndex)]
    }

    /// The loss's inputs: scores or log-probabilities [M, C], int64 targets [M], and the class weights when present.
    private func lossInputs() throws -> (input: ONNXValue, names: [String]) {
        let x = try read(0), target = try read(1)
        guard target.dtype == .int64 else { throw unsupported("targets of \(target.dtype): ONNX's losses take int64 class indices") }
        var names = [x.name, target.name]
        if hasRead(2) { names.append(try read(2).name) }
        return (x, names)
    }

    /// `softmaxCrossEntropy` (writes the log-probabilities [M, C], then the loss) as one `SoftmaxCrossEntropyLoss`.
    func softmaxCrossEntropyLoss(ignoreIndex: Int, reduction: LossReduction) throws {
        let (x, names) = try lossInputs()
        let outs = builder.node("SoftmaxCrossEntropyLoss", names, count: 2,
                                attributes: lossAttributes(ignoreIndex: ignoreIndex, reduction: reduction))
        try write(0, ONNXValue(name: outs[1], dtype: x.dtype, shape: x.shape))
        try write(1, ONNXValue(name: outs[0], dtype: x.dtype, shape: try writeShape(1)))
    }

    /// `nllLoss` of log-probabilities as one `NegativeLogLikelihoodLoss`.
    func negativeLogLikelihoodLoss(ignoreIndex: Int, reduction: LossReduction) throws {
        let (x, names) = try lossInputs()
        let out = builder.op("NegativeLogLikelihoodLoss", names, lossAttributes(ignoreIndex: ignoreIndex, reduction: reduction))
        try write(0, ONNXValue(name: out, dtype: x.dtype, shape: try writeShape(0)))
    }
}
