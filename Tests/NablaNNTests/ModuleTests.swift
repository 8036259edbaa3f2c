import Foundation
import Testing
import NablaData
import NablaOptim
import NablaTestSupport

/// A two-layer network used to check reflection-based parameter discovery.
private final class TwoLayer: Module {
    let fc1 = Linear(4, 8)
    let act = ReLU()
    let fc2 = Linear(8, 3, bias: false)
    override func forward(_ x: Tensor) -> Tensor { fc2(act(fc1(x))) }
}

@Suite struct ModuleTests {
    @Test func parametersAreFoundInDeclarationOrderWithDottedNames() {
        let net = TwoLayer()
        #expect(net.namedParameters().map(\.0) == ["fc1.weight", "fc1.bias", "fc2.weight"])
        #expect(net.parameters().allSatisfy { $0.requiresGrad && $0.isLeaf })
        let seq = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
        #expect(seq.namedParameters().map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(seq.modules().count == 4)
    }

    @Test func trainEvalAndFreezingReachEverySubmodule() {
        let net = Sequential(TwoLayer(), Linear(3, 2))
        net.eval()
        #expect(net.modules().allSatisfy { !$0.training })
        net.train()
        #expect(net.modules().allSatisfy { $0.training })
        net[0].requiresGrad(false)
        #expect(net[0].parameters().allSatisfy { !$0.requiresGrad })
        #expect(net[1].parameters().allSatisfy { $0.requiresGrad })
    }

    @Test func linearComputesXWtPlusBAndPrintsLikePyTorch() {
        let fc = Linear(3, 2)
        let x = Tensor.randn([5, 3])
        let expected = matmul(x, fc.weight.t()) + fc.bias!
        #expect(allClose(fc(x), expected).ok)
        #expect(fc.description == "Linear(in_features=3, out_features=2, bias=True)")
        let bound = 1 / 3.0.squareRoot()
        #expect(fc.weight.abs().max().item() <= bound)
    }

    @Test func forwardHookSeesTheOutputAndCanBeRemoved() {
        let net = TwoLayer()
        var seen: [Int] = []
        let h = net.fc1.registerForwardHook { _, _, out in seen = out.shape; return nil }
        _ = net(Tensor.randn([2, 4]))
        #expect(seen == [2, 8])
        h.remove(); seen = []
        _ = net(Tensor.randn([2, 4]))
        #expect(seen.isEmpty)
    }

    @Test func crossEntropyMatchesTheDefinition() {
        let logits = Tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], dtype: .float64)
        let target = Tensor([1, 2])
        let manual = -(logSoftmax(logits, dim: 1).gather(dim: 1, index: target.unsqueeze(1))).mean()
        #expect(abs(crossEntropy(logits, target).item() - manual.item()) < 1e-12)
        // PyTorch: F.cross_entropy(logits, target) = 0.2675715015342181 for these numbers (torch 2.x)
        #expect(abs(crossEntropy(logits, target).item() - 0.2675715015342181) < 1e-9)
        #expect(gradcheck({ crossEntropy($0[0], target, labelSmoothing: 0.1) }, inputs: [logits]).passed)
    }

    @Test func adamAndSGDReduceALoss() {
        manualSeed(3)
        for make in [{ (p: [Tensor]) -> Optimizer in Adam(p, lr: 0.05) }, { SGD($0, lr: 0.1, momentum: 0.9) }] {
            let model = Linear(2, 1)
            let opt = make(model.parameters())
            let x = Tensor.randn([64, 2]), y = x.sum(dim: 1, keepDim: true) * 2 + 1
            var first = 0.0, last = 0.0
            for i in 0..<100 {
                let loss = mseLoss(model(x), y)
                opt.zeroGrad(); loss.backward(); opt.step()
                if i == 0 { first = loss.item() }
                last = loss.item()
            }
            #expect(last < first * 0.05)
        }
    }

    @Test func idxReaderRejectsMalformedFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ bytes: [UInt8]) -> String {
            let p = dir.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: p, contents: Data(bytes))
            return p
        }
        #expect(throws: DatasetError.self) { try IDXArray(path: dir.appendingPathComponent("missing").path) }
        #expect(throws: DatasetError.self) { try IDXArray(path: write("short", [0, 0])) }
        #expect(throws: DatasetError.self) { try IDXArray(path: write("magic", [1, 0, 8, 1, 0, 0, 0, 1, 5])) }
        #expect(throws: DatasetError.self) { try IDXArray(path: write("trunc", [0, 0, 8, 1, 0, 0, 0, 9, 1, 2])) }
        let ok = try IDXArray(path: write("ok", [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 1, 7, 255]))
        #expect(ok.shape == [2, 1])
        #expect(ok.tensor(scale: false).toIntArray() == [7, 255])
    }

    @Test func dataLoaderBatchesAndShufflesReproducibly() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultRoot + "/t10k-labels-idx1-ubyte.gz") else { return }
        let test = try FashionMNIST(train: false)
        #expect(test.count == 10_000 && test.images.shape == [10_000, 1, 28, 28])
        let a = DataLoader(test, batchSize: 128, shuffle: true, generator: Generator(seed: 5))
        let b = DataLoader(test, batchSize: 128, shuffle: true, generator: Generator(seed: 5))
        #expect(a.count == 79)
        let fa = a.makeIterator(), fb = b.makeIterator()
        var ia = fa, ib = fb
        let (xa, ya) = ia.next()!, (xb, yb) = ib.next()!
        #expect(xa.shape == [128, 1, 28, 28] && xa.equal(xb) && ya.equal(yb))
    }
}
