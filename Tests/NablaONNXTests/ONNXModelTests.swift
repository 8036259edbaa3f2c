import Foundation
import NablaONNX
import NablaTestSupport
import Testing

@Suite("ONNX import of PyTorch-exported models")
struct ONNXModelTests {
    @Test func manifestListsTheModels() {
        let names = Set(ONNXFixture.all.map(\.name))
        #expect(names == ["mlp", "cnn", "lstm", "encoder", "resblock", "tokens", "ops"])
        #expect(Set(ONNXFixture.all.map(\.exporter)) == ["torchscript", "dynamo"])
    }

    @Test(arguments: ONNXFixture.all)
    func matchesPyTorch(_ f: ONNXFixture) throws {
        let m = try ONNXModel(path: ONNXFixture.path(f.file))
        #expect(m.opset == f.opset)
        let x = try loadNpy(from: ONNXFixture.path(f.input))
        let expected = try loadNpy(from: ONNXFixture.path(f.output))
        let y = try noGrad { try m(x) }
        let r = allClose(y, expected, rtol: f.rtol, atol: f.rtol)
        #expect(r.ok, "\(f.file): \(r.failure)")
        // The batch dimension is free: one sample gives PyTorch's first row.
        let y1 = try noGrad { try m(x.narrow(0, start: 0, length: 1).contiguous()) }
        let r1 = allClose(y1, expected.narrow(0, start: 0, length: 1), rtol: f.rtol, atol: f.rtol)
        #expect(r1.ok, "\(f.file) batch 1: \(r1.failure)")
    }

    @Test func signatureAndStateDict() throws {
        let m = try ONNXModel(path: ONNXFixture.path("cnn.torchscript17.onnx"))
        #expect(m.inputs.count == 1 && m.outputs.count == 1)
        #expect(m.inputs[0].name == "input" && m.inputs[0].dtype == .float32)
        #expect(m.inputs[0].shape == [nil, 1, 28, 28])
        #expect(m.inputs[0].description == "input: float32 [batch, 1, 28, 28]")
        #expect(m.outputs[0].shape == [nil, 10])
        let sd = m.stateDict()
        let shapes = sd.map { $0.1.shape }
        #expect(shapes.contains([32, 1, 3, 3]) && shapes.contains([128, 3136]) && shapes.contains([10]))
        #expect(m.producer.hasPrefix("pytorch"))
    }

    @Test func constantsAreFoldedAtLoad() throws {
        // The TorchScript export computes attention's shapes from Constant nodes: those run once at load.
        let m = try ONNXModel(path: ONNXFixture.path("tokens.torchscript17.onnx"))
        #expect(m.foldedNodeCount > 0 && m.foldedNodeCount < m.nodeCount, "\(m.foldedNodeCount) of \(m.nodeCount)")
        let cnn = try ONNXModel(path: ONNXFixture.path("cnn.torchscript17.onnx"))
        #expect(cnn.foldedNodeCount == 0 && cnn.nodeCount == 10)
    }

    @Test func runByNameAndGradients() throws {
        let m = try ONNXModel(path: ONNXFixture.path("resblock.torchscript17.onnx"))
        let x = try loadNpy(from: ONNXFixture.path("resblock.input.npy")).requiresGrad_()
        let out = try m.run(["input": x])
        let y = try #require(out["output"])
        // Differentiable: the gradient of the sum reaches the input and matches a finite difference.
        y.sum().backward()
        let g = try #require(x.grad)
        #expect(g.shape == x.shape)
        let eps = 1e-2
        var bumped = x.detach().toFloatArray()
        bumped[5] += Float(eps)
        let xp = Tensor(shape: x.shape, data: bumped)
        let yp = try noGrad { try m(xp) }.sum().item()
        let y0 = try noGrad { try m(x.detach()) }.sum().item()
        let numeric = (yp - y0) / eps
        #expect(abs(numeric - g.toDoubleArray()[5]) < 1e-2 * max(1, abs(numeric)))
        #expect(throws: ONNXError.self) { try m.run(["nope": x]) }
        #expect(throws: ONNXError.self) { try m.run([:]) }
    }

    @Test func loadStateDictReplacesWeights() throws {
        let m = try ONNXModel(path: ONNXFixture.path("mlp.dynamo18.onnx"))
        let x = try loadNpy(from: ONNXFixture.path("mlp.input.npy"))
        var sd = m.stateDict()
        for k in sd.keys { sd[k] = Tensor.zerosLike(sd[k]!) }
        try m.loadStateDict(sd, strict: true)
        let y = try noGrad { try m(x) }
        #expect(y.abs().sum().item() == 0)
        var bad = StateDict()
        bad[sd.keys[0]] = Tensor.zeros([1])
        #expect(throws: ONNXError.self) { try m.loadStateDict(bad, strict: false) }
    }

    @Test func externalDataIsRead() throws {
        let m = try ONNXModel(path: ONNXFixture.path("resblock.external.onnx"))
        let x = try loadNpy(from: ONNXFixture.path("resblock.input.npy"))
        let r = allClose(try noGrad { try m(x) }, try loadNpy(from: ONNXFixture.path("resblock.output.npy")), rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "\(r.failure)")
        // From bytes without a folder, the external tensors cannot be found: a clear error.
        let data = try Data(contentsOf: URL(fileURLWithPath: ONNXFixture.path("resblock.external.onnx")))
        #expect(throws: ONNXError.self) { try ONNXModel(data: data) }
    }

    @Test func inputsAreChecked() throws {
        let m = try ONNXModel(path: ONNXFixture.path("cnn.torchscript17.onnx"))
        let wrongShape = Tensor.zeros([2, 1, 27, 28])
        #expect(throws: ONNXError.self) { try m(wrongShape) }
        #expect(throws: ONNXError.self) { try m(Tensor.zeros([2, 1, 28, 28], dtype: .float64)) }
        #expect(throws: ONNXError.self) { try m(Tensor.zeros([1, 28, 28])) }
        do {
            _ = try m(wrongShape)
        } catch {
            #expect("\(error)".contains("input") && "\(error)".contains("27"))
        }
    }
}

@Suite("ONNX models on another device")
struct ONNXDeviceTests {
    @Test func runsOnTheReferenceBackend() throws {
        let m = try ONNXModel(path: ONNXFixture.path("resblock.torchscript17.onnx"))
        #expect(m.device == .cpu)
        try m.to(.reference)
        #expect(m.device == .reference)
        #expect(m.stateDict().allSatisfy { $0.1.device == .reference })
        let x = try loadNpy(from: ONNXFixture.path("resblock.input.npy"))
        #expect(throws: ONNXError.self) { try m(x) }   // the input must be on the model's device
        let y = try noGrad { try m(x.to(.reference)) }
        #expect(y.device == .reference)
        let r = allClose(y.cpu(), try loadNpy(from: ONNXFixture.path("resblock.output.npy")), rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "\(r.failure)")
    }
}
