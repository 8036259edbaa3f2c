// Finetuning as the seed documents describe it: train a small CNN, save its weights, load them into a new model
// whose head is replaced (a partial, non-strict load), freeze the body, and train the new head with its own
// learning rate in a second parameter group (the body unfrozen later at a 10× smaller rate).
//     swift run -c release finetune
import Foundation
import NablaData
import NablaOptim

/// A small CNN: `features` (the body) and `classifier` (the head), named as in a PyTorch model.
final class SmallCNN: Module {
    let features = Sequential(Conv2d(1, 16, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                              Conv2d(16, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2), Flatten())
    var classifier: Linear
    init(classes: Int) { classifier = Linear(32 * 7 * 7, classes); super.init() }
    override func forward(_ x: Tensor) -> Tensor { classifier(features(x)) }
}

/// Accuracy of `model` on the first `n` test images.
func accuracy(_ model: Module, _ test: FashionMNIST, n: Int) -> Double {
    model.eval()
    return noGrad {
        let pred = model(test.images.narrow(0, start: 0, length: n)).argmax(dim: 1)
        return pred.eq(test.labels.narrow(0, start: 0, length: n)).to(.float64).mean().item()
    }
}

/// One pass over the first `n` training images.
func trainEpoch(_ model: Module, _ opt: Optimizer, _ train: FashionMNIST, n: Int, labels: (Tensor) -> Tensor) {
    model.train()
    for i in stride(from: 0, to: n, by: 64) {
        let idx = Tensor.arange(i, Swift.min(i + 64, n))
        let (x, y) = train.batch(idx)
        let loss = crossEntropy(model(x), labels(y))
        opt.zeroGrad(); loss.backward(); opt.step()
    }
}

manualSeed(0)
do {
    let train = try FashionMNIST(train: true), test = try FashionMNIST(train: false)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-finetune").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

    // 1. Pretrain on a coarse task: is the item clothing worn on top (classes 0, 2, 3, 4, 6) or not?
    let base = SmallCNN(classes: 2)
    let top = Tensor([1, 0, 1, 1, 1, 0, 1, 0, 0, 0])
    let coarse = { (y: Tensor) in top.indexSelect(dim: 0, index: y) }
    trainEpoch(base, Adam(base.parameters(), lr: 1e-3), train, n: 6000, labels: coarse)
    let weights = dir + "/pretrained.safetensors"
    try save(base.stateDict(), to: weights)
    print("pretrained on 2 classes, saved \(weights)")

    // 2. A new model with a 10-class head: drop the old head's tensors (their shapes differ, which is an error even
    //    in a non-strict load, as in PyTorch) and load the rest; the report lists what was left as initialised.
    let model = SmallCNN(classes: 10)
    let body = StateDict(try load(from: weights).filter { !$0.0.hasPrefix("classifier.") })
    let keys = try model.loadStateDictReportingKeys(body, strict: false)
    print("loaded the body; \(keys)")

    // 3. Freeze the body and train only the head.
    model.features.requiresGrad(false)
    let headOnly = Adam(model.classifier.parameters(), lr: 1e-2)
    trainEpoch(model, headOnly, train, n: 6000, labels: { $0 })
    print(String(format: "head only, body frozen: test accuracy %.1f%%", accuracy(model, test, n: 2000) * 100))

    // 4. Unfreeze and train both, the body at a 10× smaller learning rate (two parameter groups).
    model.features.requiresGrad(true)
    let opt = Adam(groups: [ParamGroup(params: model.features.parameters(), lr: 1e-4),
                            ParamGroup(params: model.classifier.parameters(), lr: 1e-3)])
    trainEpoch(model, opt, train, n: 6000, labels: { $0 })
    print(String(format: "whole model, per-group lr: test accuracy %.1f%%", accuracy(model, test, n: 2000) * 100))
} catch {
    print("error: \(error)")
    exit(1)
}
