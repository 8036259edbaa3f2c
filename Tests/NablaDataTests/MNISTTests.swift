import Foundation
import Testing
import NablaData
import NablaTestSupport

@Suite struct MNISTTests {
    @Test func idxReaderRejectsMalformedFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        #expect(throws: DatasetError.self) { try IDXArray(path: dir.path + "/missing") }
        #expect(throws: DatasetError.self) { try IDXArray(path: dir.write("short", [0, 0])) }
        #expect(throws: DatasetError.self) { try IDXArray(path: dir.write("magic", [1, 0, 8, 1, 0, 0, 0, 1, 5])) }
        #expect(throws: DatasetError.self) { try IDXArray(path: dir.write("trunc", [0, 0, 8, 1, 0, 0, 0, 9, 1, 2])) }
        let ok = try IDXArray(path: dir.write("ok", [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 1, 7, 255]))
        #expect(ok.shape == [2, 1])
        #expect(ok.tensor(scale: false).toIntArray() == [7, 255])
    }

    @Test func mnistReadsSmallIDXFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let pixels: [UInt8] = (0..<(3 * 4 * 5)).map { UInt8($0 * 4) }
        dir.write("train-images-idx3-ubyte", idxBytes([3, 4, 5], pixels))
        dir.write("train-labels-idx1-ubyte", idxBytes([3], [7, 0, 9]))
        let ds = try MNIST(root: dir.path, train: true)
        #expect(ds.count == 3 && ds.images.shape == [3, 1, 4, 5] && ds.images.dtype == .float32)
        #expect(ds.labels.toIntArray() == [7, 0, 9])
        let (x, y) = ds[1]
        #expect(x.shape == [1, 4, 5] && y.item() == 0)
        #expect(allClose(x.flatten(), Tensor(shape: [20], data: pixels[20..<40].map { Float($0) / 255 })).ok)
        #expect(MNIST.classes.count == 10)
    }

    @Test func mnistReportsMissingAndMismatchedFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        #expect(throws: DatasetError.cannotOpen(path: dir.path + "/t10k-images-idx3-ubyte")) { try MNIST(root: dir.path, train: false) }
        dir.write("t10k-images-idx3-ubyte", idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]))
        dir.write("t10k-labels-idx1-ubyte", idxBytes([3], [1, 2, 3]))
        do {
            _ = try MNIST(root: dir.path, train: false)
            Issue.record("expected a mismatch error")
        } catch {
            #expect(error.description.contains("2 images") && error.description.contains("3 labels"))
        }
        dir.write("t10k-labels-idx1-ubyte", idxBytes([2, 1], [1, 2]))
        #expect(throws: DatasetError.self) { try MNIST(root: dir.path, train: false) }
        dir.write("t10k-images-idx3-ubyte", idxBytes([2, 2, 2], [1, 2, 3]))
        #expect(throws: DatasetError.truncated(path: dir.path + "/t10k-images-idx3-ubyte", expected: 24, got: 19)) {
            try MNIST(root: dir.path, train: false)
        }
    }

    @Test func fashionMNISTMatchesDebianFilesWhenInstalled() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultRoot + "/t10k-labels-idx1-ubyte.gz") else { return }
        let test = try FashionMNIST(train: false)
        #expect(test.count == 10_000 && test.images.shape == [10_000, 1, 28, 28])
        #expect(FashionMNIST.classes.count == 10)
    }
}
