import Foundation
import NablaNN

// The models the export tests write to ONNX: the benchmark workloads' (W3 MLP, W4 CNN, W5 LSTM, a narrower W7
// encoder layer), a residual block with BatchNorm, and a token model (Embedding, LayerNorm, attention, Dropout, GELU).

/// W3's MLP on flattened 28×28 images.
func makeExportMLP(dtype: DType = .float32) -> NablaNN.Sequential {
    NablaNN.Sequential(Flatten(), Linear(784, 512, dtype: dtype), ReLU(), Linear(512, 256, dtype: dtype), ReLU(), Linear(256, 10, dtype: dtype))
}

/// W4's CNN.
func makeExportCNN() -> NablaNN.Sequential {
    NablaNN.Sequential(
        Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
}

/// W5's LSTM over the 28 rows of an image, last hidden state → Linear.
final class ExportLSTMNet: Module {
    let lstm = LSTM(28, 128, batchFirst: true)
    let fc = Linear(128, 10)
    override func forward(_ x: Tensor) -> Tensor {
        let (_, (h, _)) = lstm(x, nil)
        return fc(h[h.shape[0] - 1])
    }
}

/// A residual block with BatchNorm (eval mode in the export), on `[N, 8, 12, 12]`.
final class ExportResBlock: Module {
    let conv1 = Conv2d(8, 8, kernelSize: 3, padding: 1, bias: false)
    let bn1 = BatchNorm2d(8)
    let conv2 = Conv2d(8, 8, kernelSize: 3, padding: 1, bias: false)
    let bn2 = BatchNorm2d(8)
    let head = Linear(8 * 12 * 12, 5)
    override func forward(_ x: Tensor) -> Tensor {
        let y = relu(bn1(conv1(x)))
        let z = relu(bn2(conv2(y)) + x)
        return head(z.flatten(startDim: 1))
    }
}

/// Token ids `[N, T]` → Embedding, LayerNorm, self-attention, Dropout, GELU, a head and LogSoftmax.
final class ExportTokenNet: Module {
    let embed = Embedding(50, 32)
    let norm = LayerNorm([32])
    let attn = MultiheadAttention(embedDim: 32, numHeads: 4, batchFirst: true)
    let drop = Dropout(p: 0.3)
    let act = GELU()
    let head = Linear(32, 7)
    override func forward(_ ids: Tensor) -> Tensor {
        let e = norm(embed(ids))
        let (a, _) = attn(e, e, e, needWeights: false)
        let h = act(drop(a + e))
        return logSoftmax(head(h), dim: -1)
    }
}

/// Gives every BatchNorm running statistics other than the initial ones (a few train-mode passes).
func warmBatchNorm(_ m: Module, input: Tensor) {
    _ = m.train()
    for _ in 0..<3 { _ = noGrad { m(input + Tensor.randn(input.shape)) } }
    _ = m.eval()
}
