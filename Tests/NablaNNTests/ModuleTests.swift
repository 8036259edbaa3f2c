import Foundation
import Testing
import NablaNN
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

}
