// W5: LSTM(28→128, batch-first) over the 28 rows of each Fashion-MNIST image, last hidden → Linear(128, 10);
// cross-entropy, Adam 1e-3, batch 128, one epoch (bench_torch.py's run_w5 and train_epochs).
import Foundation
import NablaData
import NablaOptim

/// The W5 model: `_, (h, _) = lstm(x); fc(h[-1])`.
final class W5Net: Module {
    let lstm = LSTM(28, 128, batchFirst: true)
    let fc = Linear(128, 10)
    override func forward(_ x: Tensor) -> Tensor {
        let (_, (h, _)) = lstm(x, nil)
        return fc(h[h.shape[0] - 1])
    }
}

/// Samples/s over steps 10..<110 of epoch 1 and test accuracy after that epoch.
func runW5() -> [String: Any] {
    let train: FashionMNIST, test: FashionMNIST
    do { train = try FashionMNIST(train: true); test = try FashionMNIST(train: false) } catch {
        FileHandle.standardError.write(Data("nabla-bench: W5 needs Fashion-MNIST: \(error)\n".utf8))
        return ["workload": "W5", "impl": "nabla", "error": "\(error)"]
    }
    manualSeed(benchSeed, engine: benchEngine)
    let model = W5Net()
    let opt = Adam(model.parameters(), lr: 1e-3)
    let n = train.count, batch = 128
    let xtr = train.images.reshape([n, 28, 28]), ytr = train.labels
    let perm = Tensor.randperm(n, generator: Generator(seed: benchSeed, engine: benchEngine))
    var steps = 0
    var winT0 = 0.0, winT1 = 0.0
    let t0 = now()
    for i in stride(from: 0, to: n, by: batch) {
        if steps == 10 { winT0 = now() }
        let idx = perm.slice(0, start: i, end: min(i + batch, n))
        let xb = xtr.indexSelect(dim: 0, index: idx), yb = ytr.indexSelect(dim: 0, index: idx)
        let loss = crossEntropy(model(xb), yb)
        opt.zeroGrad()
        loss.backward()
        opt.step()
        traceLoss("W5", steps, loss)
        steps += 1
        if steps == 110 { _ = loss.item(); winT1 = now() }
    }
    let epochSeconds = now() - t0
    model.eval()
    let xte = test.images.reshape([test.count, 28, 28])
    var correct = 0.0
    noGrad {
        for i in stride(from: 0, to: test.count, by: 1000) {
            let end = min(i + 1000, test.count)
            let pred = model(xte.slice(0, start: i, end: end)).argmax(dim: 1)
            correct += pred.eq(test.labels.slice(0, start: i, end: end)).to(.float64).sum().item()
        }
    }
    return [
        "workload": "W5", "impl": "nabla",
        "desc": "LSTM(28,128) over 28 rows, last h -> Linear(128,10); Adam 1e-3, batch 128; samples/s over steps 10..109 of epoch 1; test acc after 1 epoch",
        "samples_per_s_100_steps": 100.0 * Double(batch) / (winT1 - winT0),
        "epoch_seconds": epochSeconds,
        "epoch_samples_per_s": Double(n) / epochSeconds,
        "test_acc_after_1_epoch": correct / Double(test.count),
    ]
}
