import Testing
import Foundation
import NablaKeras
import NablaTestSupport

/// A custom layer for the registry tests: `x * factor`.
final class ScaleBy: Layer {
    let factor: Double
    init(_ factor: Double, name: String? = nil) { self.factor = factor; super.init(name: name) }
    override func getConfig() -> [(String, GraphAttribute)] { [("factor", .double(factor))] }
    override func call(_ x: Tensor, training: Bool) -> Tensor { x * factor }
}

/// Whole-model saving (`Model.save`, `loadModel`, `toJSON`, `modelFromJSON`).
@Suite(.serialized) struct SavingTests {
    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nabla-model-\(UUID().uuidString).safetensors").path
    }

    /// Saves, reloads and checks the predictions are identical.
    func roundTrip(_ model: Model, _ x: Tensor) throws -> Model {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let before = model.predict(x)
        try model.save(path)
        let loaded = try loadModel(path)
        #expect(loaded.className == model.className && loaded.name == model.name)
        #expect(loaded.layers.map(\.className) == model.layers.map(\.className))
        #expect(loaded.countParams() == model.countParams())
        let after = loaded.predict(x)
        #expect(after.shape == before.shape)
        #expect(allClose(after, before, rtol: 0, atol: 0).ok)
        return loaded
    }

    @Test(.seeded(21)) func sequentialMLPAndCNNRoundTrip() throws {
        let mlp = Sequential([Dense(16, activation: .relu, inputShape: [8]), Dropout(0.3), Dense(4, activation: .softmax)])
        _ = try roundTrip(mlp, Tensor.randn([5, 8]))
        let cnn = Sequential()
        cnn.add(Input(shape: [8, 8, 2]))
        cnn.add(Conv2D(4, kernelSize: 3, padding: .same, activation: .relu))
        cnn.add(BatchNormalization())
        cnn.add(MaxPooling2D(poolSize: 2))
        cnn.add(Conv2D(3, kernelSize: [2, 2], strides: 2, useBias: false))
        cnn.add(Flatten())
        cnn.add(Dense(2))
        // Train a step so BatchNormalization's moving statistics differ from their initial values.
        cnn.compile(optimizer: "adam", loss: "mse")
        cnn.trainOnBatch(x: Tensor.randn([6, 8, 8, 2]), y: Tensor.randn([6, 2]))
        let loaded = try roundTrip(cnn, Tensor.randn([3, 8, 8, 2]))
        let conv = loaded.getLayer(index: 0) as! Conv2D
        #expect(conv.padding == .same && conv.kernelSize == [3, 3])
        #expect((loaded.getLayer(index: 3) as! Conv2D).bias == nil)
    }

    /// `loadModel` replaces every weight, so it builds the layers without drawing random numbers: the default
    /// generator's next draw after a load is the same as without the load.
    @Test(.seeded(23)) func loadingDrawsNoRandomNumbers() throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Sequential([Dense(64, activation: .relu, inputShape: [32]), Dense(10)]).save(path)
        manualSeed(7)
        let loaded = try loadModel(path)
        let afterLoad = Tensor.randn([4])
        manualSeed(7)
        #expect(afterLoad.toFloatArray() == Tensor.randn([4]).toFloatArray(), "loadModel drew from the default generator")
        #expect(loaded.countParams() == 32 * 64 + 64 + 64 * 10 + 10)
        #expect(loaded.predict(Tensor.ones([1, 32])).abs().sum().item() > 0, "the loaded weights are not the zeros it was built with")
    }

    @Test(.seeded(22)) func functionalModelWithBranchesAndNestedModelRoundTrip() throws {
        let a = Input(shape: [6])
        let inner = Model(inputs: a, outputs: Dense(5, activation: .tanh)(a))
        let x1 = Input(shape: [6]), x2 = Input(shape: [6])
        let shared = Dense(4, activation: .relu)
        let h = Concatenate()([shared(x1), shared(x2), inner(x2)])
        let y = Add()([Dense(3)(h), Dense(3)(Multiply()([inner(x1), inner(x2)]))])
        let model = Model(inputs: [x1, x2], outputs: [y, Activation(.sigmoid)(y)])
        let feeds = [Tensor.randn([4, 6]), Tensor.randn([4, 6])]
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let before = model.predict(x: feeds)
        try model.save(path)
        let loaded = try loadModel(path)
        let after = loaded.predict(x: feeds)
        #expect(after.count == 2)
        for (p, q) in zip(before, after) { #expect(allClose(p, q, rtol: 0, atol: 0).ok) }
        #expect(loaded.countParams() == model.countParams())
        // The architecture alone: same structure, fresh weights.
        let json = try model.toJSON()
        #expect(json.contains("\"class_name\":\"Concatenate\"") && json.contains("\"units\":4"))
        let fresh = try modelFromJSON(json)
        #expect(fresh.countParams() == model.countParams() && fresh.predict(x: feeds)[0].shape == [4, 3])
    }

    @Test func customLayersNeedRegistration() throws {
        let x = Input(shape: [3])
        let model = Model(inputs: x, outputs: Dense(2)(ScaleBy(2.5, name: "scale_by_test")(x)))
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(path)
        #expect {
            _ = try loadModel(path)
        } throws: { e in "\(e)".contains("unknown layer type \"ScaleBy\"") && "\(e)".contains("LayerRegistry.register") }
        LayerRegistry.register("ScaleBy") { c in ScaleBy(try c.double("factor"), name: c.name) }
        let loaded = try loadModel(path)
        let input = Tensor.randn([2, 3])
        #expect(allClose(loaded.predict(input), model.predict(input), rtol: 0, atol: 0).ok)
        #expect((loaded.getLayer("scale_by_test") as! ScaleBy).factor == 2.5)
    }

    @Test func clearErrors() throws {
        // Lambda layers cannot be saved.
        let x = Input(shape: [3])
        let lam = Model(inputs: x, outputs: Lambda { $0 * 2 }(x))
        #expect { try lam.save(Self.temporaryFile()) } throws: { e in
            "\(e)".contains("Lambda layers wrap a Swift closure and cannot be serialised")
        }
        // Bad JSON, unknown format, bad config values.
        #expect { _ = try modelFromJSON("{") } throws: { e in "\(e)".contains("bad model JSON") }
        #expect { _ = try modelFromJSON(#"{"format": "other", "version": 1, "model": {"class_name": "Sequential", "name": "m", "inputs": [], "layers": [], "nodes": [], "outputs": []}}"#) }
            throws: { e in "\(e)".contains("expected \"nabla-keras-model\"") }
        let model = Sequential([Dense(4, inputShape: [3]), Dense(2)])
        let json = try model.toJSON()
        #expect { _ = try modelFromJSON(json.replacing("\"units\":4", with: "\"units\":\"four\"")) }
            throws: { e in "\(e)".contains("config key \"units\" must be an integer") }
        #expect { _ = try modelFromJSON(json.replacing("\"activation\":\"linear\"", with: "\"activation\":\"swoosh\"")) }
            throws: { e in "\(e)".contains("unknown activation \"swoosh\"") }
        // Missing weights.
        let path = Self.temporaryFile(), weightsOnly = Self.temporaryFile()
        defer { for p in [path, weightsOnly] { try? FileManager.default.removeItem(atPath: p) } }
        try model.save(path)
        let (state, metadata) = try loadSafetensorsWithMetadata(from: path)
        let firstBias = model.layers[0].name + ".bias"
        try saveSafetensors(StateDict(state.filter { $0.0 != firstBias }), to: path, metadata: metadata)
        #expect { _ = try loadModel(path) } throws: { e in "\(e)".contains("lacks weight \(firstBias)") }
        // A weights-only file.
        try model.saveWeights(weightsOnly)
        #expect { _ = try loadModel(weightsOnly) } throws: { e in "\(e)".contains("holds no model architecture") }
    }
}
