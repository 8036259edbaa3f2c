import NablaOptim
import NablaTestSupport
import Testing

/// The machinery that Keras' `fit` and `nabla train` share: the optimizer factory, the progress bar and the loop.
@Suite struct TrainingLoopTests {
    @Test func factoryMakesEveryNameWithPyTorchDefaults() throws {
        let w = Tensor.zeros([2], requiresGrad: true)
        for name in OptimizerFactory.names {
            let opt = try #require(OptimizerFactory.make(name.uppercased(), [w]))
            #expect(opt.name == OptimizerFactory.typeName(name))
        }
        #expect(OptimizerFactory.make("adamax", [w]) == nil)
        #expect(OptimizerFactory.make("adam", [w])?.paramGroups[0]["lr"] == 1e-3)
        #expect(OptimizerFactory.make("rmsprop", [w])?.paramGroups[0]["lr"] == 1e-2)
        #expect(OptimizerFactory.make("adamw", [w])?.paramGroups[0]["weight_decay"] == 1e-2)
        #expect(OptimizerFactory.make("sgd", [w], OptimizerOptions(lr: 0.5, momentum: 0.9))?.paramGroups[0]["momentum"] == 0.9)
    }

    @Test func progressBarWritesOneLinePerEpochOffATerminal() {
        var out = ""
        var bar = ProgressBar(epochs: 2, steps: 3, isTTY: false, emit: { out += $0 })
        bar.begin(epoch: 1)
        bar.update(step: 1) { [("loss", 1)] }
        bar.end(epoch: 1, [("loss", 0.5)])
        #expect(out.hasPrefix("Epoch 1/2 - 3 steps - ") && out.hasSuffix(" - loss: 0.5000\n"))
        var silent = ""
        var quiet = ProgressBar(epochs: 1, verbose: 0, isTTY: true, emit: { silent += $0 })
        quiet.begin(epoch: 1, steps: 1)
        quiet.update(step: 1) { [] }
        quiet.end(epoch: 1, [])
        #expect(silent.isEmpty)
    }

    @Test func loopTrainsAndCountsStepsSamplesAndLoss() {
        let w = Tensor.zeros([1], requiresGrad: true)
        let opt = OptimizerFactory.make("sgd", [w], OptimizerOptions(lr: 0.1))!
        let batches = [Tensor([1.0, 1]), Tensor([1.0])]
        var out = ""
        var loop = TrainingLoop(progress: ProgressBar(epochs: 1, isTTY: false, emit: { out += $0 }), globalStep: 5)
        var seenBatches: [Int] = []
        let summary = loop.runEpoch(1, batches: batches, steps: 2, afterBatch: { k, _ in seenBatches.append(k) }) { y in
            let loss = ((w - y) * (w - y)).mean()
            let l = loss.item()
            TrainingLoop.optimize(loss, with: opt)
            return (l, y.shape[0])
        }
        loop.endEpoch(1, summary, [("loss", summary.meanLoss)])
        #expect(summary.steps == 2 && summary.samples == 3 && loop.globalStep == 7 && seenBatches == [0, 1])
        // Losses 1 (w = 0) then (1 - 0.2)² = 0.64 (w = 0.2 after one step of lr 0.1), weighted by 2 and 1 samples.
        #expect(abs(summary.meanLoss - (2 * 1 + 0.64) / 3) < 1e-6)
        #expect(out.hasPrefix("Epoch 1/1 - 2 steps - "))
    }
}
