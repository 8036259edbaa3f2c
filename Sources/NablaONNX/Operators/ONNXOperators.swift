import Nabla

/// The operators Nabla's ONNX importer runs (default domain), for messages and the docs.
public let onnxSupportedOperators: [String] = [
    "Abs", "Add", "And", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape",
    "Conv", "ConvTranspose", "Div", "Dropout", "Equal", "Erf", "Exp", "Expand", "Flatten", "Gather", "Gelu", "Gemm",
    "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "Identity", "LayerNormalization", "LeakyRelu",
    "Less", "LessOrEqual", "Log", "LogSoftmax", "LSTM", "MatMul", "Max", "MaxPool", "Min", "Mod", "Mul", "Neg", "Not",
    "Or", "Pow", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "Relu", "Reshape", "Shape",
    "Sigmoid", "Size", "Slice", "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze", "Where",
]

/// Compiles one node into a kernel, or throws `unsupportedOperator` naming the node, op type and opset.
func buildKernel(_ ctx: ONNXNodeContext, domain: String,
                 attributeTensor: (String) throws(ONNXError) -> Tensor?) throws(ONNXError) -> ONNXKernel {
    guard domain.isEmpty || domain == "ai.onnx" else {
        throw .unsupportedOperator(node: ctx.name, opType: ctx.opType, domain: domain, opset: ctx.opset)
    }
    if let k = try elementwiseKernel(ctx) { return k }
    if let k = try shapeKernel(ctx, attributeTensor: attributeTensor) { return k }
    if let k = try neuralNetKernel(ctx) { return k }
    if let k = try reduceKernel(ctx) { return k }
    if let k = try lstmKernel(ctx) { return k }
    throw ctx.unsupported()
}
