import Foundation
import NablaNN
import NablaONNX
import NablaTestSupport
import Testing

/// A traced loss exports: `crossEntropy` (one fused backend call since the fused kernel) becomes ONNX's
/// `SoftmaxCrossEntropyLoss`, `nllLoss` becomes `NegativeLogLikelihoodLoss`, and the file gives the loss Nabla
/// computes when onnxruntime runs it, at the traced batch size and another.
@Suite("A compiled loss function exports to ONNX's loss operators and matches Nabla in onnxruntime")
struct ONNXExportLossTests {
    @Test(arguments: ["crossEntropy", "weightedIgnoring", "nllLossSum", "perSample"])
    func compiledLossRunsInOnnxruntime(_ kind: String) throws {
        let model = Linear(6, 4)
        let weight = Tensor(shape: [4], data: [Float(1), 2, 0.5, 1.5])
        let body = { (x: Tensor, y: Tensor) -> Tensor in
            switch kind {
            case "crossEntropy": return crossEntropy(model(x), y)
            case "weightedIgnoring": return crossEntropy(model(x), y, weight: weight, ignoreIndex: 2)
            case "nllLossSum": return nllLoss(logSoftmax(model(x), dim: 1), y, reduction: .sum)
            default: return crossEntropy(model(x), y, reduction: .none)
            }
        }
        let step = compile(name: "loss", body)
        let x = Tensor.randn([5, 6]), y = Tensor(shape: [5], data: [Int64(0), 3, 2, 1, 3])
        let path = exportPath(kind + ".onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportONNX(step, exampleInputs: [x, y], to: path)
        let other = (Tensor.randn([3, 6]), Tensor(shape: [3], data: [Int64(2), 1, 0]))
        for (xs, ys) in [(x, y), other] {
            let xp = exportPath(kind + ".x.npy"), yp = exportPath(kind + ".y.npy")
            defer { for p in [xp, yp] { try? FileManager.default.removeItem(atPath: p) } }
            try saveNpy(xs, to: xp)
            try saveNpy(ys, to: yp)
            let fromOrt = try runOnnxruntime(path, inputs: [xp, yp])
            let expected = noGrad { body(xs, ys) }
            let r = allClose(fromOrt, expected, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(kind) at batch \(xs.shape[0]): \(r.failure)")
        }
    }
}
