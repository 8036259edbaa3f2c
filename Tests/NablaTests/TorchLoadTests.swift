import Foundation
import Testing
import Nabla
import NablaTestSupport

/// Path of a fixture under Tests/Fixtures/torch/ (written by Scripts/fixtures/torch_checkpoints.py).
func torchFixture(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/torch/\(name)").path
}

/// What torch.load(weights_only=True) gave for each fixture, flattened to dotted names.
private func expectedTensors(_ file: String) throws -> [String: (shape: [Int], dtype: String, data: [Double])] {
    let data = try Data(contentsOf: URL(fileURLWithPath: torchFixture("torch_checkpoints.json")))
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let files = try #require(root["files"] as? [String: Any])
    let entries = try #require(files[file] as? [String: [String: Any]])
    var out: [String: (shape: [Int], dtype: String, data: [Double])] = [:]
    for (k, v) in entries {
        let shape = (v["shape"] as? [NSNumber] ?? []).map(\.intValue)
        let values = (v["data"] as? [NSNumber] ?? []).map(\.doubleValue)
        out[k] = (shape, v["dtype"] as? String ?? "", values)
    }
    return out
}

private func doubles(_ t: Tensor) -> [Double] {
    let c = t.contiguous()
    switch c.dtype {
    case .float32: return c.toArray(Float.self).map(Double.init)
    case .float64: return c.toArray(Double.self)
    case .int32: return c.toArray(Int32.self).map(Double.init)
    case .int64: return c.toArray(Int64.self).map(Double.init)
    case .bool: return c.toArray(Bool.self).map { $0 ? 1 : 0 }
    }
}

@Suite struct TorchLoadTests {
    @Test(arguments: ["state.pt", "legacy.pt", "nested.pt"])
    func matchesTorchLoad(_ file: String) throws {
        let expected = try expectedTensors(file)
        let state = try loadTorch(from: torchFixture(file))
        #expect(Set(state.keys) == Set(expected.keys))
        for (name, e) in expected {
            let t = try #require(state[name], "\(file): missing \(name)")
            #expect(t.shape == e.shape, "\(file) \(name)")
            // Exact values; the tolerance only absorbs Foundation's JSON number parsing (last-digit errors).
            let got = doubles(t)
            #expect(got.count == e.data.count && zip(got, e.data).allSatisfy { abs($0 - $1) <= 1e-14 * max(1, abs($1)) },
                    "\(file) \(name): \(got) vs \(e.data)")
        }
    }

    @Test func loadDispatchesTorchFilesByExtension() throws {
        let direct = try loadTorch(from: torchFixture("state.pt")), viaLoad = try load(from: torchFixture("state.pt"))
        #expect(direct.keys == viaLoad.keys)
        for k in direct.keys { #expect(direct[k]!.toDoubleArray() == viaLoad[k]!.toDoubleArray(), "\(k)") }
        #expect(throws: (any Error).self) { _ = try load(from: torchFixture("evil_system.pt")) }
    }

    @Test func dtypesAndViews() throws {
        let state = try loadTorch(from: torchFixture("state.pt"))
        #expect(state["f16"]?.dtype == .float32)
        #expect(state["bf16"]?.dtype == .float32)
        #expect(state["f64"]?.dtype == .float64)
        #expect(state["i64"]?.dtype == .int64)
        #expect(state["i16"]?.dtype == .int32)
        #expect(state["u8"]?.dtype == .int32)
        #expect(state["bool"]?.dtype == .bool)
        #expect(state["scalar"]?.shape == [])
        // Views saved by PyTorch share one storage, as they did when saved.
        let base = try #require(state["base"]), t = try #require(state["view_t"])
        #expect(base.sharesStorage(with: t))
        #expect(t.shape == [6, 4] && t.strides == [1, 6])
        #expect(state["view_narrow"]?.shape == [2, 3])
    }

    @Test func nestedObject() throws {
        let v = try loadTorchObject(from: torchFixture("nested.pt"))
        guard case .int(3) = v["epoch"] else { Issue.record("epoch: \(String(describing: v["epoch"]))"); return }
        guard case .double(0.125) = v["lr"] else { Issue.record("lr"); return }
        guard case .string("run-1") = v["name"] else { Issue.record("name"); return }
        #expect(v["model"]?["weight"]?.tensor?.shape == [2, 2])
        let flat = v.flattened()
        #expect(flat["optimizer.state.0.step"] != nil)
    }

    @Test func craftedView() throws {
        let t = try #require(try loadTorch(from: torchFixture("crafted_ok_view.pt"))[""])
        #expect(t.contiguous().toArray(Float.self) == [1, 3, 2, 4])
    }

    @Test(arguments: [("evil_system.pt", "posix.system"), ("evil_eval.pt", "__builtin__.eval"),
                      ("evil_class.pt", "__main__.Custom"), ("crafted_os_system.pt", "os.system"),
                      ("crafted_builtins_eval.pt", "builtins.eval"), ("crafted_stack_global.pt", "builtins.exec")])
    func refusesGlobals(_ file: String, _ global: String) throws {
        do {
            _ = try loadTorchObject(from: torchFixture(file))
            Issue.record("\(file) loaded")
        } catch let e as UnpicklingError {
            #expect(e == .forbiddenGlobal(path: torchFixture(file), name: global))
            #expect(e.description.contains(global))
        }
    }

    @Test(arguments: ["crafted_storage_lies.pt", "crafted_view_out_of_range.pt", "crafted_missing_record.pt",
                      "crafted_truncated_pickle.pt", "crafted_bad_opcode.pt", "crafted_underflow.pt",
                      "crafted_bad_memo.pt", "crafted_memo_bomb.pt"])
    func malformedThrows(_ file: String) {
        #expect(throws: (any Error).self) { try loadTorchObject(from: torchFixture(file)) }
    }

    /// The 936-byte memo bomb, whose shared references expand to millions of values: refused by a budget
    /// proportional to the pickle's size (under the flat 5-million limit it ran past the fuzzer's 10 s timeout).
    @Test func sharedReferenceExpansionIsBoundedByThePickleSize() {
        do { _ = try loadTorchObject(from: torchFixture("crafted_memo_bomb.pt")); Issue.record("loaded") } catch {
            #expect("\(error)".contains("too many values"), "\(error)")
        }
        #expect(TorchCheckpoint.valueBudget(pickleBytes: 936) == 10_000 + 16 * 936)
        #expect(TorchCheckpoint.valueBudget(pickleBytes: 1 << 30) == 5_000_000)
    }

    /// Found by the pickle fuzzer as a leak: a dict used as its own key (`d[d] = 1`) or a list appended to itself
    /// made a reference cycle of shared containers that was never freed. Such structures are refused.
    @Test(arguments: [
        [0x80, 0x02, 0x7D, 0x32, 0x32, 0x32, 0x4B, 0x01, 0x73, 0x2E] as [UInt8],   // {}, DUP×3, 1, SETITEM: d[d] = 1
        [0x80, 0x02, 0x5D, 0x32, 0x61, 0x2E],                                     // [], DUP, APPEND: l.append(l)
        [0x80, 0x02, 0x5D, 0x32, 0x5D, 0x32, 0x28, 0x4B, 0x01, 0x65, 0x28, 0x4B, 0x02, 0x65, 0x61, 0x2E],
    ])
    func selfReferencingContainersAreRefused(_ bytes: [UInt8]) {
        do { _ = try TorchCheckpoint.unpickle(bytes, path: "cycle.pkl"); Issue.record("loaded a cyclic pickle") } catch {
            #expect("\(error)".contains("inside itself") || "\(error)".contains("cycle.pkl"), "\(error)")
        }
    }

    @Test func storageSizeLieNamesTheStorage() {
        do { _ = try loadTorchObject(from: torchFixture("crafted_storage_lies.pt")); Issue.record("loaded") } catch {
            #expect("\(error)".contains("storage 0") && "\(error)".contains("16 bytes"))
        }
    }

    /// Every prefix of a real checkpoint, zip or legacy, throws (never traps).
    @Test(arguments: ["state.pt", "legacy.pt"])
    func truncatedFilesThrow(_ file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: torchFixture(file))))
        for n in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: (any Error).self) { try TorchCheckpoint.read(Array(bytes[..<n]), path: "t") }
        }
    }

    /// Byte flips anywhere load or throw, but never crash (a cheap stand-in for the fuzz target).
    @Test(arguments: ["state.pt", "legacy.pt", "nested.pt"])
    func corruptedBytesNeverTrap(_ file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: torchFixture(file))))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            var b = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? TorchCheckpoint.read(b, path: "t")
        }
    }

    /// `pickle.dumps({'a': [1, 2.5, 'x', (True, None)], 'big': 2**62, 'neg': -3000000000}, protocol=2 / 4)`.
    @Test(arguments: [
        [128, 2, 125, 113, 0, 40, 88, 1, 0, 0, 0, 97, 113, 1, 93, 113, 2, 40, 75, 1, 71, 64, 4, 0, 0, 0, 0, 0, 0, 88, 1, 0, 0, 0, 120, 113, 3, 136, 78, 134, 113, 4, 101, 88, 3, 0, 0, 0, 98, 105, 103, 113, 5, 138, 8, 0, 0, 0, 0, 0, 0, 0, 64, 88, 3, 0, 0, 0, 110, 101, 103, 113, 6, 138, 5, 0, 162, 47, 77, 255, 117, 46],
        [128, 4, 149, 61, 0, 0, 0, 0, 0, 0, 0, 125, 148, 40, 140, 1, 97, 148, 93, 148, 40, 75, 1, 71, 64, 4, 0, 0, 0, 0, 0, 0, 140, 1, 120, 148, 136, 78, 134, 148, 101, 140, 3, 98, 105, 103, 148, 138, 8, 0, 0, 0, 0, 0, 0, 0, 64, 140, 3, 110, 101, 103, 148, 138, 5, 0, 162, 47, 77, 255, 117, 46],
    ] as [[UInt8]])
    func plainPickles(_ bytes: [UInt8]) throws {
        let statePickle = [UInt8](try Data(contentsOf: URL(fileURLWithPath: torchFixture("state.pkl"))))
        #expect(throws: UnpicklingError.self) { try TorchCheckpoint.unpickle(statePickle, path: "p") }   // storages need a provider
        let zeros = try TorchCheckpoint.unpickle(statePickle, path: "p") { _, n, size in [UInt8](repeating: 0, count: n * size) }
        #expect(zeros["f32"]?.tensor?.shape == [2, 3] && zeros["view_t"]?.tensor?.strides == [1, 6])
        let v = try TorchCheckpoint.unpickle(bytes, path: "p")
        #expect(v.description == "{'a': [1, 2.5, 'x', (True, None)], 'big': 4611686018427387904, 'neg': -3000000000}")
        for n in 0..<bytes.count { #expect(throws: UnpicklingError.self) { try TorchCheckpoint.unpickle(Array(bytes[..<n]), path: "p") } }
    }

    /// Random mutations of bare pickles (flips, insertions, deletions) reach the opcodes: they load or throw, never trap.
    /// `NABLA_FUZZ_ITERATIONS` raises the count for a longer local run.
    @Test(arguments: ["state.pkl", "nested.pkl"])
    func mutatedPicklesNeverTrap(_ file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: torchFixture(file))))
        let n = Int(ProcessInfo.processInfo.environment["NABLA_FUZZ_ITERATIONS"] ?? "") ?? 1000
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<n {
            var b = bytes
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let i = Int.random(in: 0..<b.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: b.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                default: if b.count > 1 { b.remove(at: i) }
                }
            }
            _ = try? TorchCheckpoint.unpickle(b, path: "p") { _, numel, size in
                guard numel <= 1 << 16 else { throw SerializationError.invalidRequest(path: "p", reason: "large storage") }
                return [UInt8](repeating: 0, count: numel * size)
            }
        }
    }

    @Test func notATorchFile() {
        #expect(throws: SerializationError.self) { try TorchCheckpoint.read(Array("hello".utf8), path: "t") }
        #expect(throws: SerializationError.self) { try loadTorch(from: torchFixture("does-not-exist.pt")) }
    }
}
