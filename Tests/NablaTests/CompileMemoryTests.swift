import Testing
import Nabla
import NablaTestSupport

/// The compiled step's memory: a ReLU's gradient through a max pool is masked by the pool's output before the pool's
/// backward (so the ReLU's output dies after the forward), convolution input gradients go into planned memory, and
/// both give eager's bits.
@Suite struct CompileMemoryTests {
    /// conv → ReLU → max pool → loss, with windows that tile (2, stride 2) and that overlap (3, stride 2, padding 1):
    /// the weight's gradient is eager's bit for bit, and the backward no longer reads the ReLU's output.
    @Test(arguments: [DType.float32, .float64], [[2, 2, 0], [3, 2, 1]])
    func reluGradientsAreMaskedBeforeTheMaxPoolsBackward(_ dtype: DType, _ window: [Int]) throws {
        let gen = Generator(seed: 11)
        let w = Tensor.randn([4, 3, 3, 3], dtype: dtype, generator: gen).requiresGrad_()
        let f = { (x: Tensor) -> Tensor in
            w.grad = nil
            let y = conv2d(x, w, padding: 1).relu()
            let p = maxPool2d(y, kernelSize: SpatialSize(window[0]), stride: SpatialSize(window[1]), padding: SpatialSize(window[2]))
            let loss = (p * p).sum()
            loss.backward()
            return loss
        }
        let c = compile(f)
        let x = Tensor.randn([2, 3, 9, 9], dtype: dtype, generator: gen)
        _ = c(x); _ = c(x)
        let g = try #require(c.graph)
        #expect(g.passLog.contains { $0.contains("1 masked before the pool's backward") }, "\(g.passLog)")
        if window == [2, 2, 0] {
            // A tiling 2x2 pool then fuses with the convolution and the ReLU, whose output is never written at all.
            #expect(g.nodes.contains { if case .conv2dReluMaxPool = $0.kind { return true } else { return false } }, "\(g)")
        } else {
            // The ReLU's output (the pool's input) is read by no node after the pool's forward.
            let poolAt = try #require(g.nodes.firstIndex { if case .maxPool2d = $0.kind { return true } else { return false } })
            let reluOut = try #require(g.nodes[poolAt].reads[0]).buffer
            #expect(!g.nodes[(poolAt + 1)...].contains { n in n.reads.contains { $0?.buffer == reluOut } }, "\(g)")
        }
        let compiledLoss = c(x)
        let compiledGrad = try #require(w.grad).clone()
        let eagerLoss = f(x)
        #expect(allClose(compiledLoss, eagerLoss.detach(), rtol: 0, atol: 0).ok)
        let check = allClose(compiledGrad, try #require(w.grad), rtol: 0, atol: 0)
        #expect(check.ok, "\(dtype) \(window): \(check.failure)")
    }

    /// `conv2dBackward(..., inputGradient:)` writes the input gradient `conv2dBackward` returns, bit for bit, into the
    /// given memory (a view at an offset), for each CPU algorithm: the small-K kernel (1 channel), Winograd (8
    /// channels, float32) and im2col + GEMM (8 channels, float64).
    @Test(arguments: [DType.float32, .float64], [1, 8])
    func convolutionInputGradientsGoIntoGivenMemory(_ dtype: DType, _ channels: Int) throws {
        let gen = Generator(seed: 4)
        let geometry = ConvGeometry(batch: 3, channels: channels, height: 10, width: 9, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                                    padH: 1, padW: 1, dilationH: 1, dilationW: 1, outH: 10, outW: 9)
        let x = Tensor.randn(geometry.imageShape, dtype: dtype, generator: gen)
        let w = Tensor.randn([5, channels, 3, 3], dtype: dtype, generator: gen)
        let gy = Tensor.randn([3, 5, 10, 9], dtype: dtype, generator: gen)
        let backend = Device.cpu.backend
        let expected = backend.conv2dBackward(x, weight: w, grad: gy, geometry: geometry, input: true, weight: true, bias: true)
        let arena = Tensor.zeros([7 + x.count], dtype: dtype)
        let into = arena.narrow(0, start: 7, length: x.count).view(geometry.imageShape)
        let rest = backend.conv2dBackward(x, weight: w, grad: gy, geometry: geometry, inputGradient: into, weight: true, bias: true)
        #expect(allClose(into, try #require(expected.input), rtol: 0, atol: 0).ok)
        #expect(allClose(try #require(rest.weight), try #require(expected.weight), rtol: 0, atol: 0).ok)
        #expect(allClose(try #require(rest.bias), try #require(expected.bias), rtol: 0, atol: 0).ok)
        #expect(arena.narrow(0, start: 0, length: 7).abs().sum().item() == 0, "wrote before the view")
    }
}
