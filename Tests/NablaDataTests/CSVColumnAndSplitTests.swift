import Testing
import NablaData
import NablaTestSupport

/// `CSVDataset` with the target chosen by its header name, and `let (train, val) = randomSplit(...)`.
@Suite struct CSVColumnAndSplitTests {
    @Test func csvTargetByNameAndDestructuringRandomSplit() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.write("iris.csv", text: "sepal,species,petal\n1.5,0,2\n2.5,1,3\n3.5,2,4\n")
        let ds = try CSVDataset(path, targetColumn: "species", targetDType: .int64)
        let (x, y) = ds[1]
        #expect(x.toFloatArray() == [2.5, 3] && y.item() == 1 && ds.columns == ["sepal", "species", "petal"])
        do { _ = try CSVDataset(path, targetColumn: "label"); Issue.record("expected an error") }
        catch { #expect("\(error)".contains("no column named \"label\"") && "\(error)".contains("\"species\"")) }

        let data = TensorDataset(Tensor.arange(0, 10, dtype: .float32).reshape(10, 1), Tensor.arange(10))
        let (train, val) = randomSplit(data, lengths: [8, 2], generator: Generator(seed: 1))
        #expect(train.count == 8 && val.count == 2)
        let (a, b) = randomSplit(data, [7, 3])
        #expect(a.count == 7 && b.count == 3)
        let (c, d) = randomSplit(data, fractions: [0.5, 0.5])
        #expect(c.count == 5 && d.count == 5)
        let (p, q, r) = randomSplit(data, lengths: [5, 3, 2])
        #expect(p.count + q.count + r.count == 10)
        let parts = randomSplit(data, lengths: [6, 4])       // the array form is still the default
        #expect(parts.count == 2 && Set(parts.flatMap(\.indices)).count == 10)
        for (xb, yb) in DataLoader(train, batchSize: 4) { #expect(xb.shape[0] == yb.shape[0]) }
    }
}
