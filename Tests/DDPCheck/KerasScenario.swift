// The `keras` scenario: `Model.fit` under `mpirun -np 2` (data-parallel, Horovod's way) against one process with the
// global batch. Kept apart from main.swift because NablaKeras and NablaNN both name a `Sequential`.
import Foundation
import NablaDistributed
import NablaKeras

/// A small channels-last CNN (Conv2D 8 → max pool → Dense 10) in float64, its weights drawn from `seed`.
func kerasCNN(seed: UInt64) -> Sequential {
    manualSeed(seed)
    let model = Sequential()
    model.add(Conv2D(8, kernelSize: 3, padding: .same, activation: .relu))
    model.add(MaxPooling2D(poolSize: 2))
    model.add(Flatten())
    model.add(Dense(10))
    model.build(inputShape: [12, 12, 1], dtype: .float64)   // a float64 input placeholder
    model.double()
    model.compile(optimizer: .adam(lr: 1e-3), loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
    return model
}

/// Rank `rank`'s check: 2 ranks × batch 64 must give the weights of 1 process × batch 128 after 22 Adam steps (1300
/// samples: 10 full global batches and one of 20 rows per epoch, 2 epochs, shuffled), with equal epoch logs; only rank 0
/// prints the progress and runs `CSVLogger`; replicas end bit-identical.
func kerasScenario(group: ProcessGroup, say: (String) -> Void, expect: (Bool, @autoclosure () -> String) -> Void) throws {
    let data = Generator(seed: 42)
    let n = 1300
    let x = Tensor.randn([n, 12, 12, 1], dtype: .float64, generator: data)
    let y = Tensor.randint(0, 10, [n], generator: data)
    let csv = NSTemporaryDirectory() + "nabla-keras-ddp-\(ProcessInfo.processInfo.processIdentifier).csv"
    defer { try? FileManager.default.removeItem(atPath: csv) }

    // Data-parallel: batchSize is per process.
    let parallel = kerasCNN(seed: UInt64(7 + group.rank))   // different draws per rank: rank 0's are broadcast
    manualSeed(100)
    let h = parallel.fit(x: x, y: y, epochs: 2, batchSize: 64, callbacks: [CSVLogger(csv)], verbose: 2)
    expect(FileManager.default.fileExists(atPath: csv) == (group.rank == 0), "keras: CSVLogger ran on rank \(group.rank)")

    // One process with the global batch, from rank 0's initial weights and the same shuffles.
    let single = kerasCNN(seed: 7)
    single.dataParallel = false
    manualSeed(100)
    let h1 = single.fit(x: x, y: y, epochs: 2, batchSize: 128, verbose: 0)

    var worst = 0.0
    for (a, b) in zip(parallel.getWeights(), single.getWeights()) {
        for (u, v) in zip(a.toDoubleArray(), b.toDoubleArray()) { worst = max(worst, abs(u - v) / max(1e-12, abs(v))) }
    }
    expect(worst <= 1e-9, "keras: 2 × 64 differs from 1 × 128 by \(worst) (relative)")
    for key in ["loss", "accuracy"] {
        for (a, b) in zip(h[key], h1[key]) { expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "keras: epoch \(key) \(a) vs one process \(b)") }
    }
    expect(h["loss"].count == 2, "keras: \(h["loss"].count) epochs in the history")
    var hash: UInt64 = 0xcbf29ce484222325
    for w in parallel.getWeights() { for v in w.toDoubleArray() { hash = (hash ^ v.bitPattern) &* 0x100000001b3 } }
    say(String(format: "keras steps 22, worst relative difference %.2e, parameter hash %016llx", worst, hash))
}
