import Foundation
import NablaServe
import Testing

/// Dynamic batching and backpressure.
@Suite(.timeLimit(.minutes(2))) struct BatchingTests {
    /// Sends `count` requests at once, each from its own thread; returns the status codes.
    static func burst(_ s: TestServer, count: Int, body: String) async throws -> [Int] {
        let codes = ConcurrentCodes()
        let group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            Thread.detachNewThread {
                codes.add((try? s.client.postSync("/v1/models/m:predict", body).status) ?? -1)
                group.leave()
            }
        }
        _ = try await offPool { group.wait() }
        return codes.values
    }

    /// The count of batches and of batches of one row, from `/metrics`.
    static func batchCounts(_ text: String) -> (all: Double, ones: Double) {
        var all = -1.0, ones = -1.0
        for line in text.split(separator: "\n") {
            if line.hasPrefix("nabla_serve_batch_size_count") { all = Double(line.split(separator: " ").last!) ?? -1 }
            if line.hasPrefix("nabla_serve_batch_size_bucket"), line.contains("le=\"1.0\"") || line.contains("le=\"1\"") {
                ones = Double(line.split(separator: " ").last!) ?? -1
            }
        }
        return (all, ones)
    }

    @Test func concurrentRequestsShareForwardPasses() async throws {
        let base = TestServer.makeBase()
        try TestModels.dense(base: base, version: 1)
        let s = try await TestServer.start(base: base, batching: BatchingOptions(maxBatchSize: 32, maxWaitMicroseconds: 20_000))
        let codes = try await Self.burst(s, count: 32, body: #"{"instances": [[1, 2, 3, 4]]}"#)
        #expect(codes == Array(repeating: 200, count: 32), "\(codes)")
        let metrics = try await s.client.get("/metrics").text
        let (all, ones) = Self.batchCounts(metrics)
        #expect(all > 0 && ones >= 0 && ones < all, "no batch larger than 1 in:\n\(metrics)")
        #expect(all < 32, "32 requests ran as \(all) batches")
        try await s.stop()
    }

    @Test func requestLargerThanABatchRunsInSlices() async throws {
        let base = TestServer.makeBase()
        let model = try TestModels.dense(base: base, version: 1)
        let s = try await TestServer.start(base: base, batching: BatchingOptions(maxBatchSize: 4))
        let rows: [[Float]] = (0..<10).map { i in [Float(i), 1, -1, 0.5] }
        let body = "{\"instances\": [" + rows.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]}"
        let r = try await s.client.post("/v1/models/m:predict", body)
        #expect(r.status == 200, "\(r.text)")
        #expect(floats2D((r.json as? [String: Any])?["predictions"]).map { allNear($0, TestModels.expected(model, rows)) } == true, "\(r.text)")
        try await s.stop()
    }

    @Test func fullQueueAnswers503() async throws {
        let base = TestServer.makeBase()
        try SlowModel.publish(base: base, version: 1, delay: 0.5)
        let s = try await TestServer.start(base: base, batching: BatchingOptions(maxBatchSize: 1, maxWaitMicroseconds: 0, maxQueuedRows: 2),
                                           warmUp: false)   // a slow model: half a second per batch
        let codes = try await Self.burst(s, count: 8, body: #"{"instances": [[1, 2, 3, 4]]}"#)
        #expect(codes.filter { $0 == 200 }.count >= 1, "\(codes)")
        #expect(codes.filter { $0 == 503 }.count >= 1, "\(codes)")
        #expect(codes.allSatisfy { $0 == 200 || $0 == 503 }, "\(codes)")
        let r = try await s.client.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#)
        #expect(r.status == 200 && r.text.contains("10"), "\(r.text)")
        try await s.stop()
    }
}
