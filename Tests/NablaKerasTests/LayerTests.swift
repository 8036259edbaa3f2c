import Testing
import NablaKeras
import NablaTestSupport

@Suite struct LayerTests {
    @Test func conv2DChannelsLastMatchesCoreOp() {
        let conv = Conv2D(4, kernelSize: 3, activation: .relu)
        let x = Tensor.randn([2, 6, 6, 3])
        let y = conv(x)
        #expect(y.shape == [2, 4, 4, 4])
        #expect(conv.kernel!.shape == [4, 3, 3, 3] && conv.bias!.shape == [4])
        let ref = relu(conv2d(x.permute(0, 3, 1, 2), conv.kernel!, bias: conv.bias!)).permute(0, 2, 3, 1)
        #expect(allClose(y, ref, rtol: 1e-5, atol: 1e-5).ok)
        let same = Conv2D(2, kernelSize: 3, padding: .same)(Input(shape: [5, 5, 1]))
        #expect(same.shape == [-1, 5, 5, 2])
    }

    @Test func cnnShapesAndSummary() {
        let model = Sequential()
        model.add(Conv2D(8, kernelSize: 3, activation: .relu, inputShape: [28, 28, 1]))
        model.add(MaxPooling2D(poolSize: 2))
        model.add(Conv2D(16, kernelSize: 3, activation: .relu))
        model.add(AveragePooling2D())
        model.add(BatchNormalization())
        model.add(GlobalAveragePooling2D())
        model.add(Dense(10))
        #expect(model.outputs[0].shape == [-1, 10])
        let shapes = model.graph!.nodes.map { $0.outputSpecs[0].shape }
        #expect(shapes == [[-1, 26, 26, 8], [-1, 13, 13, 8], [-1, 11, 11, 16], [-1, 5, 5, 16], [-1, 5, 5, 16], [-1, 16], [-1, 10]])
        let text = model.summary(print: false)
        #expect(text.contains("(None, 26, 26, 8)"))
        #expect(text.contains("Non-trainable params: 32"))   // BatchNormalization moving mean and variance
        #expect(model.predict(Tensor.rand([3, 28, 28, 1])).shape == [3, 10])
        // What the model computes, as op kinds traced symbolically, one span per layer call.
        let t = model.graph!.trace
        #expect(t.graphBreak == nil && t.spans.count == 7)
        let first = t.spans[0].map { t.graph.nodes[$0].kind }
        #expect(first.contains { if case .conv2d = $0 { return true }; if case .im2col = $0 { return true }; return false }, "\(first)")
        #expect(t.spans.allSatisfy { !$0.isEmpty }, "\(t.spans)")
        let outs = t.nodeOutputs.indices.map { t.outputShapes(ofNode: $0)[0] }
        #expect(outs == shapes, "\(outs)")
    }

    @Test func batchNormalizationUsesKerasMomentum() {
        let bn = BatchNormalization()
        let x = Tensor.randn([64, 3]) * 2 + 5
        bn.train()
        let y = bn(x)
        #expect(allClose(y.mean(dim: 0), Tensor.zeros([3]), atol: 1e-4).ok)
        // moving_mean = 0.99 * 0 + 0.01 * batch mean
        #expect(allClose(bn.movingMean!, x.mean(dim: 0) * 0.01, rtol: 1e-4, atol: 1e-5).ok)
        bn.eval()
        let z = bn(x)
        let expected = (x - bn.movingMean!) / (bn.movingVariance! + 1e-3).sqrt()
        #expect(allClose(z, expected, rtol: 1e-4, atol: 1e-4).ok)
        #expect(bn.trainableWeights.count == 2 && bn.nonTrainableWeights.count == 2)
    }

    @Test func embeddingAndRecurrentLayers() {
        let ids = Input(shape: [7], dtype: .int64)
        let e = Embedding(50, 8)(ids)
        #expect(e.shape == [-1, 7, 8])
        let seq = LSTM(16, returnSequences: true)(e)
        #expect(seq.shape == [-1, 7, 16])
        let g = GRU(5)(seq)
        #expect(g.shape == [-1, 5])
        let r = SimpleRNN(4)(e)
        #expect(r.shape == [-1, 4])
        let model = Model(inputs: ids, outputs: [g, r])
        let t = model.graph!.trace   // recurrent sequences and gathers, traced without running a kernel
        #expect(t.graphBreak == nil, "\(String(describing: t.graphBreak))")
        #expect(t.graph.nodes.filter { if case .recurrentSequence = $0.kind { return true }; return false }.count == 3)
        #expect(model.graph!.description.contains("lstmSequence"), "\(model.graph!)")
        let out = model.predict(x: [Tensor.randint(50, [3, 7])])
        #expect(out[0].shape == [3, 5] && out[1].shape == [3, 4])
        let lstm = model.layers.first { $0 is LSTM } as! LSTM
        let names = model.namedWeights().map(\.0).filter { $0.hasPrefix(lstm.name) }
        #expect(names == ["\(lstm.name).weight_ih_l0", "\(lstm.name).weight_hh_l0", "\(lstm.name).bias_ih_l0", "\(lstm.name).bias_hh_l0"])
        // forget-gate bias starts at 1
        let b = lstm.weights.first { $0.shape == [64] }!
        #expect(b.narrow(0, start: 16, length: 16).equal(Tensor.ones([16])))
    }

    @Test(.seeded(11)) func smallCNNTrains() {
        // Two classes: bright top half vs bright bottom half.
        let n = 64
        let labels = Tensor.randint(2, [n])
        let top = labels.eq(0).to(.float32).reshape([n, 1, 1, 1])
        var img = Tensor.rand([n, 8, 8, 1]) * 0.2
        let mask = cat([Tensor.ones([1, 4, 8, 1]), Tensor.zeros([1, 4, 8, 1])], dim: 1)
        img = img + top * mask + (1 - top) * (1 - mask)
        let model = Sequential([Conv2D(4, kernelSize: 3, activation: .relu, inputShape: [8, 8, 1]), MaxPooling2D(),
                                Flatten(), Dense(2)])
        model.compile(optimizer: "adam", loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let h = model.fit(x: img, y: labels, epochs: 15, batchSize: 16, verbose: 0)
        #expect(h["accuracy"].last! > 0.9)
    }
}
