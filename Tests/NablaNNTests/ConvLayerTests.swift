import Foundation
import Testing
import NablaNN
import NablaTestSupport

@Suite struct ConvLayerTests {
    @Test func conv2dShapesParametersAndDescription() {
        let conv = Conv2d(1, 32, kernelSize: 3, padding: 1)
        #expect(conv.weight.shape == [32, 1, 3, 3] && conv.bias?.shape == [32])
        #expect(conv.namedParameters().map(\.0) == ["weight", "bias"])
        #expect(conv(Tensor.randn([4, 1, 28, 28])).shape == [4, 32, 28, 28])
        #expect(conv(Tensor.randn([1, 28, 28])).shape == [32, 28, 28])
        #expect(conv.description == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))")
        let g = Conv2d(4, 8, kernelSize: [3, 5], stride: 2, padding: [1, 2], dilation: 2, groups: 2, bias: false)
        #expect(g.description == "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), groups=2, bias=False)")
        #expect(g.weight.shape == [8, 2, 3, 5] && g.bias == nil)
        #expect(Conv2d(3, 3, kernelSize: 2, padding: .same).description == "Conv2d(3, 3, kernel_size=(2, 2), stride=(1, 1), padding=same)")
        #expect(Conv2d(3, 3, kernelSize: 2, padding: .same)(Tensor.randn([1, 3, 5, 6])).shape == [1, 3, 5, 6])
    }

    @Test func conv1dAndTransposeShapesAndDescription() {
        let c1 = Conv1d(16, 33, kernelSize: 3, stride: 2)
        #expect(c1.description == "Conv1d(16, 33, kernel_size=(3,), stride=(2,))")
        #expect(c1(Tensor.randn([20, 16, 50])).shape == [20, 33, 24])
        let t = ConvTranspose2d(16, 33, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1)
        #expect(t.weight.shape == [16, 33, 3, 3])
        #expect(t.description == "ConvTranspose2d(16, 33, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))")
        #expect(t(Tensor.randn([2, 16, 5, 5])).shape == [2, 33, 10, 10])
    }

    @Test func defaultInitIsUniformOnInverseSqrtFanIn() {
        let conv = Conv2d(8, 16, kernelSize: 3)
        let bound = 1 / (8.0 * 9).squareRoot()
        let w = conv.weight.toDoubleArray(), b = conv.bias!.toDoubleArray()
        #expect(w.allSatisfy { abs($0) <= bound } && b.allSatisfy { abs($0) <= bound })
        #expect(w.map { abs($0) }.max()! > bound * 0.9)
    }

    @Test func poolingLayers() {
        let x = Tensor.randn([2, 3, 8, 8])
        #expect(MaxPool2d(kernelSize: 2)(x).shape == [2, 3, 4, 4])
        #expect(MaxPool2d(kernelSize: 2).description == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)")
        #expect(AvgPool2d(kernelSize: 3, stride: 2, padding: 1)(x).shape == [2, 3, 4, 4])
        #expect(AvgPool2d(kernelSize: 2).description == "AvgPool2d(kernel_size=2, stride=2, padding=0)")
        #expect(AdaptiveAvgPool2d(1)(x).shape == [2, 3, 1, 1])
        #expect(AdaptiveAvgPool2d([5, 7]).description == "AdaptiveAvgPool2d(output_size=(5, 7))")
        #expect(AdaptiveMaxPool2d(3)(x).shape == [2, 3, 3, 3])
        let x1 = Tensor.randn([2, 3, 9])
        #expect(MaxPool1d(kernelSize: 3)(x1).shape == [2, 3, 3])
        #expect(AvgPool1d(kernelSize: 2)(x1).shape == [2, 3, 4])
        #expect(AvgPool1d(kernelSize: 2).description == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))")
    }

    @Test(.seeded(0)) func tinyCNNTrains() {
        // Two classes: a bright square top-left or bottom-right.
        var images = [Double](repeating: 0, count: 16 * 64), labels: [Double] = []
        for i in 0..<16 {
            let c = i % 2
            for r in 0..<3 { for q in 0..<3 { images[i * 64 + (r + c * 5) * 8 + q + c * 5] = 1 } }
            labels.append(Double(c))
        }
        let x = Tensor(shape: [16, 1, 8, 8], data: images, dtype: .float32) + Tensor.randn([16, 1, 8, 8]) * 0.1
        let y = Tensor(shape: [16], data: labels, dtype: .int64)
        let model = Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                               Flatten(), Linear(64, 2))
        var first = 0.0, last = 0.0
        for step in 0..<60 {
            let loss = crossEntropy(model(x), y)
            if step == 0 { first = loss.item() }
            last = loss.item()
            for p in model.parameters() { p.grad = nil }
            loss.backward()
            noGrad { for p in model.parameters() { p.sub_(p.grad!, alpha: 0.2) } }
        }
        #expect(last < first * 0.2, "loss \(first) -> \(last)")
    }

    @Test func wrongChannelsNameTheLayer() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Conv2d(3, 8, kernelSize: 3)(Tensor.randn([2, 4, 8, 8]))
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("Conv2d") && text.contains("3 channels") && text.contains("[2, 4, 8, 8]"), "stderr: \(text)")
    }
}

/// The conv layers' `paddingMode` against PyTorch's modules with the same weights (Scripts/fixtures/conv.py).
@Suite struct ConvPaddingModeTests {
    let fixture = loadFixture("conv")

    @Test func layersMatchPyTorch() {
        expectMatchesFixture(fixture, "conv2d_padding_mode_reflect") { a in
            let conv = Conv2d(2, 3, kernelSize: 3, padding: 1, paddingMode: .reflect, dtype: a[0].dtype)
            conv.weight = a[1]; conv.bias = a[2]
            return [conv(a[0])]
        }
        expectMatchesFixture(fixture, "conv2d_padding_mode_circular_same") { a in
            let conv = Conv2d(2, 3, kernelSize: [3, 2], padding: .same, paddingMode: .circular, dtype: a[0].dtype)
            conv.weight = a[1]; conv.bias = a[2]
            return [conv(a[0])]
        }
        expectMatchesFixture(fixture, "conv1d_padding_mode_replicate") { a in
            let conv = Conv1d(3, 4, kernelSize: 3, stride: 2, padding: 2, paddingMode: .replicate, dtype: a[0].dtype)
            conv.weight = a[1]; conv.bias = a[2]
            return [conv(a[0])]
        }
        #expect(Conv2d(2, 3, kernelSize: 3, padding: 1, paddingMode: .reflect).description
                == "Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), padding_mode=reflect)")
        #expect(Conv1d(2, 3, kernelSize: 3).description == "Conv1d(2, 3, kernel_size=(3,), stride=(1,))")
    }
}
