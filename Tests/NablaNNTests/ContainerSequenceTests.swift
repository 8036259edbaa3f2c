import Testing
import NablaNN
import NablaTestSupport

/// `for layer in blocks` over ModuleList, Sequential and ModuleDict.
@Suite struct ContainerSequenceTests {
    @Test func moduleListSequentialAndModuleDictIterate() {
        let blocks = ModuleList(Linear(4, 4), ReLU(), Linear(4, 2))
        var x = Tensor.randn(3, 4)
        for block in blocks { x = block(x) }
        #expect(x.shape == [3, 2] && blocks.map { "\(type(of: $0))" } == ["Linear", "ReLU", "Linear"])
        blocks.extend([Tanh()])
        #expect(blocks.count == 4 && Array(blocks).count == 4)

        let seq = Sequential(["fc1": Linear(4, 8), "act": ReLU(), "fc2": Linear(8, 1)])
        #expect(seq.compactMap { $0 as? Linear }.map(\.outFeatures) == [8, 1])
        #expect(seq.entries.map(\.0) == ["fc1", "act", "fc2"])

        let heads = ModuleDict(["cls": Linear(8, 10), "box": Linear(8, 4)])
        let features = Tensor.randn(2, 8)
        var shapes: [String: [Int]] = [:]
        for (name, head) in heads { shapes[name] = head(features).shape }
        #expect(shapes == ["cls": [2, 10], "box": [2, 4]] && heads.keys == ["cls", "box"] && heads.values.count == 2)
        #expect(heads.items().map(\.0) == ["cls", "box"] && heads.count == 2)
    }
}
