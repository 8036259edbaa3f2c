import Foundation
import Testing
import NablaData
import NablaTestSupport

@Suite struct CIFAR10Tests {
    /// `n` records with labels `labels` and pixel bytes derived from the record number.
    func records(_ labels: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for (r, l) in labels.enumerated() {
            out.append(l)
            out += (0..<3072).map { UInt8(truncatingIfNeeded: $0 &+ r * 7) }
        }
        return out
    }

    @Test func readsTestAndTrainBatches() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        dir.write("test_batch.bin", records([3, 9]))
        for k in 1...5 { dir.write("data_batch_\(k).bin", records([UInt8(k)])) }
        let test = try CIFAR10(root: dir.path, train: false)
        #expect(test.count == 2 && test.images.shape == [2, 3, 32, 32])
        #expect(test.labels.toIntArray() == [3, 9])
        let (x, y) = test[1]
        #expect(y.item() == 9 && x.shape == [3, 32, 32])
        // Channel-major layout: byte 1024 of the image is the first green pixel.
        #expect(Swift.abs(x[1, 0, 0].item() - Double(UInt8(truncatingIfNeeded: 1024 + 7)) / 255) < 1e-6)
        #expect(Swift.abs(x[2, 31, 31].item() - Double(UInt8(truncatingIfNeeded: 3071 + 7)) / 255) < 1e-6)
        let train = try CIFAR10(root: dir.path, train: true)
        #expect(train.labels.toIntArray() == [1, 2, 3, 4, 5])
        let (bx, by) = train.batch(Tensor([4, 0]))
        #expect(bx.shape == [2, 3, 32, 32] && by.toIntArray() == [5, 1])
    }

    @Test func findsTheBatchesFolderInsideRoot() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/cifar-10-batches-bin", withIntermediateDirectories: true)
        dir.write("cifar-10-batches-bin/test_batch.bin", records([0]))
        #expect(try CIFAR10(root: dir.path, train: false).count == 1)
    }

    @Test func rejectsMissingTruncatedAndMalformedFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        #expect(throws: DatasetError.cannotOpen(path: dir.path + "/test_batch.bin")) { try CIFAR10(root: dir.path, train: false) }
        dir.write("test_batch.bin", Array(records([1, 2]).dropLast(5)))
        #expect(throws: DatasetError.truncated(path: dir.path + "/test_batch.bin", expected: 6146, got: 6141)) {
            try CIFAR10(root: dir.path, train: false)
        }
        dir.write("test_batch.bin", [])
        #expect(throws: DatasetError.self) { try CIFAR10(root: dir.path, train: false) }
        dir.write("test_batch.bin", records([1, 200]))
        do {
            _ = try CIFAR10(root: dir.path, train: false)
            Issue.record("expected a bad-label error")
        } catch {
            #expect(error.description.contains("record 1") && error.description.contains("label 200"))
        }
        dir.write("data_batch_1.bin", records([1]))
        #expect(throws: DatasetError.cannotOpen(path: dir.path + "/data_batch_2.bin")) { try CIFAR10(root: dir.path, train: true) }
    }
}
