import Testing
import NablaNN
import NablaTestSupport

/// PyTorch's argument orders compile and mean what they mean in PyTorch.
@Suite struct ArgumentOrderTests {
    @Test func convOrders() {
        let a = Conv2d(3, 12, kernelSize: 3, padding: 1, stride: 2)        // padding before stride
        #expect(a.stride == [2, 2] && a.padding == 1 && a.kernelSize == [3, 3])
        let b = Conv2d(1, 20, 5)                                            // positional kernel
        #expect(b.kernelSize == [5, 5] && b.stride == [1, 1] && b.padding == 0)
        let c = Conv2d(16, 32, 3, 2, 1)                                     // kernel, stride, padding positional
        #expect(c.stride == [2, 2] && c.padding == 1)
        let d = Conv2d(3, 8, 3, padding: 1, stride: 2)
        #expect(d.stride == [2, 2] && d.padding == 1)
        let e = Conv2d(3, 8, 3, stride: 2, padding: 1, bias: false)
        #expect(e.bias == nil && e.stride == [2, 2])
        let f = Conv2d(inChannels: 3, outChannels: 8, kernelSize: [3, 5])
        #expect(f.kernelSize == [3, 5] && f.weight.shape == [8, 3, 3, 5])
        let g = Conv2d(3, 12, kernelSize: 3, padding: 1)                     // the main initializer still answers
        #expect(g.stride == [1, 1] && g.padding == 1)
        #expect(Conv2d(3, 12, kernelSize: 3, padding: 1, stride: 1)(Tensor.randn(1, 3, 8, 8)).shape == [1, 12, 8, 8])
        #expect(Conv1d(4, 8, 3, padding: 1).kernelSize == 3 && Conv1d(4, 8, kernelSize: 3, padding: 1, stride: 2).stride == 2)
    }

    @Test func poolingLinearRecurrentDropoutBatchNorm() {
        #expect(MaxPool2d(2).stride == 2 && MaxPool2d(3, 2, 1).padding == 1 && MaxPool2d(3, stride: 2).stride == 2)
        #expect(MaxPool2d(kernelSize: 3, padding: 1, stride: 2).stride == 2)
        #expect(AvgPool2d(2, 2).kernelSize == 2 && AvgPool2d(3, stride: 1, padding: 1).padding == 1)
        #expect(AvgPool2d(kernelSize: 3, padding: 1, stride: 1).stride == 1)
        #expect(MaxPool1d(2).stride == 2 && AvgPool1d(4, 2).stride == 2)

        let l = Linear(inFeatures: 4, outFeatures: 2, bias: false)
        #expect(l.weight.shape == [2, 4] && l.bias == nil)

        let r1 = LSTM(28, 64, 2, batchFirst: true)
        #expect(r1.numLayers == 2 && r1.batchFirst)
        let r2 = LSTM(inputSize: 28, hiddenSize: 64, numLayers: 2, batchFirst: true)
        #expect(r2.numLayers == 2 && r2.inputSize == 28)
        let r3 = LSTM(28, 64, numLayers: 2, dropout: 0.5, batchFirst: true, bidirectional: true)
        #expect(r3.dropout == 0.5 && r3.batchFirst && r3.bidirectional)
        let r4 = LSTM(28, 64, batchFirst: true, numLayers: 3)
        #expect(r4.numLayers == 3 && r4.batchFirst)
        #expect(GRU(8, 16, 2).numLayers == 2 && GRU(inputSize: 8, hiddenSize: 16, batchFirst: true).batchFirst)
        let (out, _) = r1(Tensor.randn(5, 7, 28), nil)
        #expect(out.shape == [5, 7, 64])

        #expect(Dropout(0.2).p == 0.2 && Dropout(p: 0.3, inplace: true).p == 0.3 && Dropout2d(0.1).p == 0.1)
        #expect(ReLU(inplace: true)(Tensor([-1.0, 2.0])).toFloatArray() == [0, 2])

        let bn = BatchNorm2d(64, momentum: 0.01, eps: 1e-3)
        #expect(bn.momentum == 0.01 && bn.eps == 1e-3)
        #expect(BatchNorm1d(numFeatures: 8).numFeatures == 8 && BatchNorm2d(4, 1e-3, 0.2).momentum == 0.2)
    }
}
