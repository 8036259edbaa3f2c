import Nabla

/// Runs `model` (eval mode, no autograd) on the samples of `input` — one sample or a batch, integer images
/// (uint8 `.npy` files) scaled to [0, 1] — and returns its outputs `[N, classes]` and the predicted classes (int64 `[N]`).
/// - Throws: `TrainError` when the input does not hold whole samples of the dataset's shape.
public func predict(model: BuiltModel, data: DataSource, input: Tensor) throws -> (outputs: Tensor, classes: Tensor) {
    var x = input.dtype == .int32 || input.dtype == .int64 ? input.to(.float32) / 255 : input.to(.float32)
    let per = data.sampleShape.reduce(1, *)
    guard x.count > 0, x.count % per == 0 else {
        throw TrainError("predict: the input of shape \(input.shape) does not hold whole samples of shape \(data.sampleShape) (\(per) values each)")
    }
    x = x.reshape([x.count / per] + data.sampleShape)
    let module = model.module
    _ = module.eval()
    return noGrad {
        var outs: [Tensor] = []
        let n = x.shape[0]
        for i in stride(from: 0, to: n, by: 1000) { outs.append(module(data.prepare(x.narrow(0, start: i, length: min(1000, n - i))))) }
        let out = cat(outs, dim: 0)
        return (out, out.argmax(dim: 1))
    }
}
