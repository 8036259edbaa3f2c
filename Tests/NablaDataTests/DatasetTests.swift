import Testing
import NablaData
import NablaTestSupport

@Suite struct DatasetTests {
    let data = TensorDataset([Tensor.arange(10, dtype: .float32), Tensor.arange(10)])

    @Test func subsetPicksIndicesInOrder() {
        let s = Subset(data, indices: [7, 2, 5])
        #expect(s.count == 3 && s[0][1].item() == 7 && s[2][0].item() == 5)
        #expect(s.batch(Tensor([2, 0]))[1].toIntArray() == [5, 7])
    }

    @Test func randomSplitByLengthsAndFractions() {
        let parts = randomSplit(data, lengths: [6, 4], generator: Generator(seed: 1))
        #expect(parts.map(\.count) == [6, 4])
        #expect(Set(parts[0].indices + parts[1].indices) == Set(0..<10))
        let again = randomSplit(data, lengths: [6, 4], generator: Generator(seed: 1))
        #expect(again[0].indices == parts[0].indices)
        let byFraction = randomSplit(data, fractions: [0.25, 0.25, 0.5], generator: Generator(seed: 2))
        #expect(byFraction.map(\.count) == [3, 2, 5])            // floor 2, 2, 5; the remainder 1 goes to the first part, as PyTorch
        #expect(Set(byFraction.flatMap(\.indices)).count == 10)
    }

    @Test func concatDatasetIndexesAcrossParts() {
        let a = Subset(data, indices: [0, 1])
        let b = Subset(data, indices: [9])
        let c = ConcatDataset<[Tensor]>([a, b, data])
        #expect(c.count == 13 && c.cumulativeSizes == [2, 3, 13])
        #expect(c[1][1].item() == 1 && c[2][1].item() == 9 && c[3][1].item() == 0 && c[12][1].item() == 9)
        let loader = DataLoader(c, batchSize: 13)
        #expect(Array(loader)[0][1].toIntArray() == [0, 1, 9] + Array(0..<10))
    }

    @Test func transformedDatasetUsesTheSampleGenerator() {
        let noisy = data.map(Lambda<[Tensor], Tensor> { s, g in s[0] + Tensor(g.nextUnit()) })
        let g1 = noisy.sample(3, generator: Generator(seed: 4)), g2 = noisy.sample(3, generator: Generator(seed: 4))
        #expect(g1.item() == g2.item() && g1.item() >= 3 && g1.item() < 4)
        let pairs = TensorDataset([Tensor.ones([4, 1, 2, 2]), Tensor.arange(4)])
        let tuples = TransformedDataset(pairs) { s, _ in (s[0], s[1]) }
        let scaled = tuples.map(input: Normalize(mean: [1], std: [0.5])).map(target: Lambda<Tensor, Tensor> { y, _ in y * 2 })
        let (x, y) = scaled[2]
        #expect(x.shape == [1, 2, 2] && x.toDoubleArray() == [0, 0, 0, 0] && y.item() == 4)
    }
}
