import Foundation
import Testing
import Nabla
import NablaTestSupport

@Suite struct CheckpointReaderTests {
    @Test func listsAndReadsSingleTensors() throws {
        let reader = try CheckpointReader(path: serialFixture("python_all.safetensors"))
        #expect(reader.names == ["bf16", "bool", "empty", "f16", "f32", "f64", "i16", "i32", "i64", "i8", "scalar", "u8"])
        #expect(reader.shape(of: "f32") == [2, 3])
        #expect(reader.shape(of: "scalar") == [])
        #expect(reader.dtype(of: "i64") == .int64)
        #expect(reader.dtype(of: "bf16") == .float32)
        #expect(reader.storedDType(of: "bf16") == "BF16")
        #expect(reader.shape(of: "nope") == nil && reader.dtype(of: "nope") == nil)
        #expect(reader.metadata["format"] == "pt")
        let common = commonTensors()
        for name in common.keys { #expect(sameTensor(try reader.tensor(named: name), common[name]!), "tensor \(name)") }
        #expect(sameTensor(try reader.tensor(named: "f16"), Tensor([-1.0, -0.5, 0, 0.5, 1])))
        #expect(throws: SerializationError.self) { try reader.tensor(named: "nope") }
        let all = try reader.stateDict()
        #expect(all.count == 12)
    }

    /// The reader reads the header and one tensor's bytes only: a tensor stays readable even when
    /// bytes of other tensors are garbage, and a big file opens without reading its data.
    @Test func readsOnlyWhatItNeeds() throws {
        let path = scratchPath("big.safetensors")
        try saveSafetensors(["big": Tensor.zeros([1024, 1024]), "small": Tensor([1.0, 2.0, 3.0])], to: path)
        let reader = try CheckpointReader(path: path)
        #expect(reader.shape(of: "big") == [1024, 1024])
        #expect(sameTensor(try reader.tensor(named: "small"), Tensor([1.0, 2.0, 3.0])))
        // The file shrinking after opening is reported, not a crash.
        let bytes = readBytes(path)
        writeBytes(Array(bytes[0..<(bytes.count / 2)]), path)
        #expect(throws: SerializationError.self) { try reader.tensor(named: "small") }
    }

    /// Every truncation of a valid file, and every changed header byte, must throw; none may crash.
    @Test func truncatedOrCorruptedFilesAlwaysThrow() throws {
        let good = readBytes(serialFixture("python_all.safetensors"))
        let headerEnd = 8 + good[0..<8].enumerated().reduce(0) { $0 | Int($1.1) << (8 * $1.0) }
        let path = scratchPath("corrupt.safetensors")
        for n in 0..<good.count {
            writeBytes(Array(good[0..<n]), path)
            #expect(throws: SerializationError.self, "truncated to \(n)") { _ = try loadSafetensors(from: path) }
            #expect(throws: SerializationError.self, "truncated to \(n)") { _ = try CheckpointReader(path: path) }
        }
        for i in 0..<headerEnd {
            for v: UInt8 in [0x00, 0xFF] where v != good[i] {
                var bad = good
                bad[i] = v
                writeBytes(bad, path)
                #expect(throws: SerializationError.self, "byte \(i) set to \(v)") { _ = try loadSafetensors(from: path) }
                #expect(throws: SerializationError.self, "byte \(i) set to \(v)") { _ = try CheckpointReader(path: path) }
            }
        }
        // Other single-byte changes of the header may or may not make sense; they must never crash.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var bad = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bad[Int.random(in: 0..<headerEnd, using: &rng)] = [UInt8(ascii: "9"), UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: "]"),
                                                                    UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "0"), UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
            }
            writeBytes(bad, path)
            if let s = try? loadSafetensors(from: path) { for (_, t) in s { _ = t.count } }
            if let r = try? CheckpointReader(path: path) { for n in r.names { _ = try? r.tensor(named: n) } }
        }
    }
}
