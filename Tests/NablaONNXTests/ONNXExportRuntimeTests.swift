import Foundation
import NablaNN
import NablaONNX
import NablaTestSupport
import Testing

/// One covered model for the onnxruntime checks: how to make it, its input at two batch sizes, and the tolerance.
struct ExportCase: CustomStringConvertible, Sendable {
    let name: String
    let rtol: Double
    var description: String { name }

    /// The model (eval mode) and inputs at two batch sizes.
    func make() -> (NablaNN.Module, Tensor, Tensor) {
        switch name {
        case "mlp": return (makeExportMLP(), Tensor.randn([4, 1, 28, 28]), Tensor.randn([1, 1, 28, 28]))
        case "mlp64":
            return (makeExportMLP(dtype: .float64), Tensor.randn([3, 1, 28, 28], dtype: .float64), Tensor.randn([5, 1, 28, 28], dtype: .float64))
        case "cnn": return (makeExportCNN(), Tensor.randn([2, 1, 28, 28]), Tensor.randn([5, 1, 28, 28]))
        case "lstm": return (ExportLSTMNet(), Tensor.randn([3, 28, 28]), Tensor.randn([1, 28, 28]))
        case "encoder":
            return (TransformerEncoderLayer(dModel: 64, nhead: 4, dimFeedforward: 128, dropout: 0.1, batchFirst: true),
                    Tensor.randn([2, 10, 64]), Tensor.randn([3, 10, 64]))
        case "resblock":
            let block = ExportResBlock()
            warmBatchNorm(block, input: Tensor.randn([6, 8, 12, 12]))
            return (block, Tensor.randn([3, 8, 12, 12]), Tensor.randn([2, 8, 12, 12]))
        default:
            return (ExportTokenNet(), Tensor.randint(0, 50, [2, 9]), Tensor.randint(0, 50, [5, 9]))
        }
    }

    static let all = [ExportCase(name: "mlp", rtol: 1e-5), ExportCase(name: "mlp64", rtol: 1e-5), ExportCase(name: "cnn", rtol: 1e-5),
                      ExportCase(name: "lstm", rtol: 1e-4), ExportCase(name: "encoder", rtol: 1e-5),
                      ExportCase(name: "resblock", rtol: 1e-5), ExportCase(name: "tokens", rtol: 1e-5)]
}

@Suite("Nabla's exported ONNX files pass onnx.checker and match Nabla in onnxruntime (the .build/venv of `make venv`)")
struct ONNXExportRuntimeTests {
    @Test(arguments: ExportCase.all)
    func exportedFileRunsInOnnxruntime(_ c: ExportCase) throws {
        let (model, x, other) = c.make()
        _ = model.eval()
        let path = exportPath(c.name + ".onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportONNX(model, exampleInputs: [x], to: path)
        for input in [x, other] {
            let npy = exportPath(c.name + ".input.npy")
            defer { try? FileManager.default.removeItem(atPath: npy) }
            try saveNpy(input, to: npy)
            let fromOrt = try runOnnxruntime(path, npy)
            let r = allClose(fromOrt, noGrad { model(input) }, rtol: c.rtol, atol: c.rtol)
            #expect(r.ok, "\(c.name) at batch \(input.shape[0]): \(r.failure)")
        }
    }
}
