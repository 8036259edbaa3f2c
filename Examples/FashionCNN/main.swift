// W4 of Benchmarks/WORKLOADS.md written like the PyTorch loop:
// Conv2d(1,32,3,pad 1)→ReLU→MaxPool2d(2)→Conv2d(32,64,3,pad 1)→ReLU→MaxPool2d(2)→Flatten→Linear(3136,128)→ReLU→Linear(128,10),
// cross-entropy, Adam 1e-3, batch 128, 3 epochs.
//     swift run -c release fashion-cnn [epochs]
import Foundation
import NablaData
import NablaOptim

let epochs = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 3 : 3
manualSeed(0, engine: .mt19937)  // PyTorch's streams: torch.manual_seed(0) gives the same initial weights
do {
    let train = try FashionMNIST(train: true), test = try FashionMNIST(train: false)
    let model = Sequential(
        Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
    print(model)
    let opt = Adam(model.parameters(), lr: 1e-3)
    let generator = Generator(seed: 0, engine: .mt19937)  // and torch.Generator().manual_seed(0) the same batch order
    let batchSize = 128
    for epoch in 1...max(1, epochs) {
        model.train()
        let t0 = Date()
        var last = 0.0
        let perm = Tensor.randperm(train.count, generator: generator)
        for i in stride(from: 0, to: train.count, by: batchSize) {
            let (x, y) = train.batch(perm.narrow(0, start: i, length: min(batchSize, train.count - i)))
            let loss = crossEntropy(model(x), y)
            opt.zeroGrad()
            loss.backward()
            opt.step()
            last = loss.item()
        }
        let dt = Date().timeIntervalSince(t0)
        model.eval()
        let acc = noGrad { () -> Double in
            var correct = 0.0
            for i in stride(from: 0, to: test.count, by: 1000) {
                let n = min(1000, test.count - i)
                let pred = model(test.images.narrow(0, start: i, length: n)).argmax(dim: 1)
                correct += pred.eq(test.labels.narrow(0, start: i, length: n)).to(.float64).sum().item()
            }
            return correct / Double(test.count)
        }
        print(String(format: "epoch %d  loss %.4f  %.2fs  %.0f samples/s  test accuracy %.2f%%",
                     epoch, last, dt, Double(train.count) / dt, acc * 100))
    }
} catch {
    print("error: \(error)")
    exit(1)
}
