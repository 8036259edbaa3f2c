import Foundation
import Testing
import Nabla
import NablaTestSupport

/// Empty tensors of every rank, and the malformed files a fuzzer found (`Tests/Fixtures/reliability`): every
/// reader throws a `SerializationError` naming the file, never traps, hangs or allocates gigabytes.
@Suite struct ReliabilityTests {
    static let emptyShapes: [[Int]] = [[0], [0, 0], [3, 0], [0, 3], [2, 0, 0], [0, 3, 0], [0, 0, 4], [1, 0, 1], [2, 3, 0, 4], [0, 1, 1, 1, 1]]

    @Test(arguments: emptyShapes)
    func emptyTensorsConvertAndReduce(shape: [Int]) {
        for dtype in [DType.float32, .float64, .int32, .int64, .bool] {
            let t = Tensor.zeros(shape, dtype: dtype)
            #expect(t.to(.float64).shape == shape)
            #expect(t.to(.int64).shape == shape)
            #expect(t.toDoubleArray().isEmpty)
            #expect(t.contiguous().count == 0)
        }
        let x = Tensor.zeros(shape, dtype: .float32)
        #expect((x + 1).shape == shape)
        #expect(x.sum().item() == 0)
        if shape.count >= 2 {
            let p = x.permute(Array((0..<shape.count).reversed()))
            #expect(p.contiguous().shape == shape.reversed())
            #expect(p.to(.float64).toDoubleArray().isEmpty)
        }
    }

    @Test func zeroElementShapeWithHugeDimensionsHasStrides() {
        let s = Shape.contiguousStrides([0, 1 << 40, 1 << 40])
        #expect(s.count == 3)
        #expect(s[2] == 1)
    }

    @Test func zeroElementHugeShapesThrow() throws {
        let st = reliabilityFixture("st_zero_huge.safetensors")
        for read in [{ _ = try load(from: st) }, { _ = try loadSafetensors(from: st) }, { _ = try CheckpointReader(path: st) }] {
            let e = #expect(throws: SerializationError.self) { try read() }
            #expect(e?.description.contains("st_zero_huge.safetensors") == true)
            #expect(e?.description.contains("ReaderLimits.maxElements") == true)
        }
        let npy = reliabilityFixture("npy_zero_huge.npy")
        #expect(throws: SerializationError.self) { _ = try loadNpy(from: npy) }
        #expect(throws: SerializationError.self) { _ = try load(from: npy) }
        let npz = reliabilityFixture("npz_zero_huge.npz")
        #expect(throws: SerializationError.self) { _ = try loadNpz(from: npz) }
        #expect(throws: SerializationError.self) { _ = try load(from: npz) }
    }

    @Test func emptyNpyConverts() throws {
        let t = try loadNpy(from: reliabilityFixture("empty_0x0.npy"))
        #expect(t.shape == [0, 0])
        #expect(t.to(.float64).shape == [0, 0])
        #expect(t.toDoubleArray().isEmpty)
    }

    @Test func limitsAreConfigurable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-limits-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/w.safetensors"
        try saveSafetensors(["w": Tensor.zeros([10, 10])], to: path)
        try saveNpy(Tensor.zeros([10, 10]), to: dir + "/w.npy")
        let small = ReaderLimits(maxElements: 50)
        ReaderLimits.with(small) {
            let e = #expect(throws: SerializationError.self) { _ = try loadSafetensors(from: path) }
            #expect(e?.description == "\(path): tensor 'w': shape [10, 10] exceeds the limit of 50 elements (ReaderLimits.maxElements)")
            #expect(throws: SerializationError.self) { _ = try loadNpy(from: dir + "/w.npy") }
        }
        #expect(ReaderLimits.current == .defaults)
        #expect(try loadSafetensors(from: path)["w"]?.shape == [10, 10])
        ReaderLimits.with(ReaderLimits(maxHeaderBytes: 16)) {
            #expect(throws: SerializationError.self) { _ = try loadSafetensors(from: path) }
        }
    }

    @Test func atomicWritesRemoveStaleTemporaryFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-atomic-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // pid 2^31 - 2 runs nowhere (Linux pids stay below 2^22); pid 1 always runs.
        let dead = dir + "/model.safetensors.tmp-2147483646-12345"
        let live = dir + "/other.bin.tmp-1-777"
        let unrelated = dir + "/notes.tmp-abc"
        for p in [dead, live, unrelated] { FileManager.default.createFile(atPath: p, contents: Data([1, 2, 3])) }
        #expect(AtomicFile.temporaryFiles(in: dir).count == 2)
        try AtomicFile.write([1, 2, 3], to: dir + "/x.bin")
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: unrelated))
        #expect(FileManager.default.fileExists(atPath: dir + "/x.bin"))
    }

    /// A temporary file named from another PID namespace (a writer in another container sharing the folder) is
    /// kept while fresh, whatever its pid means here, and removed once a day old; one from this namespace goes as
    /// soon as its process is gone.
    @Test func temporaryFilesOfOtherPIDNamespacesWaitADay() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-atomic-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let other = AtomicFile.pidNamespace &+ 1
        let foreignFresh = dir + "/a.bin.tmp-2147483646-1-\(other)"
        let foreignOld = dir + "/b.bin.tmp-2147483646-2-\(other)"
        let deadHere = dir + "/c.bin.tmp-2147483646-3-\(AtomicFile.pidNamespace)"
        for p in [foreignFresh, foreignOld, deadHere] { FileManager.default.createFile(atPath: p, contents: Data([1])) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -2 * 86_400)], ofItemAtPath: foreignOld)
        #expect(AtomicFile.temporaryFiles(in: dir).map(\.namespace).allSatisfy { $0 != nil })
        #expect(AtomicFile.removeStaleTemporaryFiles(in: dir) == 2)
        #expect(FileManager.default.fileExists(atPath: foreignFresh))
        #expect(!FileManager.default.fileExists(atPath: foreignOld) && !FileManager.default.fileExists(atPath: deadHere))
        // A write of this process names its own namespace.
        var seen: [UInt64?] = []
        try AtomicFile.write(to: dir + "/d.bin") { w in
            seen = AtomicFile.temporaryFiles(in: dir).filter { $0.pid == getpid() }.map(\.namespace)
            try [UInt8(1)].withUnsafeBytes { try w($0) }
        }
        #expect(seen == [AtomicFile.pidNamespace])
    }

    @Test func failedWriteLeavesNoTemporaryFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-atomic-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        struct Boom: Error {}
        #expect(throws: Boom.self) { try AtomicFile.write(to: dir + "/y.bin") { w in try [UInt8(1)].withUnsafeBytes { try w($0) }; throw Boom() } }
        #expect(AtomicFile.temporaryFiles(in: dir).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/y.bin"))
    }

    @Test func deepJSONHeaderThrows() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-deep-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var header = Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        bytes += header
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/deep.safetensors"))
        let e = #expect(throws: SerializationError.self) { _ = try loadSafetensors(from: dir + "/deep.safetensors") }
        #expect(e?.description.contains("ReaderLimits.maxJSONDepth") == true)
    }
}
