import Foundation
import Testing
import Nabla
import NablaTestSupport

@Suite struct NpyTests {
    let f4 = Tensor.arange(0, 6, dtype: .float32).reshape([2, 3]) * 0.25 - 0.5

    @Test func readsFilesWrittenByNumpy() throws {
        #expect(sameTensor(try loadNpy(from: serialFixture("f4.npy")), f4))
        #expect(sameTensor(try loadNpy(from: serialFixture("f4_v2.npy")), f4))
        #expect(sameTensor(try loadNpy(from: serialFixture("f8_fortran.npy")),
                           Tensor.arange(0, 6, dtype: .float64).reshape([3, 2]) - 2.5))
        #expect(sameTensor(try loadNpy(from: serialFixture("i4_fortran3d.npy")),
                           Tensor.arange(0, 24, dtype: .int32).reshape([2, 3, 4])))
        #expect(sameTensor(try loadNpy(from: serialFixture("i8.npy")), Tensor(shape: [3], data: [Int64(1) << 40, -7, 0])))
        #expect(sameTensor(try loadNpy(from: serialFixture("b1.npy")), Tensor([[true, false], [false, true]])))
        #expect(sameTensor(try loadNpy(from: serialFixture("u1.npy")), Tensor(shape: [3], data: [Int32(0), 1, 255])))
        #expect(sameTensor(try loadNpy(from: serialFixture("scalar_f8.npy")), Tensor.scalar(2.25, dtype: .float64)))
    }

    @Test func writerProducesNumpysBytes() throws {
        let path = scratchPath("f4.npy")
        try saveNpy(f4, to: path)
        #expect(readBytes(path) == readBytes(serialFixture("f4.npy")))
    }

    @Test(arguments: [DType.float32, .float64, .int32, .int64, .bool])
    func npyRoundTrip(dtype: DType) throws {
        let path = scratchPath("x.npy")
        for t in [Tensor.randn([3, 4], dtype: .float64).to(dtype), Tensor.randn([2, 3], dtype: .float64).t().to(dtype),
                  Tensor.scalar(7, dtype: dtype), Tensor.zeros([0, 2], dtype: dtype)] {
            try saveNpy(t, to: path)
            #expect(sameTensor(try loadNpy(from: path), t))
        }
    }

    @Test func readsNpzWrittenByNumpy() throws {
        let stored = try loadNpz(from: serialFixture("stored.npz"))
        #expect(stored.keys == ["a", "b"])
        #expect(sameTensor(stored["a"], f4))
        #expect(sameTensor(stored["b"], Tensor([1, 2, 3])))
        let compressed = try loadNpz(from: serialFixture("compressed.npz"))
        #expect(compressed.keys == ["a", "big"])
        #expect(sameTensor(compressed["big"], Tensor(shape: [20, 10], data: (0..<200).map { Float($0 % 7) })))
    }

    @Test(arguments: [false, true])
    func npzRoundTrip(compressed: Bool) throws {
        let path = scratchPath("s.npz")
        var state = commonTensors()
        state["big"] = Tensor.zeros([100, 10])
        try saveNpz(state, to: path, compressed: compressed)
        let back = try loadNpz(from: path)
        #expect(back.keys == state.keys)
        for (name, t) in state { #expect(sameTensor(back[name], t), "tensor \(name)") }
        if compressed { #expect(readBytes(path).count < 2000) }
    }

    @Test func saveAndLoadPickTheFormatByExtension() throws {
        let state = StateDict([("w", f4), ("n", Tensor([1, 2]))])
        for ext in ["safetensors", "npz", "bin"] {
            let path = scratchPath("m.\(ext)")
            try save(state, to: path)
            let back = try load(from: path)
            #expect(Set(back.keys) == ["w", "n"])
            #expect(sameTensor(back["w"], f4))
        }
        let npy = scratchPath("weights.npy")
        try save(["w": f4], to: npy)
        #expect(try load(from: npy).keys == ["weights"])
        #expect(throws: SerializationError.self) { try save(state, to: scratchPath("two.npy")) }
    }

    /// Every truncation of an .npy/.npz file throws; corrupting any byte never crashes; a changed byte of
    /// compressed data is caught by inflate or the CRC.
    @Test func malformedNumpyFilesThrow() throws {
        let path = scratchPath("bad")
        for fixture in ["f4.npy", "i4_fortran3d.npy", "stored.npz", "compressed.npz"] {
            let good = readBytes(serialFixture(fixture))
            let isNpz = fixture.hasSuffix(".npz")
            func read() throws { if isNpz { _ = try loadNpz(from: path) } else { _ = try loadNpy(from: path) } }
            for n in 0..<good.count {
                writeBytes(Array(good[0..<n]), path)
                #expect(throws: SerializationError.self, "\(fixture) truncated to \(n) bytes") { try read() }
            }
            for i in 0..<good.count {
                for v: UInt8 in [0x00, 0xFF, good[i] ^ 0x01] where v != good[i] {
                    var bad = good
                    bad[i] = v
                    writeBytes(bad, path)
                    _ = try? read()
                }
            }
        }
        // A flipped byte inside a member's data: stored member → CRC mismatch.
        var bad = readBytes(serialFixture("stored.npz"))
        let magic = (0..<bad.count - 6).first { bad[$0] == 0x93 && bad[$0 + 1] == 0x4E && bad[$0 + 2] == 0x55 }!
        bad[magic + 130] ^= 0x40  // inside the float data after the 128-byte .npy header
        writeBytes(bad, path)
        #expect(throws: SerializationError.self) { _ = try loadNpz(from: path) }
    }
}
