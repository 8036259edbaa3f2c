// Fashion-MNIST trained the Keras way: a `Sequential` of layers without input sizes, `compile`, `fit` with
// validation data and a progress bar, then `evaluate` on the 10 000 test images.
//
//     swift run -c release keras-fashion            # the CNN of WORKLOADS.md W4, 3 epochs
//     swift run -c release keras-fashion mlp        # the MLP of W3, 5 epochs
//     swift run -c release keras-fashion cnn 1      # any model, any number of epochs
//     mpirun -np 2 .build/release/keras-fashion     # data-parallel: fit splits every batch of 128 × 2 over the ranks
//
// Images are channels-last ([N, 28, 28, 1]) as Keras expects; pixels in [0, 1].
import Foundation
import NablaData
import NablaDistributed
import NablaKeras

let args = CommandLine.arguments.dropFirst()
let kind = args.first ?? "cnn"
guard kind == "cnn" || kind == "mlp" else {
    FileHandle.standardError.write(Data("usage: keras-fashion [cnn|mlp] [EPOCHS]\n".utf8)); exit(2)
}
let epochs = args.dropFirst().first.flatMap { Int($0) } ?? (kind == "cnn" ? 3 : 5)

let train: FashionMNIST, test: FashionMNIST
do { train = try FashionMNIST(train: true); test = try FashionMNIST(train: false) } catch {
    FileHandle.standardError.write(Data("keras-fashion: \(error)\n".utf8)); exit(1)
}
// FashionMNIST gives [N, 1, 28, 28]; Keras' Conv2D is channels-last, and the MLP reads flat rows.
func layout(_ images: Tensor) -> Tensor {
    kind == "cnn" ? images.permute([0, 2, 3, 1]).contiguous() : images.reshape([-1, 784]).contiguous()
}
let xTrain = layout(train.images), yTrain = train.labels
let xTest = layout(test.images), yTest = test.labels

manualSeed(0)
let model = Sequential()
if kind == "cnn" {
    model.add(Conv2D(32, kernelSize: 3, padding: .same, activation: .relu, inputShape: [28, 28, 1]))
    model.add(MaxPooling2D(poolSize: 2))
    model.add(Conv2D(64, kernelSize: 3, padding: .same, activation: .relu))
    model.add(MaxPooling2D(poolSize: 2))
    model.add(Flatten())
    model.add(Dense(128, activation: .relu))
    model.add(Dense(10))
} else {
    model.add(Dense(512, activation: .relu, inputShape: [784]))
    model.add(Dense(256, activation: .relu))
    model.add(Dense(10))
}
model.compile(optimizer: .adam(lr: 1e-3), loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
// Under mpirun, fit prints on rank 0 only; the program's own prints do the same.
let rank = ProcessGroup.isLaunched() ? (try? ProcessGroup.initialize())?.rank ?? 0 : 0
let isRoot = rank == 0
if isRoot { model.summary() }

let t0 = Date()
model.fit(x: xTrain, y: yTrain, epochs: epochs, batchSize: 128, validationData: (xTest, yTest))
let seconds = Date().timeIntervalSince(t0)
let logs = model.evaluate(x: xTest, y: yTest, batchSize: 1000)
if isRoot { print(String(format: "%@ via fit: test accuracy %.2f%% after %d epochs (%.1f s of training)",
             kind.uppercased(), 100 * (logs["accuracy"] ?? 0), epochs, seconds)) }
