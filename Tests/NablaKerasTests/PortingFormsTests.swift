import Testing
import NablaKeras
import NablaTestSupport

/// Keras spellings: positional fit/evaluate/predict, inputDim, tuple sizes, toCategorical, regularizers and
/// constraints, and a target-free fit with addLoss.
@Suite(.serialized) struct KerasPortingFormsTests {
    @Test(.seeded(1)) func positionalFitEvaluatePredictAndInputDim() {
        let x = Tensor.rand(200, 1), y = x * 0.1 + 0.3
        let model = Sequential()
        model.add(Dense(1, inputDim: 1))
        model.compile(optimizer: .sgd(lr: 0.5), loss: "mse")
        let h = model.fit(x, y, epochs: 60, batchSize: 50, verbose: 0)
        #expect(h["loss"].last! < 1e-4)
        #expect(model.evaluate(x, y)["loss"]! < 1e-4)
        #expect(model.predict(x).shape == [200, 1] && model.predict(x: x).shape == [200, 1])
        let tutorial = Sequential([Flatten(inputShape: [28, 28]), Dense(128, activation: .relu), Dense(10)])
        #expect(tutorial.countParams() == 784 * 128 + 128 + 1290)   // built from inputShape, before any data
        #expect(Reshape([4, 4], inputShape: [16]).declaredInputShape == [16] && Dropout(0.2, inputShape: [3]).declaredInputShape == [3])
        let first = Dense(4, inputDim: 3, activation: .relu)
        #expect(first.declaredInputShape == [3] && first.activation == .relu)
        // Keras' keyword order: `Dense(32, input_dim=784, kernel_regularizer=l2(1e-4))`, the regularizer after inputDim.
        let regularized = Sequential([Dense(4, inputDim: 3, kernelRegularizer: .l2(1e-4), biasRegularizer: .l1(1e-3))])
        _ = regularized.predict(Tensor.randn(2, 3))
        #expect(regularized.regularizationLosses.count == 2 && regularized.countParams() == 16)
    }

    @Test(.seeded(2)) func evaluateTakesTheFormsFitTakes() {
        let a = Input(shape: [2]), b = Input(shape: [2])
        let out = Dense(1)(Concatenate()([a, b]))
        let model = Model(inputs: [a, b], outputs: out)
        model.compile(optimizer: "adam", loss: "mse")
        let x1 = Tensor.randn(32, 2), x2 = Tensor.randn(32, 2), y = x1.sum(dim: 1, keepDim: true)
        model.fit([x1, x2], y, epochs: 2, verbose: 0)
        let e1 = model.evaluate(x: [x1, x2], y: y), e2 = model.evaluate([x1, x2], y), e3 = model.evaluate([x1, x2], [y])
        #expect(e1["loss"]! == e2["loss"]! && e2["loss"]! == e3["loss"]!)
        #expect(model.predict([x1, x2])[0].shape == [32, 1])
    }

    @Test func tupleSizesAndToCategorical() {
        let conv = Conv2D(8, kernelSize: (3, 3), strides: (2, 2), activation: .relu, inputShape: [9, 9, 1])
        #expect(conv.kernelSize == [3, 3] && conv.strides == [2, 2])
        let model = Sequential([conv, MaxPooling2D(poolSize: (2, 2)), Flatten(), Dense(3)])
        #expect(model.predict(Tensor.randn(2, 9, 9, 1)).shape == [2, 3])
        let onehot = toCategorical(Tensor([0, 2, 1]), numClasses: 3)
        #expect(onehot.dtype == .float32 && onehot.toFloatArray() == [1, 0, 0, 0, 0, 1, 0, 1, 0])
        #expect(toCategorical(Tensor([1, 3])).shape == [2, 4])
    }

    @Test(.seeded(5)) func regularizersAddTheirPenaltyAndConstraintsHold() {
        let dense = Dense(3, kernelRegularizer: .l2(0.5), biasRegularizer: .l1(0.25), inputShape: [2])
        let model = Sequential([dense])
        model.compile(optimizer: .sgd(lr: 0), loss: "mse")
        let x = Tensor.randn(4, 2), y = Tensor.zeros(4, 3)
        _ = model.predict(x)
        let k = dense.kernel!, b = dense.bias!
        b.data += 1   // a nonzero bias so the L1 term counts
        let plain = (model.predict(x) - y).pow(2).mean().item()
        let expected = plain + 0.5 * (k * k).sum().item() + 0.25 * b.abs().sum().item()
        #expect(abs(model.evaluate(x, y)["loss"]! - expected) < 1e-5)
        #expect(model.regularizationLosses.count == 2)

        let capped = Dense(2, kernelConstraint: .maxNorm(0.5), biasConstraint: .nonNeg, inputShape: [3])
        let m2 = Sequential([capped])
        m2.compile(optimizer: .sgd(lr: 1.0), loss: "mse")
        m2.fit(Tensor.randn(16, 3), Tensor.randn(16, 2) * 10, epochs: 3, verbose: 0)
        let norms = (capped.kernel! * capped.kernel!).sum(dim: 0).sqrt().toDoubleArray()
        #expect(norms.allSatisfy { $0 <= 0.5 + 1e-5 }, "\(norms)")
        #expect(capped.bias!.toDoubleArray().allSatisfy { $0 >= 0 })
        let cconv = Conv2D(4, kernelSize: 3, kernelConstraint: .unitNorm, inputShape: [5, 5, 2])
        let m3 = Sequential([cconv, Flatten(), Dense(1)])
        m3.compile(optimizer: .sgd(lr: 0.1), loss: "mse")
        m3.fit(Tensor.randn(8, 5, 5, 2), Tensor.randn(8, 1), epochs: 1, verbose: 0)
        let cn = (cconv.kernel! * cconv.kernel!).sum(dims: [1, 2, 3]).sqrt().toDoubleArray()
        #expect(cn.allSatisfy { abs($0 - 1) < 1e-4 }, "\(cn)")
    }

    @Test(.seeded(6)) func fitWithoutTargetsWhenAddLossSuppliesTheLoss() {
        let inp = Input(shape: [4])
        let code = Dense(2)(inp)
        let recon = Dense(4)(code)
        let model = Model(inputs: inp, outputs: recon)
        model.addLoss(Lambda(inputs: { [($0[0] - $0[1]) * ($0[0] - $0[1])] })([recon, inp]))
        model.compile(optimizer: "adam")
        let x = Tensor.randn(64, 4)
        let before = model.evaluate(x: x)["loss"]!
        let h = model.fit(x, epochs: 30, batchSize: 16, verbose: 0)
        #expect(h["loss"].count == 30 && h["loss"].last! < before * 0.9, "\(before) -> \(h["loss"].last!)")
    }
}
