import Synchronization
import Foundation
import Nabla
import Testing

/// Whether `actual` and `expected` have the same shape and agree elementwise within `atol + rtol * |expected|`.
/// On failure, `failure` describes the shapes and the worst element.
public func allClose(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6) -> (ok: Bool, failure: String) {
    if actual.shape != expected.shape { return (false, "shape \(actual.shape) != expected \(expected.shape)") }
    let a = actual.toDoubleArray(), e = expected.toDoubleArray()
    var worst = -1, worstErr = 0.0
    for i in 0..<a.count {
        if a[i].isNaN && e[i].isNaN { continue }
        if a[i] == e[i] { continue }
        let err = abs(a[i] - e[i])
        if !(err <= atol + rtol * abs(e[i])) && (worst < 0 || err > worstErr || err.isNaN) { worst = i; worstErr = err }
    }
    if worst >= 0 { return (false, "shape \(actual.shape): element \(worst) is \(a[worst]), expected \(e[worst]) (|diff| \(worstErr))") }
    return (true, "")
}

/// A tensor from a fixture record: `{"shape": [...], "dtype": "float32", "data": [...]}`.
public struct FixtureTensor: Decodable, Sendable {
    /// Sizes.
    public let shape: [Int]
    /// PyTorch dtype name without the `torch.` prefix.
    public let dtype: String
    /// Row-major values (NaN/inf written as strings "nan", "inf", "-inf").
    public let data: [FixtureNumber]

    /// The values as a Nabla tensor.
    public var tensor: Tensor {
        let dt: DType
        switch dtype {
        case "float64": dt = .float64
        case "int64": dt = .int64
        case "int32": dt = .int32
        case "bool": dt = .bool
        default: dt = .float32
        }
        return Tensor(shape: shape, data: data.map(\.value), dtype: dt)
    }
}

/// A JSON number that may also be the strings "nan", "inf", "-inf", or a Bool.
public struct FixtureNumber: Decodable, Sendable {
    /// The value.
    public let value: Double
    /// Decodes a number, bool or special string.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { value = d; return }
        if let b = try? c.decode(Bool.self) { value = b ? 1 : 0; return }
        let s = try c.decode(String.self)
        switch s {
        case "nan": value = .nan
        case "inf": value = .infinity
        case "-inf": value = -.infinity
        default: throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad number \(s)")
        }
    }
}

/// One case of a fixture file written by `Scripts/fixtures/*.py`.
public struct FixtureCase: Decodable, Sendable {
    /// Case name, unique in its file (e.g. `"sin"`, `"sum_dim1_keepdim"`).
    public let name: String
    /// Inputs passed to the op.
    public let inputs: [FixtureTensor]
    /// Outputs PyTorch produced.
    public let outputs: [FixtureTensor]
    /// Gradients of `sum(outputs[0] * upstream)` with respect to each floating input (absent when not differentiable).
    public let grads: [FixtureTensor]?
    /// The upstream gradient used for `grads`.
    public let upstream: FixtureTensor?
}

/// A fixture file: the torch version that wrote it and its cases.
public struct FixtureFile: Decodable, Sendable {
    /// `torch.__version__` of the generator.
    public let torch_version: String
    /// The cases.
    public let cases: [FixtureCase]

    /// Case by name; traps with the file's case names when absent.
    public subscript(_ name: String) -> FixtureCase {
        guard let c = cases.first(where: { $0.name == name }) else {
            fatalError("fixture case \(name) not found; have \(cases.map(\.name))")
        }
        return c
    }
}

/// Loads `Tests/Fixtures/<name>.json` (found relative to this source file, so no bundle is needed).
public func loadFixture(_ name: String, file: String = #filePath) -> FixtureFile {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    let url = root.appendingPathComponent("Fixtures").appendingPathComponent(name + ".json")
    do {
        let data = try Data(contentsOf: url)
        return try JSONDecoder().decode(FixtureFile.self, from: data)
    } catch {
        fatalError("cannot load fixture \(url.path): \(error)")
    }
}

/// Runs case `name` of `fixture` through `f`: every output against PyTorch's (float64, 1e-9), then the gradients
/// of `sum(outputs[0] * upstream)` for every input when the fixture has them, then the float32 forward (1e-4).
public func expectMatchesFixture(_ fixture: FixtureFile, _ name: String, sourceLocation: SourceLocation = #_sourceLocation,
                                 _ f: ([Tensor]) -> [Tensor]) {
    let c = fixture[name]
    let inputs = c.inputs.map { $0.tensor.requiresGrad_() }
    let outs = f(inputs)
    #expect(outs.count == c.outputs.count, "\(name): \(outs.count) outputs, expected \(c.outputs.count)",
            sourceLocation: sourceLocation)
    for (i, (o, e)) in zip(outs, c.outputs).enumerated() {
        let expected = e.tensor
        #expect(o.dtype == expected.dtype, "\(name) output \(i): dtype \(o.dtype), expected \(expected.dtype)",
                sourceLocation: sourceLocation)
        let r = allClose(o, expected, rtol: 1e-9, atol: 1e-11)
        #expect(r.ok, "\(name) output \(i): \(r.failure)", sourceLocation: sourceLocation)
    }
    expectCompiledMatchesEager(name, inputs.map { $0.detached() }, sourceLocation: sourceLocation, f)
    guard let grads = c.grads, let up = c.upstream else { return }
    let gs = gradients(of: [(outs[0] * up.tensor).sum()], wrt: inputs, allowUnused: true)
    for (i, (g, e)) in zip(gs, grads).enumerated() {
        let r = allClose(g ?? Tensor.zeros(e.shape, dtype: .float64), e.tensor, rtol: 1e-8, atol: 1e-10)
        #expect(r.ok, "\(name) grad \(i): \(r.failure)", sourceLocation: sourceLocation)
    }
    let out32 = f(inputs.map { $0.detached().to(.float32) })[0]
    #expect(out32.dtype == .float32, sourceLocation: sourceLocation)
    let r32 = allClose(out32.to(.float64), c.outputs[0].tensor, rtol: 1e-4, atol: 1e-4)
    #expect(r32.ok, "\(name) float32: \(r32.failure)", sourceLocation: sourceLocation)
}

/// `compile`: the case runs as a compiled function (traced, then replayed) without gradients and gives the eager
/// outputs (1e-9: the same kernels run). A case that reads values on the host falls back to eager; the fallbacks are
/// gathered in `compileFallbacks` (docs/compile.md lists them).
public func expectCompiledMatchesEager(_ name: String, _ xs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
                                       _ f: ([Tensor]) -> [Tensor]) {
    withoutActuallyEscaping(f) { ef in
        let cf = CompiledFunction(name: name, warmup: 0) { ef($0) }
        let eager = noGrad { ef(xs) }
        _ = noGrad { cf.call(xs) }
        let replay = noGrad { cf.call(xs) }
        if let b = cf.graphBreaks.first {
            compileFallbacks.withLock { $0.append("\(name): \(b.reason)") }
            return
        }
        #expect(replay.count == eager.count, "\(name) compiled: \(replay.count) outputs, eager \(eager.count)", sourceLocation: sourceLocation)
        for (i, (a, b)) in zip(replay, eager).enumerated() {
            let r = allClose(a, b, rtol: 1e-9, atol: 1e-11)
            #expect(r.ok, "\(name) compiled output \(i): \(r.failure)", sourceLocation: sourceLocation)
        }
    }
}

/// Fixture cases that fell back to eager under `compile` (`expectCompiledMatchesEager`), with the reason.
public let compileFallbacks = Mutex<[String]>([])

/// The path of `Tests/Fixtures/reliability/<relative>`: the malformed inputs the fuzzers found, replayed as tests.
public func reliabilityFixture(_ relative: String = "", file: String = #filePath) -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent("Fixtures/reliability").appendingPathComponent(relative).path
}

/// The files of `Tests/Fixtures/reliability/<folder>` ending in `suffix`, sorted (paths).
public func reliabilityFixtures(in folder: String, suffix: String) -> [String] {
    let dir = reliabilityFixture(folder)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasSuffix(suffix) }.sorted().map { dir + "/" + $0 }
}
