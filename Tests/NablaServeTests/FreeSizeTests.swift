import Foundation
import Nabla
import NablaKeras
import NablaServe
import Testing

/// Keras models whose inputs leave a size other than the batch free (`Input(shape: [-1, -1, 1])`): a request that
/// fits the signature but not a layer is a 400 naming the input, the expected and the given shape; concurrent
/// requests of different sizes are never concatenated into one pass.
@Suite(.timeLimit(.minutes(2))) struct FreeSizeTests {
    /// `img: [*, *, 1] → Conv2D(2, 3×3) → GlobalAveragePooling2D → Dense(2)`.
    static func conv(base: String) throws -> NablaKeras.Model {
        let x = Input(shape: [-1, -1, 1], name: "img")
        let y = Dense(2, name: "out")(GlobalAveragePooling2D(name: "gap")(Conv2D(2, kernelSize: 3, name: "conv")(x)))
        let m = NablaKeras.Model(inputs: x, outputs: y, name: "freeconv")
        try TestModels.save(m, base: base, version: 1)
        return m
    }

    /// A `side`×`side` image of values `seed + 0.01·k`, as a JSON instance and as a tensor.
    static func image(_ side: Int, seed: Int) -> (json: String, tensor: Tensor) {
        let v = (0..<side * side).map { Float(seed) + 0.01 * Float($0) }
        let rows = (0..<side).map { r in "[" + (0..<side).map { c in "[\(v[r * side + c])]" }.joined(separator: ", ") + "]" }
        return ("{\"instances\": [[" + rows.joined(separator: ", ") + "]]}", Tensor(shape: [1, side, side, 1], data: v))
    }

    @Test func aSizeThatFitsTheSignatureButNotALayerIsA400() async throws {
        let base = TestServer.makeBase()
        _ = try Self.conv(base: base)
        let s = try await TestServer.start(base: base)
        let meta = try await s.client.get("/v1/models/m/metadata")
        #expect(meta.status == 200 && meta.text.contains(#"{"size": "-1", "name": ""}, {"size": "-1", "name": ""}"#), "\(meta.text)")
        let small = try await s.client.post("/v1/models/m:predict", Self.image(2, seed: 0).json)
        #expect(small.status == 400, "\(small.text)")
        #expect(small.text.contains("img") && small.text.contains("[*, *, *, 1]") && small.text.contains("[*, 2, 2, 1]")
                && small.text.contains("conv"), "\(small.text)")
        // The server still answers.
        let ok = try await s.client.post("/v1/models/m:predict", Self.image(3, seed: 0).json)
        #expect(ok.status == 200, "\(ok.text)")
        try await s.stop()
    }

    @Test func concurrentRequestsOfDifferentSizesAreAnsweredEachWithItsOwnResult() async throws {
        let base = TestServer.makeBase()
        let m = try Self.conv(base: base)
        let s = try await TestServer.start(base: base, batching: BatchingOptions(maxBatchSize: 32, maxWaitMicroseconds: 50_000))
        let sides = (0..<24).map { 3 + $0 % 4 }
        let results = ConcurrentResults()
        let group = DispatchGroup()
        for (k, side) in sides.enumerated() {
            group.enter()
            Thread.detachNewThread {
                let r = try? s.client.postSync("/v1/models/m:predict", Self.image(side, seed: k).json)
                results.set(k, r)
                group.leave()
            }
        }
        _ = try await offPool { group.wait() }
        for (k, side) in sides.enumerated() {
            let r = results.get(k)
            #expect(r?.status == 200, "request \(k) (\(side)×\(side)): \(r?.text ?? "no response")")
            let got = floats2D((r?.json as? [String: Any])?["predictions"])
            let want = m.predict(Self.image(side, seed: k).tensor, batchSize: 1).toFloatArray()
            #expect(got.map { allNear($0, [want]) } == true, "request \(k) (\(side)×\(side)): \(String(describing: got)) vs \(want)")
        }
        try await s.stop()
    }

    @Test func twoFreeLengthInputsOfDifferentLengthsAreA400() async throws {
        let base = TestServer.makeBase()
        let a = Input(shape: [-1, 2], name: "a"), b = Input(shape: [-1, 2], name: "b")
        let y = Dense(1, name: "out")(Add(name: "sum")([a, b]))
        try TestModels.save(NablaKeras.Model(inputs: [a, b], outputs: y, name: "pair"), base: base, version: 1)
        let s = try await TestServer.start(base: base)
        let bad = try await s.client.post("/v1/models/m:predict", #"{"instances": [{"a": [[1, 2], [3, 4]], "b": [[1, 2], [3, 4], [5, 6]]}]}"#)
        #expect(bad.status == 400 && bad.text.contains("a of shape [*, 2, 2]") && bad.text.contains("b of shape [*, 3, 2]"), "\(bad.text)")
        let good = try await s.client.post("/v1/models/m:predict", #"{"instances": [{"a": [[1, 2], [3, 4]], "b": [[1, 2], [0, 0]]}]}"#)
        #expect(good.status == 200, "\(good.text)")
        try await s.stop()
    }
}

/// Responses by request index, filled from several threads.
final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: HTTPTestClient.Response] = [:]
    func set(_ k: Int, _ r: HTTPTestClient.Response?) { lock.lock(); values[k] = r; lock.unlock() }
    func get(_ k: Int) -> HTTPTestClient.Response? { lock.lock(); defer { lock.unlock() }; return values[k] }
}
