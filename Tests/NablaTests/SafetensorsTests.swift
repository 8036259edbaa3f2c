import Foundation
import Testing
import Nabla
import NablaTestSupport

/// Path of a fixture under Tests/Fixtures/serial/.
func serialFixture(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/serial/\(name)").path
}

/// A fresh path in a per-test temporary directory.
func scratchPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-serial-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

func readBytes(_ path: String) -> [UInt8] { (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } ?? [] }
func writeBytes(_ bytes: [UInt8], _ path: String) { try? Data(bytes).write(to: URL(fileURLWithPath: path)) }

/// The tensors Scripts/fixtures/serial.py writes as `common()`, built in Nabla.
func commonTensors() -> StateDict {
    StateDict([
        ("f32", Tensor.arange(0, 6, dtype: .float32).reshape([2, 3]) * 0.25 - 0.5),
        ("f64", Tensor.arange(0, 4, dtype: .float64) * 1.5 - 2),
        ("i32", Tensor(shape: [3, 2], data: [Int32(-3), -2, -1, 0, 1, 2])),
        ("i64", Tensor(shape: [1, 2], data: [Int64(1) << 40, -7])),
        ("bool", Tensor([true, false, true])),
        ("scalar", Tensor.scalar(3.5)),
        ("empty", Tensor.zeros([0, 3])),
    ])
}

/// A safetensors file from a header string and data bytes.
func safetensorsFile(_ header: String, data: [UInt8] = [], path: String) {
    let h = Array(header.utf8)
    var len = [UInt8](repeating: 0, count: 8)
    for i in 0..<8 { len[i] = UInt8(truncatingIfNeeded: h.count >> (8 * i)) }
    writeBytes(len + h + data, path)
}

func sameTensor(_ a: Tensor?, _ b: Tensor) -> Bool {
    guard let a else { return false }
    return a.dtype == b.dtype && a.shape == b.shape && a.toDoubleArray() == b.toDoubleArray()
}

@Suite struct SafetensorsTests {
    @Test func readsFileWrittenByPython() throws {
        let (state, meta) = try loadSafetensorsWithMetadata(from: serialFixture("python_all.safetensors"))
        #expect(meta == ["format": "pt", "source": "torch"])
        for (name, t) in commonTensors() { #expect(sameTensor(state[name], t), "tensor \(name)") }
        #expect(sameTensor(state["f16"], Tensor([-1.0, -0.5, 0, 0.5, 1])))
        #expect(sameTensor(state["bf16"], Tensor([0.0, 0.25, 0.5, 0.75])))
        #expect(sameTensor(state["u8"], Tensor(shape: [3], data: [Int32(0), 1, 255])))
        #expect(sameTensor(state["i8"], Tensor(shape: [3], data: [Int32(-128), 0, 127])))
        #expect(sameTensor(state["i16"], Tensor(shape: [2], data: [Int32(-300), 5])))
        #expect(state.keys == state.keys.sorted())
        #expect(state.count == 12)
    }

    @Test func writerProducesPythonsBytes() throws {
        let path = scratchPath("ours.safetensors")
        try saveSafetensors(commonTensors(), to: path, metadata: ["format": "pt"])
        let ours = readBytes(path), theirs = readBytes(serialFixture("python_writer.safetensors"))
        #expect(!ours.isEmpty)
        #expect(ours == theirs)
    }

    @Test func roundTripKeepsValuesAndDTypes() throws {
        var state = commonTensors()
        state["transposed"] = Tensor.randn([3, 4], dtype: .float64).t()          // non-contiguous
        state["slice"] = Tensor.arange(0, 20, dtype: .float32).reshape([4, 5])[1]  // offset view
        state["naïve \"quoted\"\n"] = Tensor([1, 2, 3])
        let path = scratchPath("rt.safetensors")
        try saveSafetensors(state, to: path, metadata: ["k\"ey": "va\\lue", "z": "é"])
        let (back, meta) = try loadSafetensorsWithMetadata(from: path)
        #expect(meta == ["k\"ey": "va\\lue", "z": "é"])
        #expect(back.count == state.count)
        for (name, t) in state { #expect(sameTensor(back[name], t), "tensor \(name)") }
        let headerLen = readBytes(path).prefix(8).enumerated().reduce(0) { $0 | Int($1.1) << (8 * $1.0) }
        #expect(headerLen % 8 == 0)
    }

    @Test func saveIsAtomicAndReplacesTheOldFile() throws {
        let path = scratchPath("a.safetensors")
        try saveSafetensors(["x": Tensor([1.0, 2.0])], to: path)
        try saveSafetensors(["y": Tensor([3.0])], to: path)
        #expect(try loadSafetensors(from: path).keys == ["y"])
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.safetensors"])
        #expect(throws: SerializationError.self) { try saveSafetensors(["x": Tensor([1.0])], to: "/nonexistent-nabla-dir/x.safetensors") }
    }

    @Test func missingFileThrows() {
        #expect(throws: SerializationError.self) { try loadSafetensors(from: "/nonexistent-nabla-dir/none.safetensors") }
    }

    /// Each malformed header gives the expected kind of error, naming the file and the tensor.
    @Test func malformedFilesThrowClearErrors() throws {
        let path = scratchPath("bad.safetensors")
        func error(_ header: String, data: [UInt8] = []) -> SerializationError? {
            safetensorsFile(header, data: data, path: path)
            do { _ = try loadSafetensors(from: path); return nil } catch let e as SerializationError { return e } catch { return nil }
        }
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(error(ok, data: [UInt8](repeating: 0, count: 8)) == nil)

        writeBytes([1, 2, 3], path)
        #expect(throws: SerializationError.truncated(path: path, what: "the 8-byte header length", expected: 8, got: 3)) { try loadSafetensors(from: path) }
        writeBytes([200, 0, 0, 0, 0, 0, 0, 0, 0x7B], path)
        do { _ = try loadSafetensors(from: path); Issue.record("header length beyond the file must throw") }
        catch let e as SerializationError { if case .truncated = e {} else { Issue.record("got \(e)") } }

        let badJSON = error(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, data: [UInt8](repeating: 0, count: 8))
        if case .badHeader(let p, let r)? = badJSON { #expect(p == path && r.contains("JSON")) } else { Issue.record("bad JSON: \(String(describing: badJSON))") }

        let outOfRange = error(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 8))
        if case .badTensor(_, "w", let r)? = outOfRange { #expect(r.contains("outside")) } else { Issue.record("range: \(String(describing: outOfRange))") }

        let overlap = error(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                            data: [UInt8](repeating: 0, count: 12))
        if case .badTensor(_, _, let r)? = overlap { #expect(r.contains("overlap")) } else { Issue.record("overlap: \(String(describing: overlap))") }

        let dtype = error(#"{"c":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        #expect(dtype == .unsupportedDType(path: path, tensor: "c", dtype: "C64"))
        #expect(dtype?.description.contains("'c'") == true && dtype?.description.contains(path) == true)

        let mismatch = error(#"{"m":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        if case .badTensor(_, "m", let r)? = mismatch { #expect(r.contains("shape [2]")) } else { Issue.record("mismatch: \(String(describing: mismatch))") }

        #expect(error(#"[1,2]"#) != nil)
        #expect(error(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#) != nil)
        #expect(error(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#) != nil)
        #expect(error(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: [UInt8](repeating: 0, count: 8)) != nil)
        #expect(error(#"{"a":{"dtype":"F32","shape":[2]}}"#) != nil)
        #expect(error(#"{"__metadata__":{"a":1}}"#) != nil)
        #expect(error(#"{"a":1,"a":2}"#) != nil)
        #expect(error(String(repeating: "[", count: 10_000)) != nil)
    }
}
