import Foundation
import Testing
import NablaData
import NablaTestSupport

@Suite struct DataLoaderTests {
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
