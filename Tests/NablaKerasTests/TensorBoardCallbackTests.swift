import Testing
import Foundation
import NablaKeras
import NablaBoard
import NablaTestSupport

/// The `TensorBoard` callback, read back with TensorBoard's own reader (`Scripts/read_tfevents.py` in `.build/venv`).
@Suite(.serialized) struct TensorBoardCallbackTests {
    static func temporaryDir(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nabla-\(tag)-\(UUID().uuidString)").path
    }

    /// `[(step, float32 bit pattern)]` of a scalar tag in a run (bits: JSON parsers may round decimals).
    static func scalars(_ run: [String: Any]?, _ tag: String) -> [(Int, UInt32)] {
        guard let s = (run?["scalars"] as? [String: Any])?[tag] as? [[Any]] else { return [] }
        return s.map { (($0[0] as? NSNumber)?.intValue ?? -1, ($0[2] as? NSNumber)?.uint32Value ?? 0) }
    }

    @Test(.seeded(11)) func scalarsHistogramsAndGraphMatchHistory() throws {
        let dir = Self.temporaryDir("tb")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = Tensor.randn([64, 4]), y = x.sum(dim: 1).gt(0).to(.int64)
        let inputs = Input(shape: [4])
        let h = Dense(8, activation: .relu, name: "hidden")(inputs)
        let model = Model(inputs: inputs, outputs: Dense(2, name: "logits")(h))
        model.compile(optimizer: "adam", loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        let tb = TensorBoard(logDir: dir, histogramFreq: 1, writeGraph: true, updateFreq: .batch)
        let history = model.fit(x: x, y: y, epochs: 3, batchSize: 16, validationSplit: 0.25, shuffle: false,
                                callbacks: [tb], verbose: 0)
        let runs = try readWithTensorBoard(dir)
        let train = runs["train"] as? [String: Any], val = runs["validation"] as? [String: Any]
        #expect(train != nil && val != nil, "runs: \(runs.keys.sorted())")
        for (tag, key, run) in [("epoch_loss", "loss", train), ("epoch_accuracy", "accuracy", train), ("epoch_lr", "lr", train),
                                ("epoch_loss", "val_loss", val), ("epoch_accuracy", "val_accuracy", val)] {
            let got = Self.scalars(run, tag)
            #expect(got.map(\.0) == [0, 1, 2], "\(tag) steps")
            #expect(got.map(\.1) == history[key].map { Float($0).bitPattern }, "\(tag) vs history[\(key)]")
        }
        // 48 training samples in batches of 16: 3 batches per epoch, global steps 0..<9.
        #expect(Self.scalars(train, "batch_loss").map(\.0) == Array(0..<9))
        let hists = train?["histograms"] as? [String: Any]
        #expect(Set(hists?.keys.map { $0 } ?? []) == ["hidden/kernel", "hidden/bias", "logits/kernel", "logits/bias"])
        let graph = (train?["graph"] as? [[String: Any]]) ?? []
        let ops = Dictionary(graph.map { ($0["name"] as? String ?? "", $0["op"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(ops["hidden"] == "Dense" && ops["logits"] == "Dense" && ops.values.contains("Placeholder"), "graph: \(graph)")
        // The op graph: each layer call a scope holding its weights and ops; the next layer's ops read the call.
        #expect(ops["hidden/kernel"] == "VariableV2" && ops["logits/bias"] == "VariableV2", "graph: \(graph)")
        #expect(ops.contains { $0.key.hasPrefix("hidden/") && $0.value == "relu" }, "graph: \(graph)")
        let logitsOps = graph.filter { ($0["name"] as? String ?? "").hasPrefix("logits/") }
        #expect(logitsOps.contains { ($0["input"] as? [String] ?? []).contains("hidden") }, "graph: \(graph)")
        let logits = graph.first { $0["name"] as? String == "logits" }
        #expect((logits?["input"] as? [String] ?? []).allSatisfy { $0.hasPrefix("logits/") }, "graph: \(graph)")
    }

    @Test func graphDescriptionExpandsNestedModels() {
        let a = Input(shape: [3])
        let inner = Model(inputs: a, outputs: Dense(2, name: "tb_inner_dense")(a), name: "tb_inner")
        let b = Input(shape: [3], name: "tb_outer_in")
        let outer = Model(inputs: b, outputs: Dense(1, name: "tb_head")(inner(b)))
        let g = GraphDescription(outer.graph!)
        let byName = Dictionary(g.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(g.nodes.first?.name == "tb_outer_in" && g.nodes.first?.op == "Placeholder")
        #expect(byName["tb_inner/tb_inner_dense/kernel"]?.op == "VariableV2", "\(g.nodes.map(\.name))")
        #expect(byName["tb_inner"]?.op == "Functional" && byName["tb_head"]?.op == "Dense")
        let innerOps = g.nodes.filter { $0.name.hasPrefix("tb_inner/") && $0.op != "VariableV2" }
        #expect(!innerOps.isEmpty && innerOps.contains { $0.inputs.contains("tb_outer_in") }, "\(g.nodes)")
        let headOps = g.nodes.filter { $0.name.hasPrefix("tb_head/") && $0.op != "VariableV2" }
        #expect(headOps.contains { $0.inputs.contains("tb_inner") }, "\(g.nodes)")
        #expect(byName["tb_head"]?.outputShapes == [[-1, 1]])
        #expect(headOps.last?.outputShapes.first?.suffix(2) == [-1, 1], "\(headOps)")   // free batch, as the layer's shape
    }
}
