import Foundation
import NablaCLI
import NablaTestSupport
import Testing

/// A small MLP config on the first 300 Fashion-MNIST images (and 300 test images), with a validation split.
private func tinyConfig(output: String, epochs: Int = 2) throws -> TrainConfig {
    try TrainConfig(text: """
    name: tiny
    seed: 3
    data: {dataset: fashion-mnist, limit: 300, validation_split: 0.2, normalize: {mean: 0.286, std: 0.353}}
    model:
      input: [784]
      layers: [{linear: 32}, relu, {linear: 10}]
    solver: {optimizer: sgd, lr: 0.05, momentum: 0.9, epochs: \(epochs), batch_size: 32, lr_policy: {type: step, step_size: 1, gamma: 0.5}}
    output: \(output)
    """, path: "tiny.yaml")
}

private func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "nabla-cli-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite(.serialized) struct TrainerTests {
    @Test func trainsWritesLogsAndCheckpointsAndResumes() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var lines = ""
        // One epoch, then resume to two.
        let first = try Trainer(config: tinyConfig(output: dir + "/a"), epochs: 1, isTTY: false, log: { lines += $0 })
        let initial = StateDict(first.model.module.stateDict().map { ($0.0, $0.1.clone()) })
        let r1 = try first.run()
        #expect(r1.history.count == 1 && r1.startEpoch == 0)
        #expect(first.data.trainLabels.shape == [240] && first.data.valLabels?.shape == [60] && first.data.testLabels.shape == [300])
        let m = try #require(r1.history.first)
        #expect(m.trainLoss.isFinite && m.validation != nil && m.lr == 0.05)
        #expect(m.test.accuracy > 0.3)   // well above chance (0.1) after one epoch on 240 images
        #expect(lines.hasPrefix("Epoch 1/1 - 8 steps - "))
        #expect(lines.contains(" - val_accuracy: ") && lines.contains(" - test_accuracy: "))

        let fm = FileManager.default
        #expect(r1.checkpoint == dir + "/a/checkpoints/epoch-0001.safetensors")
        #expect(fm.fileExists(atPath: r1.checkpoint!) && fm.fileExists(atPath: r1.modelPath))
        let logs = try fm.contentsOfDirectory(atPath: r1.logDir)
        #expect(logs.contains { $0.hasPrefix("events.out.tfevents.") })

        lines = ""
        let second = try Trainer(config: tinyConfig(output: dir + "/a"), isTTY: false, log: { lines += $0 })
        let r2 = try second.run(resume: true)
        #expect(r2.startEpoch == 1 && r2.history.map(\.epoch) == [2])
        #expect(r2.history[0].lr == 0.025)   // the step policy was restored too
        #expect(lines.hasPrefix("Resuming from \(dir)/a/checkpoints/epoch-0001.safetensors (epoch 1, step 8)"))
        #expect(fm.fileExists(atPath: dir + "/a/checkpoints/epoch-0002.safetensors"))

        // Two epochs straight from the same initial weights give the same weights as 1 + resumed 1.
        let straight = try Trainer(config: tinyConfig(output: dir + "/b"), isTTY: false, log: { _ in })
        try straight.model.module.loadStateDict(initial, strict: true)
        let r3 = try straight.run()
        #expect(r3.history.map(\.epoch) == [1, 2])
        let resumed = try loadSafetensors(from: r2.modelPath), direct = try loadSafetensors(from: r3.modelPath)
        for (name, t) in direct { #expect(allClose(resumed[name]!, t, rtol: 0, atol: 0).ok, "\(name)") }

        // eval / predict entry points on the saved weights.
        let fresh = try BuiltModel(second.config.model)
        try loadWeights(into: fresh.module, from: r2.modelPath)
        let viaWeights = Trainer.evaluate(fresh.module, data: second.data, loss: "cross_entropy",
                                          images: second.data.testImages, labels: second.data.testLabels)
        #expect(abs(viaWeights.accuracy - r2.history[0].test.accuracy) < 1e-12)
        let fromCheckpoint = try BuiltModel(second.config.model)
        try loadWeights(into: fromCheckpoint.module, from: r2.checkpoint!)
        let (outputs, classes) = try predict(model: fromCheckpoint, data: second.data, input: second.data.testImages.narrow(0, start: 0, length: 5))
        #expect(outputs.shape == [5, 10] && classes.shape == [5])
    }

    @Test func modelOutputMustMatchTheClasses() throws {
        let config = try TrainConfig(text: """
        data: {dataset: fashion-mnist, limit: 10}
        model: {input: [784], layers: [{linear: 7}]}
        solver: {epochs: 1}
        """, path: "t.yaml")
        #expect(throws: ConfigError.self) { try Trainer(config: config, output: temporaryDirectory()) }
        let badInput = try TrainConfig(text: """
        data: {dataset: fashion-mnist, limit: 10}
        model: {input: [700], layers: [{linear: 10}]}
        solver: {epochs: 1}
        """, path: "t.yaml")
        do {
            _ = try Trainer(config: badInput, output: temporaryDirectory())
            Issue.record("expected a ConfigError")
        } catch let e as ConfigError {
            #expect((e.line, e.field) == (2, "model.input"))
        }
    }

    @Test func progressBarOnATerminal() {
        var out = ""
        var p = ProgressBar(epochs: 3, isTTY: true, emit: { out += $0 })
        p.begin(epoch: 1, steps: 4)
        p.update(step: 1) { [("loss", 0.5)] }
        p.end(epoch: 1, [("loss", 0.25), ("accuracy", 0.75)])
        #expect(out.hasPrefix("Epoch 1/3\n\r1/4 [=======>......................] - ETA: "))
        #expect(out.contains("\r4/4 [==============================] - ") && out.hasSuffix(" - loss: 0.2500 - accuracy: 0.7500\n"))
    }
}
