// W3: the MLP of WORKLOADS.md (784→512→ReLU→256→ReLU→10) on Fashion-MNIST, trained by a hand-written
// NablaNN loop like bench_torch.py's train_epochs: randperm shuffle each epoch, rows gathered with
// indexSelect, batch 128 (last partial batch kept), cross-entropy, Adam 1e-3. W3Keras.swift trains the
// same model through NablaKeras' `fit` ("W3-keras") to measure what `fit` adds.
import Foundation
import NablaData
import NablaOptim

/// Epoch count for W3 and W3-keras: `--epochs N` on the command line, else 5.
nonisolated(unsafe) var w3Epochs = 5

/// Seed of W3's, W4's and W5's initialisation and shuffling: `--seed N` on the command line, else 0 (as bench_torch.py).
nonisolated(unsafe) var benchSeed: UInt64 = 0

/// Engine of the generators of W3, W4 and W5: `--engine philox|mt19937`, else MT19937, PyTorch's streams, so
/// that seed N starts from the weights bench_torch.py's models get after `torch.manual_seed(N)` and shuffles
/// the batches in the same order: both sides then train the same recipe from the same draws. `--engine philox`
/// uses Nabla's default generator instead.
nonisolated(unsafe) var benchEngine: RandomEngine = .mt19937

/// `--trace N`: W3, W4 and W5 print the loss of their first N training steps, to set beside
/// `Scripts/bench/trace.py`'s PyTorch losses from the same draws.
nonisolated(unsafe) var traceSteps = 0

/// Prints `# W4 step 3 loss 2.2931...` while `step` (counted from 0 over the whole run) is below `--trace`.
func traceLoss(_ workload: String, _ step: Int, _ loss: Tensor) {
    if step < traceSteps { FileHandle.standardError.write(Data("# \(workload) step \(step) loss \(loss.item())\n".utf8)) }
}

/// Fashion-MNIST flattened to `[N, 784]` float32 images and `[N]` int64 labels: train, then test.
func loadW3Data() -> (xTrain: Tensor, yTrain: Tensor, xTest: Tensor, yTest: Tensor) {
    let train: FashionMNIST, test: FashionMNIST
    do { train = try FashionMNIST(train: true); test = try FashionMNIST(train: false) } catch {
        FileHandle.standardError.write(Data("nabla-bench W3: \(error)\n".utf8)); exit(1)
    }
    return (train.images.reshape([-1, 784]).contiguous(), train.labels, test.images.reshape([-1, 784]).contiguous(), test.labels)
}

/// The result line of W3 or W3-keras from per-epoch records.
func w3Result(impl: String, desc: String, epochs: [[String: Any]], n: Int) -> [String: Any] {
    let secs = epochs.compactMap { $0["seconds"] as? Double }
    return [
        "workload": "W3", "impl": impl, "desc": desc,
        "seconds_per_epoch_median": median(secs), "seconds_per_epoch_min": secs.min() ?? 0, "seconds_per_epoch_max": secs.max() ?? 0,
        "samples_per_s_median": Double(n) / median(secs), "final_test_acc": epochs.last?["test_acc"] ?? 0, "epochs": epochs,
    ]
}

/// Trains W3 with a hand-written loop and returns its result line; `compiled`: the step runs through `compile`
/// ("W3-compiled", impl `nabla-compiled`).
func runW3(compiled: Bool = false) -> [String: Any] {
    let (x, y, xTest, yTest) = loadW3Data()
    manualSeed(benchSeed, engine: benchEngine)
    let model = Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
    let opt = Adam(model.parameters(), lr: 1e-3)
    let n = x.shape[0], batch = 128
    var epochs: [[String: Any]] = []
    let shuffle = Generator(seed: benchSeed, engine: benchEngine)  // its own generator for the order, as bench_torch.py's train_epochs
    let body = crossEntropyStep(model, opt)
    let step = compile(name: "W3", body)
    for ep in 1...max(1, w3Epochs) {
        model.train()
        let t0 = now()
        let perm = Tensor.randperm(n, generator: shuffle)
        var steps = 0, lastLoss = 0.0
        for i in stride(from: 0, to: n, by: batch) {
            let idx = perm.narrow(0, start: i, length: min(batch, n - i))
            let xb = x.indexSelect(dim: 0, index: idx), yb = y.indexSelect(dim: 0, index: idx)
            let loss = compiled ? step(xb, yb) : body(xb, yb)
            traceLoss("W3", (ep - 1) * (n + batch - 1) / batch + steps, loss)
            steps += 1
            if steps % 50 == 0 { lastLoss = loss.item() }
        }
        let dt = now() - t0
        let acc = testAccuracy(model, xTest, yTest)
        FileHandle.standardError.write(Data(String(format: "# W3 epoch %d: %.2fs  %.0f samples/s  test_acc=%.4f  loss=%.4f\n",
                                                   ep, dt, Double(n) / dt, acc, lastLoss).utf8))
        epochs.append(["epoch": ep, "seconds": dt, "samples_per_s": Double(n) / dt, "test_acc": acc,
                       "last_logged_loss": lastLoss, "steps": steps])
    }
    if compiled { FileHandle.standardError.write(Data("# W3 \(step.explain())\n".utf8)) }
    return w3Result(impl: compiled ? "nabla-compiled" : "nabla", desc: "MLP 784-512-256-10 ReLU, CE, Adam 1e-3, batch 128, \(epochs.count) epochs, hand-written loop\(compiled ? " through compile" : ""), seed \(benchSeed) (\(benchEngine))",
                    epochs: epochs, n: n)
}
