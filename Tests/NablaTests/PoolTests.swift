import Testing
import Nabla
import NablaTestSupport

@Suite struct PoolTests {
    @Test func maxPoolMatchesPyTorch() {
        expectMatchesConvFixture("max_pool2d") { [maxPool2d($0[0], kernelSize: 2)] }
        expectMatchesConvFixture("max_pool2d_pad_dil_ceil") {
            [maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1, dilation: [1, 2], ceilMode: true)]
        }
        expectMatchesConvFixture("max_pool2d_indices") {
            let (v, i) = maxPool2dWithIndices($0[0], kernelSize: [2, 3], stride: 1)
            return [v, i]
        }
        expectMatchesConvFixture("max_pool1d") { [maxPool1d($0[0], kernelSize: 3, stride: 2, padding: 1, ceilMode: true)] }
        expectMatchesConvFixture("adaptive_max_pool2d") {
            let (v, i) = adaptiveMaxPool2dWithIndices($0[0], outputSize: [4, 3])
            return [v, i]
        }
    }

    @Test func avgPoolMatchesPyTorch() {
        expectMatchesConvFixture("avg_pool2d") { [avgPool2d($0[0], kernelSize: 2)] }
        expectMatchesConvFixture("avg_pool2d_pad_ceil_exclude") {
            [avgPool2d($0[0], kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false)]
        }
        expectMatchesConvFixture("avg_pool2d_pad_include") { [avgPool2d($0[0], kernelSize: [3, 2], stride: [2, 1], padding: [1, 1])] }
        expectMatchesConvFixture("avg_pool1d") { [avgPool1d($0[0], kernelSize: 4, stride: 3, padding: 2, ceilMode: true)] }
        expectMatchesConvFixture("adaptive_avg_pool2d") { [adaptiveAvgPool2d($0[0], outputSize: [4, 3])] }
        expectMatchesConvFixture("adaptive_avg_pool1d") { [adaptiveAvgPool1d($0[0], outputSize: 4)] }
    }

    /// Distinct values (a permutation) keep max pooling away from ties, where it has no derivative.
    static func distinct(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        return (Tensor.randperm(n).to(.float64) * 0.37 + Tensor.randn([n], dtype: .float64) * 0.01).reshape(shape)
    }

    @Test func gradcheckMaxPool() {
        #expect(gradcheck({ maxPool2d($0[0], kernelSize: 2, stride: 1, padding: 1) }, inputs: [Self.distinct([1, 2, 3, 4])]).passed)
        #expect(gradcheck({ maxPool2d($0[0], kernelSize: 2, dilation: [2, 1], ceilMode: true) }, inputs: [Self.distinct([2, 1, 5, 3])]).passed)
        #expect(gradcheck({ maxPool1d($0[0], kernelSize: 3, stride: 2, padding: 1) }, inputs: [Self.distinct([2, 2, 7])]).passed)
        #expect(gradcheck({ adaptiveMaxPool2d($0[0], outputSize: [2, 3]) }, inputs: [Self.distinct([1, 2, 5, 4])]).passed)
        // Non-contiguous input.
        #expect(gradcheck({ maxPool2d($0[0], kernelSize: 2) }, inputs: [Self.distinct([1, 2, 4, 4]).transpose(2, 3)]).passed)
        // Second order: the backward's backward gathers.
        #expect(gradcheck({ ins in
            enableGrad {
                let xr = ins[0].requiresGrad ? ins[0] : ins[0].detached().requiresGrad_()
                let y = maxPool2d(xr, kernelSize: 2)
                let g = gradients(of: [(y * y * y).sum()], wrt: [xr], createGraph: true)[0]!
                return (g * g).sum()
            }
        }, inputs: [Self.distinct([1, 1, 4, 4])]).passed)
    }

    @Test func gradcheckAvgPool() {
        let x = Tensor.randn([1, 2, 5, 3], dtype: .float64)
        #expect(gradcheck({ avgPool2d($0[0], kernelSize: 2, stride: 1, padding: 1, countIncludePad: false) }, inputs: [x]).passed)
        #expect(gradcheck({ avgPool2d($0[0], kernelSize: [3, 2], ceilMode: true) }, inputs: [x.transpose(2, 3)]).passed)
        #expect(gradcheck({ avgPool1d($0[0], kernelSize: 2, padding: 1) }, inputs: [Tensor.randn([2, 2, 5], dtype: .float64)]).passed)
        #expect(gradcheck({ adaptiveAvgPool2d($0[0], outputSize: [2, 3]) }, inputs: [x]).passed)
        #expect(gradcheck({ adaptiveAvgPool1d($0[0], outputSize: 3) }, inputs: [Tensor.randn([2, 5], dtype: .float64)]).passed)
    }

    @Test func shapesAndUnbatchedInput() {
        #expect(maxPool2d(Tensor.randn([3, 8, 8]), kernelSize: 2).shape == [3, 4, 4])
        #expect(maxPool2d(Tensor.randn([2, 3, 7, 7]), kernelSize: 2, ceilMode: true).shape == [2, 3, 4, 4])
        #expect(avgPool2d(Tensor.randn([2, 3, 7, 7]), kernelSize: 3, stride: 2, padding: 1).shape == [2, 3, 4, 4])
        #expect(adaptiveAvgPool2d(Tensor.randn([2, 3, 7, 9]), outputSize: 1).shape == [2, 3, 1, 1])
        #expect(adaptiveMaxPool2d(Tensor.randn([3, 7, 9]), outputSize: [2, 4]).shape == [3, 2, 4])
        // Global average pooling equals the mean.
        let x = Tensor.randn([2, 3, 4, 5])
        #expect(allClose(adaptiveAvgPool2d(x, outputSize: 1).flatten(startDim: 1), x.mean(dims: [2, 3]), rtol: 1e-5, atol: 1e-6).ok)
    }

    @Test func oversizedPaddingIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = maxPool2d(Tensor.randn([1, 1, 4, 4]), kernelSize: 2, padding: 2)
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("maxPool2d") && text.contains("padding"), "stderr: \(text)")
    }
}
