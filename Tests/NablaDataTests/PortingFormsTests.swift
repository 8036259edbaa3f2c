import Testing
import NablaData
import NablaTestSupport

/// The PyTorch loop over a two-tensor dataset, the array form for N tensors, and transforms on one element.
@Suite struct PortingFormsTests {
    let x = Tensor.arange(0, 10, dtype: .float32).reshape(10, 1), y = Tensor.arange(10)

    @Test func twoTensorsGiveTupleBatches() {
        let loader = DataLoader(TensorDataset(x, y), batchSize: 4)
        var seen: [Int] = []
        for (xb, yb) in loader {
            #expect(xb.shape[1] == 1 && xb.shape[0] == yb.shape[0])
            seen += yb.toIntArray()
        }
        #expect(seen == Array(0..<10))
        let (x3, y3) = TensorDataset(x, y)[3]
        #expect(x3.toFloatArray() == [3] && y3.item() == 3)
        // The whole-batch fast path and workers agree with the per-sample collate.
        let viaWorkers = DataLoader(TensorDataset(x, y), batchSize: 3, shuffle: true, numWorkers: 2, generator: Generator(seed: 4))
        let plain = DataLoader(TensorDataset(x, y), batchSize: 3, shuffle: true, generator: Generator(seed: 4)) { defaultCollate($0) }
        for ((a, b), (c, d)) in zip(viaWorkers, plain) { #expect(a.equal(c) && b.equal(d)) }
    }

    @Test func oneThreeOrAnArrayOfTensorsGiveArrays() {
        let z = Tensor.ones(10, 2)
        for batch in DataLoader(TensorDataset(x, y, z), batchSize: 5) { #expect(batch.count == 3 && batch[2].shape == [5, 2]) }
        for batch in DataLoader(TensorDataset(x), batchSize: 5) { #expect(batch.count == 1 && batch[0].shape == [5, 1]) }
        for batch in DataLoader(TensorDataset([x, y]), batchSize: 5) { #expect(batch.count == 2) }
    }

    @Test func transformsOnOneElement() {
        let double = Lambda<Tensor, Tensor> { t, _ in t * 2 }
        let (xi, yi) = TensorDataset(x, y).map(input: double)[4]
        #expect(xi.toFloatArray() == [8] && yi.item() == 4)
        let (xj, _) = TensorDataset(x, y).map(double)[4]          // a tensor transform on pairs maps the input
        #expect(xj.toFloatArray() == [8])
        let lists = TensorDataset([x, y]).map(input: double).map(target: Lambda<Tensor, Tensor> { t, _ in t + 1 })
        #expect(lists[2][0].toFloatArray() == [4] && lists[2][1].item() == 3)
        let flat = TensorDataset(x, y).map { a, b in (a.flatten(), b.float()) }
        #expect(flat[1].1.dtype == .float32)
        for (xb, _) in DataLoader(TensorDataset(x, y).map(input: double), batchSize: 10) { #expect(xb.sum().item() == 90) }
    }
}
