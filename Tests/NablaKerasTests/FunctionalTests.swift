import Testing
import Foundation
import NablaKeras
import NablaTestSupport

@Suite struct FunctionalTests {
    /// Seed example: a functional MLP, then the model reused as a layer on a new input (shared weights).
    @Test func modelReusedAsLayerSharesWeights() {
        let inputs = Input(shape: [784])
        var x = Dense(64, activation: .relu)(inputs)
        x = Dense(64, activation: .relu)(x)
        let predictions = Dense(10, activation: .softmax)(x)
        let model = Model(inputs: inputs, outputs: predictions)
        #expect(model.outputs[0].shape == [-1, 10])
        #expect(model.countParams() == 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10)

        let x2 = Input(shape: [784])
        let y = model(x2)
        let model1 = Model(inputs: x2, outputs: y)
        #expect(model1.countParams() == model.countParams())
        #expect(model1.layers.count == 1 && model1.layers[0] === model)
        let s = model1.summary(print: false)
        #expect(s.contains("(Functional)"))
        #expect(s.contains("Total params: 55,050"))

        let data = Tensor.rand([5, 784])
        let a = model.predict(data), b = model1.predict(data)
        #expect(a.shape == [5, 10])
        #expect(allClose(a, b).ok)
        #expect(allClose(a.sum(dim: 1), Tensor.ones([5])).ok)
        // Training model1 changes model's weights too.
        let kernel = (model.layers[0] as! Dense).kernel!
        let before = kernel.clone()
        model1.compile(optimizer: .sgd(lr: 0.1), loss: "sparse_categorical_crossentropy")
        model1.trainOnBatch(x: data, y: Tensor([1, 2, 3, 4, 5]))
        #expect(!kernel.equal(before))
    }

    /// Seed example: two branches merged by concatenation, trained with categorical cross-entropy on two inputs.
    @Test(.seeded(1)) func twoBranchMergeModel() {
        let left = Sequential()
        left.add(Dense(32, inputShape: [784]))
        let right = Sequential()
        right.add(Dense(32, inputShape: [784]))
        let a = Input(shape: [784]), b = Input(shape: [784])
        let merged = Concatenate()([left(a), right(b)])
        #expect(merged.shape == [-1, 64])
        let out = Dense(10, activation: .softmax)(merged)
        let finalModel = Model(inputs: [a, b], outputs: out)
        finalModel.compile(optimizer: "rmsprop", loss: "categorical_crossentropy")
        let x1 = Tensor.rand([64, 784]), x2 = Tensor.rand([64, 784])
        let targets = oneHot(Tensor.randint(10, [64]), numClasses: 10).to(.float32)
        let first = finalModel.evaluate(x: [x1, x2], y: [targets])["loss"]!
        let h = finalModel.fit(x: [x1, x2], y: targets, epochs: 5, batchSize: 16, verbose: 0)
        #expect(h["loss"].count == 5)
        #expect(finalModel.evaluate(x: [x1, x2], y: [targets])["loss"]! < first)
        let text = finalModel.summary(print: false)
        #expect(text.contains("Connected to"))
        #expect(text.contains("(Concatenate)"))
    }

    @Test func intermediateOutputsAndGetLayer() {
        let x = Input(shape: [8])
        let d1 = Dense(4, activation: .relu, name: "hidden")
        let h = d1(x)
        let y = Dense(2)(h)
        let model = Model(inputs: x, outputs: y)
        #expect(model.getLayer("hidden") === d1)
        let features = Model(inputs: model.input, outputs: model.getLayer("hidden").output)
        let data = Tensor.randn([3, 8])
        let f = features.predict(data)
        #expect(f.shape == [3, 4])
        #expect(allClose(f, relu(matmul(data, d1.kernel!) + d1.bias!)).ok)
    }

    @Test func mergeLayersAndLambda() {
        let a = Input(shape: [3]), b = Input(shape: [3])
        let s = Add()([a, b]), p = Multiply()([a, b])
        let l = Lambda { $0 * 2 }(s)
        let d = Lambda(inputs: { [$0[0] - $0[1]] })([l, p])
        let model = Model(inputs: [a, b], outputs: [d, s])
        let x = Tensor([[1.0, 2.0, 3.0]], dtype: .float32), z = Tensor([[4.0, 5.0, 6.0]], dtype: .float32)
        let out = model.predict(x: [x, z])
        #expect(allClose(out[0], (x + z) * 2 - x * z).ok)
        #expect(allClose(out[1], x + z).ok)
        #expect(d.shape == [-1, 3])
    }

    @Test func reshapeExcludesBatchDimension() {
        let x = Input(shape: [784])
        let r = Reshape([7, 112])(x)
        #expect(r.shape == [-1, 7, 112])
        let r2 = Reshape([-1, 28])(x)
        #expect(r2.shape == [-1, 28, 28])
        let f = Flatten()(r)
        #expect(f.shape == [-1, 784])
        let model = Model(inputs: x, outputs: r)
        #expect(model.predict(Tensor.rand([5, 784])).shape == [5, 7, 112])
        #expect(throws: ShapeError.self) { try Reshape([5, 5]).call(symbolic: [x]) }
    }

    @Test func deferredShapes() {
        let d = Dense(3)
        #expect(!d.built && d.weights.isEmpty)
        let y = d(Tensor.ones([2, 5]))
        #expect(d.built)
        #expect(d.kernel!.shape == [5, 3] && d.bias!.shape == [3])
        #expect(y.shape == [2, 3])
        #expect(d.bias!.equal(Tensor.zeros([3])))
        // glorot-uniform bound sqrt(6 / (5 + 3))
        #expect(d.kernel!.abs().max().item() <= (6.0 / 8.0).squareRoot() + 1e-6)

        let model = Sequential()
        model.add(Dense(16, activation: .relu))
        model.add(Dense(4))
        #expect(model.graph == nil)
        let out = model(Tensor.ones([7, 10]))
        #expect(out.shape == [7, 4])
        #expect(model.graph != nil)
        #expect(model.outputs[0].shape == [-1, 4])
        #expect(model.countParams() == 10 * 16 + 16 + 16 * 4 + 4)
    }

    @Test func incompatibleShapesGiveClearErrors() {
        let d = Dense(10)
        _ = d(Input(shape: [128]))
        do {
            _ = try d.call(symbolic: [Input(shape: [64])])
            Issue.record("expected a shape error")
        } catch {
            #expect(error.description == "layer \(d.name): expected input [*, 128], got [*, 64]")
        }
        let c = Concatenate()
        #expect(throws: ShapeError.self) { try c.call(symbolic: [Input(shape: [2, 3]), Input(shape: [4, 3])].map { $0 }) }
        do {
            _ = try Add().call(symbolic: [Input(shape: [3]), Input(shape: [4])])
            Issue.record("expected a shape error")
        } catch {
            #expect(error.description.contains("do not broadcast"))
        }
    }

    @Test func incompatibleLayerInSequentialTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let d = Dense(10, name: "dense_x")
            _ = d(Input(shape: [128]))
            let m = Sequential()
            m.add(Dense(64, inputShape: [32]))
            m.add(d)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("layer dense_x: expected input [*, 128], got [*, 64]"))
    }

    @Test func layerNamesAreUniqueAndSnakeCase() {
        let a = Dense(1), b = Dense(1)
        #expect(a.name.hasPrefix("dense_") && b.name.hasPrefix("dense_") && a.name != b.name)
        #expect(GlobalNameProbe.names().allSatisfy { !$0.isEmpty })
        #expect(Concatenate().name.hasPrefix("concatenate_"))
        #expect(Activation(.relu).name.hasPrefix("activation_"))
    }

    @Test func customLayerWithBuildAndCall() {
        final class Scale: Layer {
            var w: Tensor?
            override func build(inputShape: [Int]) { w = addWeight("w", shape: [inputShape.last!], initializer: .ones) }
            override func call(_ x: Tensor, training: Bool) -> Tensor { x * w! }
        }
        let x = Input(shape: [3])
        let s = Scale()
        let model = Model(inputs: x, outputs: Dense(1)(s(x)))
        #expect(s.weights.count == 1 && s.weights[0].shape == [3])
        #expect(model.trainableWeights.count == 3)
        s.trainable = false
        #expect(model.trainableWeights.count == 2)
        #expect(model.nonTrainableWeights.count == 1)
        #expect(model.summary(print: false).contains("Non-trainable params: 3"))
    }

    @Test func graphIsTheIR() {
        let x = Input(shape: [4], name: "features")
        let y = Dense(2, activation: .tanh, name: "out")(Dropout(0.5)(x))
        let model = Model(inputs: x, outputs: y)
        let g = model.graph!
        #expect(g.nodes.map(\.op) == ["Dropout", "Dense"])
        #expect(g.description.contains("%out = Dense[units=2, activation=\"tanh\", use_bias=true]"))
        #expect(g.dot().contains("features"))
        // What the layers compute is held as the compile IR's op kinds, grouped by layer call, free batch `*`.
        let t = g.trace
        #expect(t.graphBreak == nil && t.spans.count == 2)
        #expect(t.spans[0].isEmpty)   // Dropout in inference mode computes nothing
        let dense = t.spans[1].map { t.graph.nodes[$0].kind }
        #expect(dense.contains(.unary(.tanh)), "\(dense)")
        #expect(dense.contains { if case .matmul = $0 { return true }; if case .matmulAccumulate = $0 { return true }; return false }, "\(dense)")
        let last = t.spans[1].last!
        #expect(t.symbolicShape(t.graph.nodes[last].writes[0], node: last) == [-1, 2])
        #expect(g.description.contains("= tanh(%b"), "\(g)")
        #expect(g.description.contains("[*, 2]"), "\(g)")
    }

    @Test func symbolicCallsRunNoKernel() {
        /// Counts its eager calls in a buffer, in place: a symbolic call that ran a kernel would count.
        final class Counting: Layer {
            let calls = Tensor.zeros([1])
            override func call(_ x: Tensor, training: Bool) -> Tensor {
                noGrad { _ = calls.add_(1) }
                return x * 2
            }
        }
        let x = Input(shape: [3])
        let c = Counting()
        let h = c(x)   // no shape rule of its own: its shape comes from a symbolic trace of `call`
        #expect(h.shape == [-1, 3])
        let model = Model(inputs: x, outputs: Dense(2)(h))
        _ = model.graph!.description
        _ = model.graph!.dot()
        _ = try? model.checkInputShapes([[5, 3]])
        #expect(c.calls.item() == 0)
        let out = model(Tensor.ones([4, 3]))
        #expect(out.shape == [4, 2])
        #expect(c.calls.item() == 1)
        let t = model.graph!.trace
        let kinds = t.spans[0].map { t.graph.nodes[$0].kind }
        #expect(kinds.contains(.binaryScalar(.mul, scalar: 2, reversed: false)), "\(kinds)")
        #expect(kinds.contains(.binaryScalar(.add, scalar: 1, reversed: false)), "\(kinds)")   // recorded, not run
    }
}

enum GlobalNameProbe {
    static func names() -> [String] { [Dense(1).name, Flatten().name] }
}
