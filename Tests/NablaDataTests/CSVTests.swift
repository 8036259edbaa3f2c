import Foundation
import Testing
import NablaData
import NablaTestSupport

@Suite struct CSVTests {
    @Test func readsNumbersHeaderAndQuotedFields() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.write("a.csv", text: "x,\"y, quoted\",z\r\n1, 2.5 ,\"-3e2\"\n\n4,\"5\",6\n")
        let t = try readCSV(p, header: true)
        #expect(t.shape == [2, 3] && t.dtype == .float32)
        #expect(t.toDoubleArray() == [1, 2.5, -300, 4, 5, 6])
        let semi = dir.write("b.csv", text: "1;2\n3;4")
        #expect(try readCSV(semi, delimiter: ";", dtype: .float64).toDoubleArray() == [1, 2, 3, 4])
        let q = dir.write("c.csv", text: "\"a\"\"b\",n\n1,2\n")
        let ds = try CSVDataset(q, header: true)
        #expect(ds.columns == ["a\"b", "n"])
    }

    @Test func badValuesNameLineAndColumn() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.write("bad.csv", text: "a,b\n1,2\n3,oops\n")
        #expect(throws: DatasetError.badValue(path: p, line: 3, column: 2, value: "oops", reason: "not a number")) {
            try readCSV(p, header: true)
        }
        do { _ = try readCSV(p, header: true) } catch { #expect(error.description == "\(p):3:2: not a number: \"oops\"") }
        let empty = dir.write("empty.csv", text: "1,,3\n")
        #expect(throws: DatasetError.badValue(path: empty, line: 1, column: 2, value: "", reason: "empty field")) { try readCSV(empty) }
        let ragged = dir.write("ragged.csv", text: "1,2\n3\n")
        #expect(throws: DatasetError.malformed(path: ragged, reason: "line 2: expected 2 fields, found 1")) { try readCSV(ragged) }
        let open = dir.write("open.csv", text: "1,\"2\n")
        #expect(throws: DatasetError.self) { try readCSV(open) }
        let junk = dir.write("junk.csv", text: "1,\"2\"x\n")
        #expect(throws: DatasetError.self) { try readCSV(junk) }
        let missing = dir.path + "/nope.csv"
        #expect(throws: DatasetError.cannotOpen(path: missing)) { try readCSV(missing) }
        #expect(throws: DatasetError.self) { try readCSV(dir.write("bin.csv", [0xFF, 0xFE, 0x00, 0x2C, 0x0A])) }
    }

    @Test func csvDatasetSplitsFeaturesAndTarget() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.write("iris.csv", text: "f1,f2,label\n0.5,1.5,0\n2.5,3.5,2\n4.5,5.5,1\n")
        let ds = try CSVDataset(p, header: true, targetDType: .int64)
        #expect(ds.count == 3 && ds.features.shape == [3, 2] && ds.targets.dtype == .int64)
        let (x, y) = ds[1]
        #expect(x.toDoubleArray() == [2.5, 3.5] && y.item() == 2)
        let first = try CSVDataset(p, header: true, targetColumn: 0)
        #expect(first.targets.toDoubleArray() == [0.5, 2.5, 4.5])
        let loader = DataLoader(ds, batchSize: 2)
        let batches = Array(loader)
        #expect(batches.count == 2 && batches[0].0.shape == [2, 2] && batches[1].1.toIntArray() == [1])
        let frac = dir.write("frac.csv", text: "1,0.5\n")
        #expect(throws: DatasetError.self) { try CSVDataset(frac, targetDType: .int64) }
        #expect(throws: DatasetError.self) { try CSVDataset(p, header: true, targetColumn: 5) }
    }
}
