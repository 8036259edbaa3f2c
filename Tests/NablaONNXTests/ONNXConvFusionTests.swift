import Foundation
import Testing
import Nabla
import NablaNN
import NablaONNX
import NablaTestSupport

/// Conv nodes with constant weights run on prepared weights, with a following Relu and 2x2 MaxPool fused into them.
@Suite struct ONNXConvFusionTests {
    /// PyTorch's export of the W4 CNN runs as two fused convolutions: the results equal the unfused, differentiable
    /// path (an input that requires grad takes it) and PyTorch's.
    @Test func theCNNRunsFusedConvolutions() throws {
        let m = try ONNXModel(path: ONNXFixture.path("cnn.torchscript17.onnx"))
        #expect(m.executedOpTypes == ["Conv+Relu+MaxPool", "Conv+Relu+MaxPool", "Flatten", "Gemm+Relu", "Gemm"], "\(m.executedOpTypes)")
        let x = try loadNpy(from: ONNXFixture.path("cnn.input.npy"))
        for n in Set([1, x.shape[0]]) {
            let xn = x.narrow(0, start: 0, length: n).contiguous()
            let fused = try noGrad { try m(xn) }
            let unfused = try m(xn.detached().requiresGrad_()).detached()
            let r = allClose(fused, unfused, rtol: 1e-5, atol: 1e-5)
            #expect(r.ok, "batch \(n): \(r.failure)")
        }
    }

    /// A value a fusion would hide stays computed: with the Relu's output also a graph output, only the Relu is
    /// fused into the Conv, and the MaxPool runs on its own.
    @Test func anIntermediateOutputStopsTheFusion() throws {
        manualSeed(3)
        let conv = Conv2d(2, 4, kernelSize: 3, padding: 1)
        let x = Tensor.randn([2, 2, 6, 6])
        let data = try onnxModelData(exampleInputs: [x]) { xs in
            let r = relu(conv(xs[0]))
            return [r, maxPool2d(r, kernelSize: 2)]
        }
        let m = try ONNXModel(data: data)
        #expect(m.executedOpTypes.contains("Conv+Relu") && m.executedOpTypes.contains("MaxPool"), "\(m.executedOpTypes)")
        let outs = try noGrad { try m.run([x]) }
        let r = noGrad { relu(conv(x)) }
        #expect(allClose(outs[0], r).ok)
        #expect(allClose(outs[1], noGrad { maxPool2d(r, kernelSize: 2) }).ok)
    }

    /// A model exported by Nabla fuses the same way (Conv, Relu, MaxPool with explicit pads and strides), and a pool
    /// that is not 2x2 with stride 2 stays its own step.
    @Test func fusionFollowsThePoolsAttributes() throws {
        manualSeed(4)
        let conv = Conv2d(3, 8, kernelSize: 3, padding: 1)
        let x = Tensor.randn([2, 3, 10, 10])
        let pooled = try ONNXModel(data: onnxModelData(exampleInputs: [x]) { xs in [maxPool2d(relu(conv(xs[0])), kernelSize: 2)] })
        // (Nabla's exporter ends the graph with an Identity that names the output.)
        #expect(pooled.executedOpTypes.filter { $0 != "Identity" } == ["Conv+Relu+MaxPool"], "\(pooled.executedOpTypes)")
        let wide = try ONNXModel(data: onnxModelData(exampleInputs: [x]) { xs in [maxPool2d(relu(conv(xs[0])), kernelSize: 3, stride: 2)] })
        #expect(wide.executedOpTypes.filter { $0 != "Identity" } == ["Conv+Relu", "MaxPool"], "\(wide.executedOpTypes)")
        for (m, k, s) in [(pooled, 2, 2), (wide, 3, 2)] {
            let r = allClose(try noGrad { try m(x) }, noGrad { maxPool2d(relu(conv(x)), kernelSize: SpatialSize(k), stride: SpatialSize(s)) },
                             rtol: 1e-5, atol: 1e-5)
            #expect(r.ok, "\(r.failure)")
        }
    }
}
