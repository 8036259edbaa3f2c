import Foundation
import Testing
import Nabla
import NablaONNX
import NablaTestSupport

/// An imported ONNX model runs under `compile`: the compiled function gives `ONNXModel`'s outputs.
@Suite struct ONNXCompileTests {
    @Test(arguments: ["cnn.torchscript17.onnx", "mlp.dynamo18.onnx"])
    func anImportedModelCompiles(_ file: String) throws {
        let m = try ONNXModel(path: ONNXFixture.path(file))
        let input = try #require(m.inputs.first?.shape?.dropFirst().map { $0 ?? 1 })
        let x = Tensor.rand([2] + input, generator: Generator(seed: 4))
        let f = compile(name: file) { (x: Tensor) -> Tensor in try! m.run([x])[0] }
        let expected = try noGrad { try m.run([x])[0] }
        for _ in 0..<3 {
            let r = allClose(noGrad { f(x) }, expected, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
        #expect(f.graph != nil, "\(f.explain())")
    }
}
