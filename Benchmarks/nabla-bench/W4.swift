// W4: the CNN of WORKLOADS.md on Fashion-MNIST, trained like bench_torch.py's train_epochs
// (randperm shuffle from a generator seeded 0 each epoch, batch 128, last partial batch kept, Adam 1e-3).
import Foundation
import NablaData
import NablaOptim

/// W4's CNN: conv32-relu-pool-conv64-relu-pool-fc128-relu-fc10.
func makeW4CNN() -> Sequential {
    Sequential(
        Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
}

/// Test accuracy in batches of 1000 under `noGrad`, in eval mode (bench_torch.py's `evaluate`).
func testAccuracy(_ model: Module, _ x: Tensor, _ y: Tensor) -> Double {
    model.eval()
    defer { model.train() }
    let n = x.shape[0]
    return noGrad { () -> Double in
        var correct = 0.0
        for i in stride(from: 0, to: n, by: 1000) {
            let len = min(1000, n - i)
            let pred = model(x.narrow(0, start: i, length: len)).argmax(dim: 1)
            correct += pred.eq(y.narrow(0, start: i, length: len)).to(.float64).sum().item()
        }
        return correct / Double(n)
    }
}

/// Epoch count for W4: `--epochs N` on the command line, else `NABLA_W4_EPOCHS`, else 3.
nonisolated(unsafe) var w4Epochs: Int = Int(ProcessInfo.processInfo.environment["NABLA_W4_EPOCHS"] ?? "") ?? 3

/// Trains W4 and returns its result line plus the trained model and test split (for W6).
func runW4(compiled: Bool = false) -> (result: [String: Any], model: Sequential, testImages: Tensor) {
    let train: FashionMNIST, test: FashionMNIST
    do { train = try FashionMNIST(train: true); test = try FashionMNIST(train: false) } catch {
        FileHandle.standardError.write(Data("nabla-bench W4: \(error)\n".utf8)); exit(1)
    }
    manualSeed(benchSeed, engine: benchEngine)
    let model = makeW4CNN()
    let opt = Adam(model.parameters(), lr: 1e-3)
    let gen = Generator(seed: benchSeed, engine: benchEngine)
    let n = train.count, batch = 128
    var epochs: [[String: Any]] = []
    let body = crossEntropyStep(model, opt)
    let step = compile(name: "W4", body)
    // Transient memory of a step: the allocator's peak over the first epoch's full batches after the 10th (the
    // compiled graph is built by then) minus what was held before training (parameters, data). The last, partial
    // batch is left out: it is a new signature, so its first call runs eagerly beside the compiled graph's arena.
    let baseline = MemoryStats.currentBytes
    var stepPeak = 0
    var stepMemory: StepMemory? = nil
    for ep in 1...max(1, w4Epochs) {
        model.train()
        let t0 = now()
        let perm = Tensor.randperm(n, generator: gen)
        var steps = 0, lastLoss = 0.0
        for i in stride(from: 0, to: n, by: batch) {
            let (xb, yb) = train.batch(perm.narrow(0, start: i, length: min(batch, n - i)))
            if ep == 1 && steps == 10 { MemoryStats.resetPeak() }
            if ep == 1 && i + batch > n { stepPeak = MemoryStats.peakBytes - baseline }
            let loss: Tensor
            if compiled && ep == 1 && steps == 10 {
                let (outs, memory) = step.profileMemory([xb, yb])
                loss = outs[0]
                stepMemory = memory
            } else {
                loss = compiled ? step(xb, yb) : body(xb, yb)
            }
            traceLoss("W4", (ep - 1) * (n + batch - 1) / batch + steps, loss)
            steps += 1
            if steps % 50 == 0 { lastLoss = loss.item() }
        }
        let dt = now() - t0
        if ep == 1 && n % batch == 0 { stepPeak = MemoryStats.peakBytes - baseline }
        let acc = testAccuracy(model, test.images, test.labels)
        FileHandle.standardError.write(Data(String(format: "# W4 epoch %d: %.2fs  %.0f samples/s  test_acc=%.4f  loss=%.4f\n",
                                                   ep, dt, Double(n) / dt, acc, lastLoss).utf8))
        epochs.append(["epoch": ep, "seconds": dt, "samples_per_s": Double(n) / dt, "test_acc": acc,
                       "last_logged_loss": lastLoss, "steps": steps])
    }
    if compiled {
        FileHandle.standardError.write(Data("# W4 \(step.explain())\n".utf8))
        if let g = step.graph { FileHandle.standardError.write(Data("# W4 compiled step: peak \(g.plan.peakBytes) bytes of planned intermediates (\(g.plan.unplannedBytes) unshared)\n".utf8)) }
        if let m = stepMemory { FileHandle.standardError.write(Data("# W4 step memory (step 11): \(m)\n".utf8)) }
    }
    let secs = epochs.compactMap { $0["seconds"] as? Double }
    var result: [String: Any] = [
        "workload": "W4", "impl": compiled ? "nabla-compiled" : "nabla",
        "desc": "CNN conv32-pool-conv64-pool-fc128-fc10, CE, Adam 1e-3, batch 128, \(epochs.count) epochs, seed \(benchSeed) (\(benchEngine))",
        "seconds_per_epoch_median": median(secs), "seconds_per_epoch_min": secs.min() ?? 0, "seconds_per_epoch_max": secs.max() ?? 0,
        "samples_per_s_median": Double(n) / median(secs), "final_test_acc": epochs.last?["test_acc"] ?? 0, "epochs": epochs,
        "step_peak_bytes": stepPeak,
    ]
    if let m = stepMemory {
        result["planned_bytes"] = m.plannedBytes
        result["unplanned_peak_bytes"] = m.unplannedPeakBytes
    }
    return (result, model, test.images)
}
