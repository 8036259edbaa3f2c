// A file that imports every library module at once, as a user mixing the PyTorch-style and the Keras-style API
// does, and writes the names both define (Sequential, Dropout, Flatten, Embedding, LSTM, GRU, Lambda,
// ReduceLROnPlateau) unqualified. That this file compiles is most of the test; each case also checks which type it
// got. The rule (docs/usage.md, "Mixing NablaNN and NablaKeras"): a bare constructor call means the Keras type when
// both would fit; the PyTorch-style type is picked by its own arguments or by a NablaNN container; type
// annotations of a clashing name take the module's name.
import Testing
import Nabla
import NablaNN
import NablaOptim
import NablaData
import NablaKeras
import NablaTestSupport

/// A PyTorch-style module in a file that also imports NablaKeras: its layers are picked by their PyTorch arguments.
private final class MixedTagger: Module {
    let embedding: NablaNN.Embedding
    let lstm: NablaNN.LSTM
    let head = Linear(8, 3)
    override init() {
        embedding = Embedding(numEmbeddings: 20, embeddingDim: 4)
        lstm = LSTM(4, 8, batchFirst: true)
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { head(lstm(embedding(x))) }
}

@Suite(.serialized) struct MixedImportsTests {
    /// Keras' idiom, `Sequential()` then `add`, gets the Keras model and Keras layers.
    @Test(.seeded(0)) func kerasSequentialAndLayers() {
        let model = Sequential()
        model.add(Embedding(20, 4, inputLength: 5))
        model.add(LSTM(6, returnSequences: true))
        model.add(GRU(6))
        model.add(Dropout(0.5))
        model.add(Flatten())
        model.add(Dense(3, activation: .softmax))
        #expect(type(of: model) == NablaKeras.Sequential.self)
        let y = model.predict(Tensor.randint(0, 20, [2, 5]).float())
        #expect(y.shape == [2, 3])
        let standalone = Dropout(0.2), flat = Flatten(), emb = Embedding(10, 4)
        #expect(standalone is NablaKeras.Dropout && flat is NablaKeras.Flatten && emb is NablaKeras.Embedding)
    }

    /// PyTorch's idioms pick NablaNN's types from their arguments: modules listed in `Sequential(...)`, two sizes for
    /// an LSTM/GRU, `p:` for Dropout, `startDim:` for Flatten, labelled sizes for Embedding.
    @Test(.seeded(1)) func pytorchSequentialAndLayers() {
        let net = Sequential(Linear(4, 8), ReLU(), Dropout(p: 0.1), Flatten(startDim: 1), Linear(8, 2))
        #expect(type(of: net) == NablaNN.Sequential.self)
        #expect(net(Tensor.randn(3, 4)).shape == [3, 2])
        let lstm = LSTM(4, 8), gru = GRU(4, 8, batchFirst: true)
        let emb = Embedding(numEmbeddings: 10, embeddingDim: 3)
        let drop = Dropout(p: 0.3), flat = Flatten(startDim: 1)
        #expect(type(of: lstm) == NablaNN.LSTM.self && type(of: gru) == NablaNN.GRU.self)
        #expect(type(of: emb) == NablaNN.Embedding.self && emb.weight.shape == [10, 3])
        #expect(type(of: drop) == NablaNN.Dropout.self && type(of: flat) == NablaNN.Flatten.self)
        let tagger = MixedTagger()
        #expect(tagger(Tensor.randint(0, 20, [2, 5])).shape == [2, 5, 3])
    }

    /// The case: a Keras `Lambda` layer calling a NablaNN loss, in a model fitted by Keras with `addLoss`;
    /// a NablaData `Lambda` transform beside it (its closure takes the sample and a generator).
    @Test(.seeded(2)) func kerasLambdaCallingANablaNNLoss() {
        let x = Input(shape: [4]), target = Input(shape: [1])
        let y = Dense(1)(Dense(8, activation: .relu)(x))
        let model = Model(inputs: [x, target], outputs: y)
        let loss = Lambda(inputs: { t in [mseLoss(t[0], t[1])] })([y, target])
        model.addLoss(loss)
        model.compile(optimizer: .sgd(lr: 0.05))
        let xs = Tensor.randn(64, 4), ys = xs.sum(dim: 1, keepDim: true) * 0.5
        let before = mseLoss(model.predict([xs, ys])[0], ys).item()
        model.fit(x: [xs, ys], epochs: 20, batchSize: 16, verbose: 0)
        let after = mseLoss(model.predict([xs, ys])[0], ys).item()
        #expect(after < before * 0.5, "loss \(before) -> \(after)")

        let square = Lambda { x in x * x }
        #expect(type(of: square) == NablaKeras.Lambda.self)
        let scale = Lambda { (t: Tensor, _: Generator) in t * 2 }
        let data = TensorDataset(Tensor.ones(4, 2), Tensor.zeros(4)).map(input: scale)
        #expect(data[0].0.toDoubleArray() == [2, 2])
    }

    /// Keras' `ReduceLROnPlateau` callback and NablaOptim's scheduler, each from its own arguments.
    @Test func reduceLROnPlateauBothWays() {
        let model = Sequential([Dense(1, inputDim: 2)])
        model.compile(optimizer: .sgd(lr: 0.1), loss: "mse")
        let callback = ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 1)
        #expect(type(of: callback) == NablaKeras.ReduceLROnPlateau.self)
        model.fit(Tensor.randn(8, 2), Tensor.randn(8, 1), epochs: 2, batchSize: 4, callbacks: [callback], verbose: 0)
        let opt = SGD(Linear(2, 1).parameters(), lr: 0.1)
        let scheduler = ReduceLROnPlateau(opt, factor: 0.5, patience: 0)
        #expect(type(of: scheduler) == NablaOptim.ReduceLROnPlateau.self)
        scheduler.step(1.0)
        scheduler.step(2.0)
        #expect(abs(opt.paramGroups[0].lr - 0.05) < 1e-12)
    }
}
