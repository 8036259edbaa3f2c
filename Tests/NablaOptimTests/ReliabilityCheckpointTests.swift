import Foundation
import Testing
import NablaOptim
import NablaData
import NablaTestSupport

/// The malformed checkpoints a fuzzer found (`Tests/Fixtures/reliability/checkpoint`): loading and restoring them
/// into a small MLP, its Adam, a generator and a data loader throws, never traps, and accepts no NaN.
@Suite struct ReliabilityCheckpointTests {
    static let files = reliabilityFixtures(in: "checkpoint", suffix: ".safetensors")

    /// Loads `path` and restores the model, its Adam and the generator, or the data loader of a loader checkpoint
    /// (`strict: false`).
    static func restore(_ path: String) throws -> (Sequential, Adam) {
        let model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
        let adam = Adam(model.parameters(), lr: 1e-3)
        let loader = DataLoader(TensorDataset(Tensor.zeros([4, 3]), Tensor.zeros([4])), batchSize: 2, shuffle: true)
        let parts: [(String, any Stateful)] = [("model", model), ("optimizer", adam), ("rng", Generator(seed: 1)), ("loader", loader)]
        let ckpt = try Checkpoint.load(from: path)
        let wanted = ckpt.partNames.contains("loader") ? ["loader"] : ["model", "optimizer", "rng"]
        try ckpt.restore(parts: parts.filter { wanted.contains($0.0) }, strict: false)
        return (model, adam)
    }

    @Test func thereAreReproducers() { #expect(Self.files.count >= 14) }

    @Test(arguments: files)
    func malformedCheckpointThrows(path: String) {
        let e = #expect(throws: (any Error).self) { _ = try Self.restore(path) }
        if let e { #expect(!"\(e)".isEmpty) }
    }

    @Test func optimizerStateErrorsNameTheKey() throws {
        let model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
        let adam = Adam(model.parameters(), lr: 1e-3)
        var state = adam.stateDict()
        state["param_groups.0.lr"] = Tensor(Double.nan, dtype: .float64)
        var e = #expect(throws: StateDictError.self) { try adam.loadStateDict(state, strict: false) }
        #expect(e?.description.contains("param_groups.0.lr must be a finite number") == true)
        state["param_groups.0.lr"] = Tensor.zeros([2], dtype: .float64)
        e = #expect(throws: StateDictError.self) { try adam.loadStateDict(state, strict: false) }
        #expect(e?.description.contains("param_groups.0.lr") == true)
        state["param_groups.0.lr"] = Tensor(0.01, dtype: .float64)
        state["param_groups.-1.lr"] = Tensor(0.01, dtype: .float64)
        e = #expect(throws: StateDictError.self) { try adam.loadStateDict(state, strict: false) }
        #expect(e?.description.contains("param_groups.-1.lr") == true)
        state["param_groups.-1.lr"] = nil
        state["state.-1.step"] = Tensor(3)
        #expect(throws: StateDictError.self) { try adam.loadStateDict(state, strict: false) }
        state["state.-1.step"] = nil
        try adam.loadStateDict(state, strict: false)
        #expect(adam.paramGroups[0]["lr"] == 0.01)
    }
}
