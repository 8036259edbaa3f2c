import Testing
import Foundation
import NablaKeras
import NablaTestSupport

/// Estimator-style `fit(..., modelDir:)`: checkpoints, logs and warm start.
@Suite(.serialized) struct ModelDirTests {
    static func makeModel() -> Model {
        let m = Sequential([Dense(8, activation: .relu, inputShape: [4]), Dense(3)])
        m.compile(optimizer: "adam", loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        return m
    }

    @Test(.seeded(31)) func resumeGivesTheSameWeightsAsOneRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-modeldir-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = Tensor.randn([40, 4]), y = Tensor.randint(0, 3, [40])
        // Same initial weights by copy (other suites may draw from the global generator concurrently).
        let straight = Self.makeModel()
        let first = Self.makeModel()
        first.setWeights(straight.getWeights())
        straight.fit(x: x, y: y, epochs: 2, batchSize: 8, shuffle: false, verbose: 0)

        let h1 = first.fit(x: x, y: y, epochs: 1, batchSize: 8, shuffle: false, verbose: 0, modelDir: dir)
        #expect(h1.epoch == [0])
        let md = ModelDir(dir)
        #expect(md.checkpoints().map(\.epoch) == [1])
        let second = Self.makeModel()   // another initialisation: the checkpoint must overwrite it
        let h2 = second.fit(x: x, y: y, epochs: 2, batchSize: 8, shuffle: false, verbose: 0, modelDir: dir)
        #expect(h2.epoch == [1])
        #expect(md.checkpoints().map(\.epoch) == [1, 2])
        for (a, b) in zip(straight.getWeights(), second.getWeights()) { #expect(allClose(a, b, rtol: 0, atol: 0).ok) }
        // Logs were written for both runs.
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: md.logsDir + "/train")) ?? []
        #expect(logs.filter { $0.hasPrefix("events.out.tfevents.") }.count == 2)
        // Nothing left to do: a third fit to epoch 2 trains no epoch.
        let third = Self.makeModel()
        #expect(third.fit(x: x, y: y, epochs: 2, batchSize: 8, shuffle: false, verbose: 0, modelDir: dir).epoch.isEmpty)
        for (a, b) in zip(straight.getWeights(), third.getWeights()) { #expect(allClose(a, b, rtol: 0, atol: 0).ok) }
    }

    @Test func keepsTheNewestCheckpoints() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-modeldir-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = Self.makeModel()
        m.fit(x: Tensor.randn([8, 4]), y: Tensor.randint(0, 3, [8]), epochs: 7, batchSize: 4, verbose: 0, modelDir: dir)
        #expect(ModelDir(dir).checkpoints().map(\.epoch) == [3, 4, 5, 6, 7])
    }
}
