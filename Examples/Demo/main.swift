// nabla-demo: Nabla's core in two small programs.
//
//   (a) fit y = 0.1 x + 0.3 with autograd and hand-written gradient descent;
//   (b) train a two-layer MLP on the first 2000 Fashion-MNIST training images.
//
// Only the core library is used: tensors, ops, `backward()`, `noGrad { }` and in-place updates.
import Foundation
import Nabla

// MARK: - (a) Linear regression

print("== (a) linear regression: y = 0.1 x + 0.3 ==")
manualSeed(0)
let xData = Tensor.rand([100])
let yData = xData * 0.1 + 0.3

let w = (Tensor.rand([1]) * 2 - 1).requiresGrad_()
let b = Tensor.zeros([1], requiresGrad: true)
for step in 0...200 {
    let loss = ((w * xData + b - yData) * (w * xData + b - yData)).mean()
    loss.backward()
    noGrad {
        w.sub_(w.grad! * 0.5)
        b.sub_(b.grad! * 0.5)
    }
    w.zeroGrad()
    b.zeroGrad()
    if step % 20 == 0 {
        print(String(format: "step %3d  loss %.3e  w %.5f  b %.5f", step, loss.item(), w.item(), b.item()))
    }
}
print(String(format: "recovered w = %.4f (true 0.1), b = %.4f (true 0.3)\n", w.item(), b.item()))

// MARK: - (b) MLP on Fashion-MNIST

/// Reading the dataset failed.
enum DemoError: Error, CustomStringConvertible {
    case gzip(String)
    case badIDX(String)
    var description: String {
        switch self {
        case .gzip(let m): return "gzip: \(m)"
        case .badIDX(let m): return "IDX: \(m)"
        }
    }
}

/// The bytes of a gzip file, inflated by the system's `gzip -dc` (Foundation on Linux cannot inflate).
func gunzip(_ path: String) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["gzip", "-dc", path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw DemoError.gzip("gzip -dc \(path) exited with \(p.terminationStatus)") }
    return data
}

/// Parses an IDX file of unsigned bytes: its dims and the first `limit` items' bytes.
func readIDX(_ data: Data, limit: Int) throws -> (dims: [Int], bytes: [UInt8]) {
    let raw = [UInt8](data)
    guard raw.count >= 4, raw[0] == 0, raw[1] == 0, raw[2] == 0x08 else { throw DemoError.badIDX("not a uint8 IDX file") }
    let ndim = Int(raw[3])
    guard raw.count >= 4 + 4 * ndim else { throw DemoError.badIDX("truncated header") }
    var dims: [Int] = []
    for d in 0..<ndim {
        let o = 4 + 4 * d
        dims.append(Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3]))
    }
    let n = min(limit, dims.first ?? 0)
    let itemSize = dims.dropFirst().reduce(1, *)
    let start = 4 + 4 * ndim
    guard raw.count >= start + n * itemSize else { throw DemoError.badIDX("truncated data: \(raw.count) bytes for dims \(dims)") }
    dims[0] = n
    return (dims, Array(raw[start..<(start + n * itemSize)]))
}

print("== (b) MLP 784-128-10 (ReLU) on 2000 Fashion-MNIST images ==")
let dir = ProcessInfo.processInfo.environment["FASHION_MNIST_DIR"] ?? "/usr/share/datasets/fashion-mnist"
let n = 2000, classes = 10
let images: Tensor, labels: [Int], testImages: Tensor, testLabels: [Int]
do {
    let (dims, pixels) = try readIDX(gunzip(dir + "/train-images-idx3-ubyte.gz"), limit: n)
    let (_, labelBytes) = try readIDX(gunzip(dir + "/train-labels-idx1-ubyte.gz"), limit: n)
    images = Tensor(shape: [n, dims[1] * dims[2]], data: pixels.map { Float($0) / 255 })
    labels = labelBytes.map { Int($0) }
    let (testDims, testPixels) = try readIDX(gunzip(dir + "/t10k-images-idx3-ubyte.gz"), limit: 1000)
    let (_, testLabelBytes) = try readIDX(gunzip(dir + "/t10k-labels-idx1-ubyte.gz"), limit: 1000)
    testImages = Tensor(shape: [testDims[0], testDims[1] * testDims[2]], data: testPixels.map { Float($0) / 255 })
    testLabels = testLabelBytes.map { Int($0) }
} catch {
    print("cannot read Fashion-MNIST from \(dir): \(error) (install Debian's dataset-fashion-mnist: make deps)")
    exit(1)
}
let target = Tensor(shape: [n, 1], data: labels.map { Int64($0) })  // class indices, int64
let testTarget = Tensor(shape: [testLabels.count, 1], data: testLabels.map { Int64($0) })
print("images \(images.shape) in [\(images.toFloatArray().min()!), \(images.toFloatArray().max()!)], labels \(labels.count)")

// Parameters: leaves with requiresGrad, initialised like PyTorch's Linear (uniform ±1/sqrt(fanIn)).
manualSeed(0)
func uniformLeaf(_ shape: [Int], bound: Double) -> Tensor { ((Tensor.rand(shape) * 2 - 1) * bound).requiresGrad_() }
let hidden = 128
let w1 = uniformLeaf([784, hidden], bound: 1 / 784.0.squareRoot())
let b1 = uniformLeaf([hidden], bound: 1 / 784.0.squareRoot())
let w2 = uniformLeaf([hidden, classes], bound: 1 / Double(hidden).squareRoot())
let b2 = uniformLeaf([classes], bound: 1 / Double(hidden).squareRoot())
let params = [w1, b1, w2, b2]

/// Logits of the MLP for a batch `x` of shape [B, 784].
func model(_ x: Tensor) -> Tensor { matmul(relu(matmul(x, w1) + b1), w2) + b2 }

/// Mean cross-entropy of `logits` [B, 10] against class indices `target` [B, 1]: -mean(logSoftmax(z)[label]).
func crossEntropy(_ logits: Tensor, _ target: Tensor) -> Tensor {
    -gather(logSoftmax(logits, dim: 1), dim: 1, index: target).mean()
}

/// The fraction of rows of `logits` whose largest entry is at the label.
func accuracy(_ logits: Tensor, _ target: Tensor) -> Double {
    logits.argmax(dim: 1, keepDim: true).eq(target).to(.float32).mean().item()
}

// Mini-batch SGD with momentum, written by hand; the batches are reshuffled every epoch.
let batch = 100, epochs = 30, lr = 0.05, momentum = 0.9
let velocity = params.map { Tensor.zerosLike($0) }
let t0 = Date()
for epoch in 1...epochs {
    var total = 0.0
    let order = Tensor.randperm(n)
    for start in stride(from: 0, to: n, by: batch) {
        let idx = order.narrow(0, start: start, length: batch)
        let x = indexSelect(images, dim: 0, index: idx)
        let y = indexSelect(target, dim: 0, index: idx)
        let loss = crossEntropy(model(x), y)
        loss.backward()
        noGrad {
            for (p, v) in zip(params, velocity) {
                v.mul_(momentum).add_(p.grad!)
                p.sub_(v * lr)
            }
        }
        for p in params { p.zeroGrad() }
        total += loss.item()
    }
    if epoch == 1 || epoch % 5 == 0 {
        let acc = noGrad { accuracy(model(images), target) }
        print(String(format: "epoch %2d  loss %.4f  train accuracy %.1f%%", epoch, total / Double(n / batch), acc * 100))
    }
}
let finalAcc = noGrad { accuracy(model(images), target) }
let testAcc = noGrad { accuracy(model(testImages), testTarget) }
print(String(format: "trained in %.1f s; training accuracy %.1f%% on %d images; accuracy %.1f%% on %d held-out test images",
             Date().timeIntervalSince(t0), finalAcc * 100, n, testAcc * 100, testLabels.count))
