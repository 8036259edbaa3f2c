import Foundation
import Nabla
import NablaServe
import Synchronization
import Testing

/// A new version runs on zeros at every batch size before it serves (Triton's `model_warmup`), unless told not to.
@Suite(.serialized, .timeLimit(.minutes(2))) struct WarmUpTests {
    /// Records the batch sizes it runs at and whether the inputs were zeros; doubles its input.
    final class CountingModel: ServableModel, @unchecked Sendable {
        static let seen = Mutex<[(rows: Int, zeros: Bool)]>([])
        let signature = ModelSignature(inputs: [TensorSignature(name: "x", dtype: .float32, shape: [-1, 3])],
                                       outputs: [TensorSignature(name: "y", dtype: .float32, shape: [-1, 3])])
        func predict(_ inputs: [Tensor]) throws -> [Tensor] {
            let x = inputs[0]
            Self.seen.withLock { $0.append((x.shape[0], x.abs().max().item() == 0)) }
            return [x * 2]
        }
        static let registered: Bool = {
            ModelLoaders.register(fileName: "counting.model") { _ in CountingModel() }
            return true
        }()
    }

    /// Serves a `CountingModel`, sends one request, and returns what the model saw before that request.
    static func warmUpRuns(warmUp: Bool, maxBatchSize: Int) async throws -> [(rows: Int, zeros: Bool)] {
        _ = CountingModel.registered
        CountingModel.seen.withLock { $0 = [] }
        let base = TestServer.makeBase()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/1", withIntermediateDirectories: true)
        try "counting".write(toFile: base + "/1/counting.model", atomically: true, encoding: .utf8)
        let s = try await TestServer.start(base: base, batching: BatchingOptions(maxBatchSize: maxBatchSize), warmUp: warmUp)
        let before = CountingModel.seen.withLock { $0 }
        let r = try await s.client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3]]}"#)
        #expect(r.status == 200, "\(r.text)")
        await s.server.shutdown()
        _ = try? await s.task.value
        let after = CountingModel.seen.withLock { $0 }
        #expect(after.count == before.count + 1 && after.last?.rows == 1 && after.last?.zeros == false)
        return before
    }

    @Test func everyBatchSizeRunsOnZerosBeforeTheFirstRequest() async throws {
        let runs = try await Self.warmUpRuns(warmUp: true, maxBatchSize: 8)
        #expect(runs.map(\.rows) == Array(1...8))
        #expect(runs.allSatisfy { $0.zeros })
        #expect(try await Self.warmUpRuns(warmUp: false, maxBatchSize: 8).isEmpty)
    }

    @Test func largeBatchLimitsWarmUpEverySizeTo64ThenPowersOfTwo() async throws {
        let runs = try await Self.warmUpRuns(warmUp: true, maxBatchSize: 300)
        #expect(runs.map(\.rows) == Array(1...64) + [128, 256, 300])
    }
}
