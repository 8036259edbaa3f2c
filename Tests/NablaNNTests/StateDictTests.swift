import Foundation
import Testing
import NablaNN
import NablaTestSupport

private func fixture(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/serial/\(name)").path
}

private func scratch(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-statedict-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// The model of Scripts/fixtures/serial.py: fc1 → BatchNorm1d → relu → fc2.
private final class SerialNet: Module {
    let fc1 = Linear(4, 5)
    let bn = BatchNorm1d(5)
    var fc2: Module = Linear(5, 3)
    override func forward(_ x: Tensor) -> Tensor { fc2(relu(bn(fc1(x)))) }
}

@Suite struct StateDictTests {
    @Test func namesFollowPyTorch() {
        let net = SerialNet()
        #expect(net.stateDict().keys == ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                                         "bn.num_batches_tracked", "fc2.weight", "fc2.bias"])
        let seq = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
        #expect(seq.stateDict().keys == ["0.weight", "0.bias", "2.weight", "2.bias"])
        // Detached views: no graph, no grad requirement.
        #expect(net.stateDict()["fc1.weight"]!.requiresGrad == false)
    }

    @Test func roundTripThroughAFile() throws {
        let a = SerialNet(), b = SerialNet()
        let x = Tensor.randn([3, 4])
        a.eval(); b.eval()
        let path = scratch("net.safetensors")
        try saveSafetensors(a.stateDict(), to: path)
        let weightBefore = b.fc1.weight
        try b.loadStateDict(try loadSafetensors(from: path))
        #expect(b.fc1.weight === weightBefore)  // copied in place: optimizers keep their references
        #expect(b.fc1.weight.requiresGrad && b.fc1.weight.isLeaf)
        #expect(allClose(b(x), a(x), rtol: 0, atol: 0).ok)
    }

    @Test func loadsAStateDictWrittenByPyTorch() throws {
        let net = SerialNet()
        try net.loadStateDict(try loadSafetensors(from: fixture("torch_mlp.safetensors")))
        net.eval()
        let io = try loadSafetensors(from: fixture("torch_mlp_io.safetensors"))
        let r = allClose(net(io["input"]!), io["output"]!, rtol: 1e-5, atol: 1e-6)
        #expect(r.ok, "\(r.failure)")
        #expect(net.bn.numBatchesTracked!.item() == 3)
    }

    @Test func strictErrorsListEverythingAtOnce() throws {
        let net = SerialNet()
        var sd = net.stateDict()
        sd["fc1.bias"] = nil
        sd["extra.weight"] = Tensor.zeros([1])
        sd["fc2.weight"] = Tensor.zeros([4, 5])
        let before = net.fc1.weight.toFloatArray()
        sd["fc1.weight"] = Tensor.zeros([5, 4])
        do {
            try net.loadStateDict(sd)
            Issue.record("strict load must throw")
        } catch let e as StateDictError {
            #expect(e.message.contains("missing keys [\"fc1.bias\"]"))
            #expect(e.message.contains("unexpected keys [\"extra.weight\"]"))
            #expect(e.message.contains("fc2.weight: checkpoint shape [4, 5], model shape [3, 5]"))
        }
        #expect(net.fc1.weight.toFloatArray() == before)  // all or nothing
    }

    @Test func partialLoadWithAReplacedHead() throws {
        let pretrained = SerialNet()
        let net = SerialNet()
        net.fc2 = Linear(5, 7)  // new head, new names
        var sd = pretrained.stateDict()
        sd["fc2.weight"] = nil
        sd["fc2.bias"] = nil
        sd["classifier.weight"] = Tensor.zeros([3, 5])
        let head = (net.fc2 as! Linear).weight.toFloatArray()
        let keys = try net.loadStateDictReportingKeys(sd, strict: false)
        #expect(keys.missingKeys == ["fc2.weight", "fc2.bias"])
        #expect(keys.unexpectedKeys == ["classifier.weight"])
        #expect(net.fc1.weight.toFloatArray() == pretrained.fc1.weight.toFloatArray())
        #expect((net.fc2 as! Linear).weight.toFloatArray() == head)
        // Shape mismatches still throw without strict, as in PyTorch.
        var wrong = pretrained.stateDict()
        wrong["fc2.weight"] = Tensor.zeros([3, 5])
        #expect(throws: StateDictError.self) { try net.loadStateDict(wrong, strict: false) }
    }

    @Test func convertsDTypesLikeCopy() throws {
        let net = Linear(2, 2)
        let w = Tensor([[1.0, 2.0], [3.0, 4.0]], dtype: .float64)
        try net.loadStateDict(["weight": w, "bias": Tensor([1, 2])])
        #expect(net.weight.dtype == .float32)
        #expect(net.weight.toDoubleArray() == [1, 2, 3, 4])
        #expect(net.bias!.toDoubleArray() == [1, 2])
    }

    @Test func optimizerKeepsWorkingAfterLoad() throws {
        let net = Linear(3, 1)
        let params = net.parameters()
        try net.loadStateDict(["weight": Tensor.zeros([1, 3]), "bias": Tensor.zeros([1])])
        let loss = (net(Tensor.ones([2, 3])) - 1).pow(2).mean()
        loss.backward()
        noGrad { for p in params { p.sub_(p.grad! * 0.1) } }
        #expect(net.weight.toDoubleArray().allSatisfy { $0 > 0 })
    }
}
