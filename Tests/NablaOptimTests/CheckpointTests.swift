import Foundation
import Testing
import NablaOptim
import NablaData
import NablaTestSupport

private func scratch(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-checkpoint-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

private func bits(_ m: Module) -> [String: [UInt32]] {
    var out: [String: [UInt32]] = [:]
    for (k, t) in m.stateDict() where t.dtype == .float32 { out[k] = t.toFloatArray().map(\.bitPattern) }
    return out
}

/// An MLP with Dropout driven by its own generator.
private func makeModel(dropoutSeed: UInt64) -> (Sequential, Generator) {
    let g = Generator(seed: dropoutSeed)
    return (Sequential(Linear(6, 16), ReLU(), Dropout(p: 0.3, generator: g), Linear(16, 3)), g)
}

private func trainEpoch(_ model: Module, _ opt: Optimizer, _ loader: DataLoader<TensorDataset<(Tensor, Tensor)>, (Tensor, Tensor)>) {
    model.train()
    for (x, y) in loader {
        opt.zeroGrad()
        let loss = crossEntropy(model(x), y)
        loss.backward()
        opt.step()
    }
}

@Suite struct CheckpointTests {
    @Test func savesAndRestoresNamedParts() throws {
        let model = Linear(3, 2)
        let gen = Generator(seed: 11)
        _ = Tensor.randn([5], generator: gen)
        let path = scratch("ckpt.safetensors")
        try Checkpoint(["model": model, "rng": gen], epoch: 4, step: 120).save(to: path)

        // One safetensors file with prefixed names, readable as such.
        let raw = try loadSafetensors(from: path)
        #expect(Set(raw.keys) == ["model.weight", "model.bias", "rng.seed", "rng.counter", "epoch", "step"])

        let fresh = Linear(3, 2), freshGen = Generator(seed: 0)
        let ckpt = try Checkpoint.load(from: path)
        #expect(ckpt.epoch == 4 && ckpt.step == 120)
        #expect(ckpt.partNames == ["model", "rng"])
        #expect(ckpt[part: "model"]?.keys == ["bias", "weight"])
        try ckpt.restore(into: ["model": fresh, "rng": freshGen])
        #expect(fresh.weight.toFloatArray() == model.weight.toFloatArray())
        #expect(Tensor.randn([4], generator: freshGen).toFloatArray() == Tensor.randn([4], generator: gen).toFloatArray())
    }

    @Test func errorsNameThePart() throws {
        let path = scratch("c.safetensors")
        try Checkpoint(["model": Linear(3, 2)]).save(to: path)
        let ckpt = try Checkpoint.load(from: path)
        #expect(throws: StateDictError.self) { try ckpt.restore(into: ["optimizer": Linear(3, 2)]) }
        do {
            try ckpt.restore(into: ["model": Linear(4, 2)])
            Issue.record("shape mismatch must throw")
        } catch let e as StateDictError {
            #expect(e.message.contains("part 'model'") && e.message.contains("weight"))
        }
        let plain = scratch("plain.safetensors")
        try saveSafetensors(["w": Tensor([1.0])], to: plain)
        #expect(throws: StateDictError.self) { try Checkpoint.load(from: plain) }
        #expect(throws: SerializationError.self) { try Checkpoint.load(from: scratch("missing.safetensors")) }
    }

    @Test func generatorStateIsExact() throws {
        let g = Generator(seed: UInt64.max - 3)
        _ = Tensor.rand([7], generator: g)
        let sd = g.stateDict()
        #expect(sd["seed"]!.dtype == .int64)
        let h = Generator()
        try h.loadStateDict(sd)
        #expect(h.stateValue == g.stateValue)
        #expect(throws: StateDictError.self) { try h.loadStateDict(["seed": Tensor(1)]) }
    }

    /// Training 2 epochs straight equals 1 epoch + checkpoint + restore into FRESH objects + 1 epoch, bit for bit
    /// (Adam state, shuffling with 2 workers, Dropout masks from their generator).
    @Test func resumeIsBitIdentical() throws {
        let data = Generator(seed: 3)
        let x = Tensor.randn([40, 6], generator: data), y = Tensor.randint(0, 3, [40], generator: data)
        func loader(seed: UInt64) -> DataLoader<TensorDataset<(Tensor, Tensor)>, (Tensor, Tensor)> {
            DataLoader(TensorDataset(x, y), batchSize: 8, shuffle: true, numWorkers: 2, generator: Generator(seed: seed))
        }
        let initPath = scratch("init.safetensors")

        // Straight run.
        let (m1, _) = makeModel(dropoutSeed: 5)
        try saveSafetensors(m1.stateDict(), to: initPath)
        let o1 = Adam(m1.parameters(), lr: 0.01)
        let l1 = loader(seed: 9)
        trainEpoch(m1, o1, l1)
        trainEpoch(m1, o1, l1)

        // Interrupted run: same start, one epoch, checkpoint.
        let (m2, g2) = makeModel(dropoutSeed: 5)
        try m2.loadStateDict(try loadSafetensors(from: initPath))
        let o2 = Adam(m2.parameters(), lr: 0.01)
        let l2 = loader(seed: 9)
        trainEpoch(m2, o2, l2)
        let ckptPath = scratch("resume.safetensors")
        try Checkpoint(["model": m2, "optimizer": o2, "loader": l2, "dropout": g2], epoch: 1, step: 5).save(to: ckptPath)

        // Fresh objects (different init, seeds), restored, one more epoch.
        let (m3, g3) = makeModel(dropoutSeed: 99)
        let o3 = Adam(m3.parameters(), lr: 0.01)
        let l3 = loader(seed: 1234)
        let ckpt = try Checkpoint.load(from: ckptPath)
        try ckpt.restore(into: ["model": m3, "optimizer": o3, "loader": l3, "dropout": g3])
        #expect(ckpt.epoch == 1)
        trainEpoch(m3, o3, l3)

        let a = bits(m1), b = bits(m3)
        #expect(a.keys.sorted() == ["0.bias", "0.weight", "3.bias", "3.weight"])
        #expect(a == b)

        // Control: the same resume without restoring the Dropout generator diverges, so the test can fail.
        let (m4, _) = makeModel(dropoutSeed: 99)
        let o4 = Adam(m4.parameters(), lr: 0.01)
        let l4 = loader(seed: 1234)
        try ckpt.restore(into: ["model": m4, "optimizer": o4, "loader": l4])
        trainEpoch(m4, o4, l4)
        #expect(bits(m4) != a)
    }
}
