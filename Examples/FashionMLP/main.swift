// W3 of Benchmarks/WORKLOADS.md written like the PyTorch loop:
// MLP 784→512→ReLU→256→ReLU→10, cross-entropy, Adam 1e-3, batch 128, 5 epochs.
//     swift run -c release fashion-mlp [epochs]
import Foundation
import NablaData
import NablaOptim

let epochs = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5 : 5
manualSeed(0, engine: .mt19937)  // PyTorch's streams: torch.manual_seed(0) gives the same initial weights
do {
    let train = try FashionMNIST(train: true), test = try FashionMNIST(train: false)
    let model = Sequential(Flatten(), Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
    let opt = Adam(model.parameters(), lr: 1e-3)
    let loader = DataLoader(train, batchSize: 128, shuffle: true, generator: Generator(seed: 0, engine: .mt19937))
    for epoch in 1...epochs {
        model.train()
        let t0 = Date()
        var last = 0.0
        for (x, y) in loader {
            let loss = crossEntropy(model(x), y)
            opt.zeroGrad()
            loss.backward()
            opt.step()
            last = loss.item()
        }
        let dt = Date().timeIntervalSince(t0)
        model.eval()
        let acc = noGrad { () -> Double in
            let pred = model(test.images).argmax(dim: 1)
            return pred.eq(test.labels).to(.float64).mean().item()
        }
        print(String(format: "epoch %d  loss %.4f  %.2fs  %.0f samples/s  test accuracy %.2f%%",
                     epoch, last, dt, Double(train.count) / dt, acc * 100))
    }
} catch {
    print("error: \(error)")
    exit(1)
}
