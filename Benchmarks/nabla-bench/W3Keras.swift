// W3-keras: W3's MLP built with NablaKeras and trained by `fit` (shuffled, batch 128, Adam 1e-3,
// sparse categorical cross-entropy from logits, no metrics, verbose 0), one `fit` call per epoch so
// each epoch is timed alone. Interleaved with each `fit` epoch, a twin model (same layers, same seed)
// is trained for one epoch by a hand-written loop over the same NablaKeras layers, so
// `fit_over_hand_loop` is what `fit` itself adds (W3's NablaNN loop uses other layer code: `Linear`).
import Foundation
import NablaKeras
import NablaOptim

func makeW3KerasModel() -> NablaKeras.Sequential {
    manualSeed(0)
    return NablaKeras.Sequential([NablaKeras.Dense(512, activation: .relu, inputShape: [784]), NablaKeras.Dense(256, activation: .relu),
                                  NablaKeras.Dense(10)])
}

/// Test accuracy of a Keras model in batches of 1000.
func w3KerasAccuracy(_ model: NablaKeras.Model, _ x: Tensor, _ y: Tensor) -> Double {
    var correct = 0.0
    for i in stride(from: 0, to: x.shape[0], by: 1000) {
        let len = min(1000, x.shape[0] - i)
        let pred = model.predict(x.narrow(0, start: i, length: len), batchSize: 1000).argmax(dim: 1)
        correct += pred.eq(y.narrow(0, start: i, length: len)).to(.float64).sum().item()
    }
    return correct / Double(x.shape[0])
}

/// Trains W3 through `Model.fit` and returns its result line (impl `nabla-keras`).
func runW3Keras() -> [String: Any] {
    let (x, y, xTest, yTest) = loadW3Data()
    let model = makeW3KerasModel()
    model.compile(optimizer: .adam(lr: 1e-3), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    let twin = makeW3KerasModel()
    let twinOpt = Adam(twin.trainableWeights, lr: 1e-3, eps: 1e-7)
    let n = x.shape[0], batch = 128
    var epochs: [[String: Any]] = []
    var handSecs: [Double] = []
    for ep in 1...max(1, w3Epochs) {
        let t0 = now()
        let h = model.fit(x: x, y: y, epochs: ep, batchSize: batch, shuffle: true, verbose: 0, initialEpoch: ep - 1)
        let dt = now() - t0
        // The same epoch by hand on the twin.
        let t1 = now()
        twin.train()
        let perm = Tensor.randperm(n)
        for i in stride(from: 0, to: n, by: batch) {
            let idx = perm.narrow(0, start: i, length: min(batch, n - i))
            let loss = crossEntropy(twin(x.indexSelect(dim: 0, index: idx)), y.indexSelect(dim: 0, index: idx))
            twinOpt.zeroGrad()
            loss.backward()
            twinOpt.step()
        }
        twin.eval()
        let dtHand = now() - t1
        handSecs.append(dtHand)
        let acc = w3KerasAccuracy(model, xTest, yTest)
        let loss = h["loss"].last ?? .nan
        FileHandle.standardError.write(Data(String(format: "# W3-keras epoch %d: fit %.2fs  %.0f samples/s  test_acc=%.4f  loss=%.4f | same layers by hand %.2fs\n",
                                                   ep, dt, Double(n) / dt, acc, loss, dtHand).utf8))
        epochs.append(["epoch": ep, "seconds": dt, "samples_per_s": Double(n) / dt, "test_acc": acc, "epoch_loss": loss,
                       "hand_loop_seconds": dtHand])
    }
    var r = w3Result(impl: "nabla-keras", desc: "W3's MLP via NablaKeras fit (Dense: glorot init, addmm), \(epochs.count) epochs",
                     epochs: epochs, n: n)
    let fitMedian = r["seconds_per_epoch_median"] as? Double ?? 0
    r["hand_loop_same_layers_seconds_per_epoch_median"] = median(handSecs)
    r["fit_over_hand_loop"] = fitMedian / median(handSecs)
    return r
}
