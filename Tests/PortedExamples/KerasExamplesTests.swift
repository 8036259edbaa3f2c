// The seed articles' Keras examples, written as a Keras user writes them (positional fit, input_dim, tuples,
// to_categorical, add_loss without a compiled loss), each checked against a number.
import Testing
import NablaKeras
import NablaTestSupport

private let fixtures = loadFixture("ported")

@Suite(.serialized) struct KerasExamplesTests {
    /// Article 004: `model.compile(optimizer=SGD, loss=mean_absolute_error)` then `model.fit(x, y, epochs, batch_size)`
    /// on `y = 0.1x + 0.3 + noise` recovers the line.
    @Test(.seeded(0)) func linearRegressionWithCompileAndFit() {
        let c = fixtures["linear_regression_autograd"]
        let (x, y) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let model = Sequential()
        model.add(Dense(1, inputShape: [1]))
        model.compile(optimizer: .sgd(lr: 0.002), loss: "mean_absolute_error")
        model.fit(x, y, epochs: 80, batchSize: 20, verbose: 0)
        let dense = model.getLayer(index: 0) as! Dense
        let (w, b) = (dense.kernel!.item(), dense.bias!.item())
        #expect(abs(w - 0.1) < 0.02 && abs(b - 0.3) < 0.1, "w \(w), b \(b)")
        #expect(model.evaluate(x, y)["loss"]! < 0.2)
    }

    /// Article 000: two branches `Dense(32, input_dim=784)` merged by concatenation, then `Dense(10, softmax)`;
    /// `compile(optimizer='rmsprop', loss='categorical_crossentropy')`, `fit([input_data_1, input_data_2], targets)`.
    @Test(.seeded(1)) func mergingTwoBranches() {
        let leftBranch = Sequential()
        leftBranch.add(Dense(32, inputDim: 784))
        let rightBranch = Sequential()
        rightBranch.add(Dense(32, kernelRegularizer: .l2(1e-4), inputDim: 784))
        let a = Input(shape: [784]), b = Input(shape: [784])
        let merged = Concatenate()([leftBranch(a), rightBranch(b)])
        let finalModel = Model(inputs: [a, b], outputs: Dense(10, activation: .softmax)(merged))
        finalModel.compile(optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"])

        let n = 200
        let labels = Tensor.randint(0, 10, [n])
        let centers = Tensor.randn(10, 784)
        let data1 = centers.indexSelect(dim: 0, index: labels) + Tensor.randn(n, 784) * 0.5
        let data2 = Tensor.randn(n, 784)
        let targets = toCategorical(labels, numClasses: 10)
        finalModel.fit([data1, data2], targets, epochs: 5, batchSize: 32, verbose: 0)
        let logs = finalModel.evaluate([data1, data2], targets)
        #expect(logs["accuracy"]! >= 0.95, "\(logs)")
        #expect(finalModel.countParams() == 2 * (784 * 32 + 32) + (64 * 10 + 10))
    }

    /// Article 000: a functional model called like a layer reuses its weights: `y = model(x)`, `model1 = Model(x, y)`.
    @Test(.seeded(2)) func modelReusedAsLayer() {
        let inputs = Input(shape: [784])
        var x = Dense(64, activation: .relu)(inputs)
        x = Dense(64, activation: .relu)(x)
        let predictions = Dense(10, activation: .softmax)(x)
        let model = Model(inputs: inputs, outputs: predictions)

        let x1 = Input(shape: [784])
        let y1 = model(x1)
        let model1 = Model(inputs: x1, outputs: y1)
        #expect(model1.countParams() == 55_050 && model.countParams() == 55_050)
        #expect(model1.summary(print: false).contains("Total params: 55,050"))
        let batch = Tensor.rand(3, 784)
        #expect(allClose(model1.predict(batch), model.predict(batch)).ok)
    }

    /// Article 003: `my_model.add_loss(loss)`, `my_model.compile(optimizer='sgd')`, then `fit` with no loss
    /// argument; the targets are a second input, so `fit(x)` needs no `y`.
    @Test(.seeded(3)) func addLossThenCompileWithoutLoss() {
        let x1 = Input(shape: [8]), target = Input(shape: [1])
        let y1 = Dense(1, activation: .sigmoid)(Dense(16, activation: .relu)(x1))
        let myModel = Model(inputs: [x1, target], outputs: y1)
        let bce = Lambda(inputs: { t in
            [-(t[0] * (t[1] + 1e-7).log() + (1 - t[0]) * (1 - t[1] + 1e-7).log())]
        })([target, y1])
        myModel.addLoss(bce)
        myModel.compile(optimizer: .sgd(lr: 0.5))
        let xTrain = Tensor.randn(256, 8)
        let yTrain = xTrain.sum(dim: 1, keepDim: true).gt(0).float()
        let h = myModel.fit(x: [xTrain, yTrain], epochs: 15, batchSize: 32, verbose: 0)
        #expect(h["loss"].last! < 0.25, "\(h["loss"])")
        let p = myModel.predict([xTrain, yTrain])[0]
        let accuracy = p.gt(0.5).float().eq(yTrain).float().mean().item()
        #expect(accuracy > 0.9)
    }

    /// Article 000: Keras' `Reshape` keeps the batch dimension; `tf.reshape` (Tensor.reshape) reshapes everything.
    @Test func reshapeLayerVersusTensorReshape() {
        let inputs = Input(shape: [16])
        let model = Model(inputs: inputs, outputs: Reshape([4, 4])(inputs))
        let x = Tensor.arange(0, 32, dtype: .float32).reshape(2, 16)
        #expect(model.predict(x).shape == [2, 4, 4])
        #expect(x.reshape(4, 8).shape == [4, 8])
        let cnn = Sequential([Conv2D(4, kernelSize: (3, 3), activation: .relu, inputShape: [6, 6, 1]),
                              MaxPooling2D(poolSize: (2, 2)), Flatten(), Dense(2)])
        #expect(cnn.predict(Tensor.zeros(1, 6, 6, 1)).shape == [1, 2] && cnn.countParams() == 4 * 9 + 4 + 16 * 2 + 2)
    }

    /// docs/usage.md's Keras block: inputDim, a regularizer and a constraint, positional fit on toCategorical targets.
    @Test(.seeded(4)) func usageDocKerasBlock() {
        let n = 128
        let y = Tensor.randint(0, 10, [n])
        let x = Tensor.randn(10, 784).indexSelect(dim: 0, index: y) + Tensor.randn(n, 784) * 0.3
        let model = Sequential()
        model.add(Dense(32, inputDim: 784))
        model.add(Dense(64, activation: .relu, kernelRegularizer: .l2(1e-4), kernelConstraint: .maxNorm(3)))
        model.add(Dense(10, activation: .softmax))
        model.compile(optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"])
        model.fit(x, toCategorical(y, numClasses: 10), epochs: 5, batchSize: 32, verbose: 0)
        let logs = model.evaluate(x, toCategorical(y, numClasses: 10))
        #expect(logs["accuracy"]! >= 0.95, "\(logs)")
        let dense = model.getLayer(index: 1) as! Dense
        let norms = (dense.kernel! * dense.kernel!).sum(dim: 0).sqrt().toDoubleArray()
        #expect(norms.allSatisfy { $0 <= 3 + 1e-4 } && model.predict(x).shape == [n, 10])
    }
}
