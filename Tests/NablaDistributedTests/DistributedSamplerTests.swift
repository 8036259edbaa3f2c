import Testing
import NablaDistributed
import NablaData

@Suite struct DistributedSamplerTests {
    @Test func padsWithTheFirstIndicesAndInterleaves() {
        let ranks = (0..<3).map { DistributedSampler(count: 10, numReplicas: 3, rank: $0, shuffle: false) }
        #expect(ranks.map(\.count) == [4, 4, 4])
        #expect(ranks.map { Array($0) } == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]])   // PyTorch's split
        #expect(ranks[0].totalSize == 12)
    }

    @Test func dropLastCutsTheTail() {
        let ranks = (0..<3).map { DistributedSampler(count: 10, numReplicas: 3, rank: $0, shuffle: false, dropLast: true) }
        #expect(ranks.map(\.count) == [3, 3, 3])
        #expect(ranks.map { Array($0) } == [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
        let even = DistributedSampler(count: 9, numReplicas: 3, rank: 1, shuffle: false, dropLast: true)
        #expect(Array(even) == [1, 4, 7])
    }

    @Test func padsRepeatedlyWhenThereAreFewerSamplesThanReplicas() {
        let ranks = (0..<5).map { DistributedSampler(count: 2, numReplicas: 5, rank: $0, shuffle: false) }
        #expect(ranks.map { Array($0) } == [[0], [1], [0], [1], [0]])
    }

    @Test func shuffleDependsOnSeedAndEpochOnly() {
        let a = (0..<4).map { DistributedSampler(count: 103, numReplicas: 4, rank: $0, shuffle: true, seed: 5) }
        let all = a.flatMap { Array($0) }
        #expect(all.count == 104 && Set(all) == Set(0..<103))            // one index padded
        let again = DistributedSampler(count: 103, numReplicas: 4, rank: 2, shuffle: true, seed: 5)
        #expect(Array(again) == Array(a[2]))
        let before = Array(a[0])
        a[0].setEpoch(1)
        #expect(Array(a[0]) != before)
        a[0].setEpoch(0)
        #expect(Array(a[0]) == before)
        // one replica gives the whole permutation that the replicas interleave
        let whole = Array(DistributedSampler(count: 103, numReplicas: 1, rank: 0, shuffle: true, seed: 5))
        #expect(Array(a[1]) == stride(from: 1, to: 104, by: 4).map { (whole + whole)[$0] })
    }

    @Test func feedsADataLoader() {
        let x = Tensor(shape: [10, 1], data: (0..<10).map { Double($0) })
        let ds = TensorDataset(x, x)
        let sampler = DistributedSampler(count: 10, numReplicas: 2, rank: 1, shuffle: false)
        let batches = Array(DataLoader(sampler.subset(of: ds), batchSize: 2))
        #expect(batches.map { $0.0.toDoubleArray() } == [[1, 3], [5, 7], [9]])
    }
}
