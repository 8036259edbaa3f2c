import Foundation
import Nabla
import NablaKeras
import NablaServe
import Logging

/// A `ModelServer` running in a task of the test on an ephemeral loopback port, with a temporary base path.
struct TestServer {
    let server: ModelServer
    let port: Int
    let task: Task<Void, Error>
    let base: String
    var client: HTTPTestClient { HTTPTestClient(port: port) }

    /// A fresh temporary base path.
    static func makeBase() -> String {
        let dir = NSTemporaryDirectory() + "nabla-serve-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Starts a server on port 0 and waits (at most 60 s) until it accepts connections.
    static func start(base: String, name: String = "m", batching: BatchingOptions = BatchingOptions(),
                      maxBodyBytes: Int = 8 << 20, requestTimeout: Duration = .seconds(30),
                      pollInterval: Duration = .milliseconds(100), warmUp: Bool = true) async throws -> TestServer {
        var cfg = ModelServerConfiguration(modelName: name, modelBasePath: base, port: 0, batching: batching,
                                           maxBodyBytes: maxBodyBytes, requestTimeout: requestTimeout, pollInterval: pollInterval,
                                           warmUp: warmUp)
        cfg.idleTimeout = .seconds(30)
        var logger = Logger(label: "nabla.serve.test")
        logger.logLevel = .critical
        let server = try ModelServer(cfg, logger: logger)
        let (stream, cont) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run { port in cont.yield(port); cont.finish() } }
        let port = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { for await p in stream { return p }; return nil }
            group.addTask { try await Task.sleep(for: .seconds(60)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let port else {
            task.cancel()
            throw HTTPTestClient.Failure(description: "the server did not start within 60 s")
        }
        return TestServer(server: server, port: port, task: task, base: base)
    }

    /// Stops the server gracefully and removes the base path.
    func stop() async throws {
        await server.shutdown()
        try await task.value
        try? FileManager.default.removeItem(atPath: base)
    }
}

/// Small Keras models saved as version folders.
enum TestModels {
    /// `x: [4] → logits: Dense(3)`, saved to `base/version/model.safetensors`.
    @discardableResult
    static func dense(base: String, version: Int, units: Int = 3) throws -> NablaKeras.Model {
        let x = Input(shape: [4], name: "x")
        let y = Dense(units, name: "logits")(x)
        let m = NablaKeras.Model(inputs: x, outputs: y, name: "tiny")
        try save(m, base: base, version: version)
        return m
    }

    /// Two inputs `a: [2]`, `b: [3]` → `out: Dense(2)` of their concatenation.
    @discardableResult
    static func twoInputs(base: String, version: Int) throws -> NablaKeras.Model {
        let a = Input(shape: [2], name: "a"), b = Input(shape: [3], name: "b")
        let y = Dense(2, name: "out")(Concatenate(axis: -1, name: "cat")([a, b]))
        let m = NablaKeras.Model(inputs: [a, b], outputs: y, name: "two")
        try save(m, base: base, version: version)
        return m
    }

    /// Saves into a temporary folder, then renames it to `base/version` (as an operator publishes a version).
    static func save(_ m: NablaKeras.Model, base: String, version: Int) throws {
        let tmp = base + "/.tmp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try m.save(tmp + "/model.safetensors")
        try FileManager.default.moveItem(atPath: tmp, toPath: base + "/\(version)")
    }

    /// The model's outputs for rows of 4 values, as Float arrays.
    static func expected(_ m: NablaKeras.Model, _ rows: [[Float]]) -> [[Float]] {
        let x = Tensor(shape: [rows.count, rows[0].count], data: rows.flatMap { $0 })
        let y = m.predict(x, batchSize: rows.count).contiguous().toFloatArray()
        let k = y.count / rows.count
        return (0..<rows.count).map { Array(y[$0 * k..<($0 + 1) * k]) }
    }
}

/// The numbers of a JSON list of lists.
func floats2D(_ any: Any?) -> [[Float]]? {
    guard let rows = any as? [Any] else { return nil }
    var out: [[Float]] = []
    for r in rows {
        guard let xs = r as? [Any] else { return nil }
        out.append(xs.compactMap { ($0 as? NSNumber)?.floatValue })
    }
    return out
}

/// Whether two lists of rows agree within `tol`.
func allNear(_ a: [[Float]], _ b: [[Float]], tol: Float = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) } }
}
