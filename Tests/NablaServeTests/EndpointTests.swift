import Foundation
import Nabla
import NablaKeras
import NablaServe
import Testing

/// Every endpoint of a running server, on loopback.
@Suite(.timeLimit(.minutes(2))) struct EndpointTests {
    @Test func statusMetadataPredictClassify() async throws {
        let base = TestServer.makeBase()
        let model = try TestModels.dense(base: base, version: 1)
        let s = try await TestServer.start(base: base)
        defer { Task { try? await s.stop() } }
        let c = s.client

        let status = try await c.get("/v1/models/m")
        #expect(status.status == 200)
        let list = (status.json as? [String: Any])?["model_version_status"] as? [[String: Any]]
        #expect(list?.first?["version"] as? String == "1")
        #expect(list?.first?["state"] as? String == "AVAILABLE")
        #expect(((list?.first?["status"] as? [String: Any])?["error_code"] as? String) == "OK")
        #expect(try await c.get("/v1/models/m/versions/1").status == 200)
        #expect(try await c.get("/v1/models/m/versions/9").status == 404)

        let meta = try await c.get("/v1/models/m/metadata")
        #expect(meta.status == 200)
        let sig = ((((meta.json as? [String: Any])?["metadata"] as? [String: Any])?["signature_def"] as? [String: Any])?["signature_def"]
                   as? [String: Any])?["serving_default"] as? [String: Any]
        let x = (sig?["inputs"] as? [String: Any])?["x"] as? [String: Any]
        #expect(x?["dtype"] as? String == "DT_FLOAT")
        let dims = ((x?["tensor_shape"] as? [String: Any])?["dim"] as? [[String: Any]])?.compactMap { $0["size"] as? String }
        #expect(dims == ["-1", "4"])
        #expect((sig?["outputs"] as? [String: Any])?["logits"] != nil)

        let rows: [[Float]] = [[1, 2, 3, 4], [-1, 0.5, 0, 2]]
        let want = TestModels.expected(model, rows)
        let p = try await c.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4], [-1, 0.5, 0, 2]]}"#)
        #expect(p.status == 200, "\(p.text)")
        let got = floats2D((p.json as? [String: Any])?["predictions"])
        #expect(got.map { allNear($0, want) } == true, "\(p.text) vs \(want)")

        let col = try await c.post("/v1/models/m/versions/1:predict", #"{"inputs": [[1, 2, 3, 4], [-1, 0.5, 0, 2]]}"#)
        #expect(col.status == 200)
        #expect(floats2D((col.json as? [String: Any])?["outputs"]).map { allNear($0, want) } == true, "\(col.text)")

        let cl = try await c.post("/v1/models/m:classify", #"{"examples": [[1, 2, 3, 4]]}"#)
        #expect(cl.status == 200, "\(cl.text)")
        let result = ((cl.json as? [String: Any])?["result"] as? [[[Any]]])?.first
        #expect(result?.count == 3)
        #expect(result?.first?.first as? String == "0")
        let scores = result?.compactMap { ($0.last as? NSNumber)?.doubleValue } ?? []
        #expect(abs(scores.reduce(0, +) - 1) < 1e-4)

        let health = try await c.get("/healthz")
        #expect(health.status == 200 && health.text.contains("\"version\": \"1\""))
        let metrics = try await c.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("nabla_serve_requests_total{model=\"m\",endpoint=\"predict\",code=\"200\"}"), "\(metrics.text)")
        #expect(metrics.text.contains("nabla_serve_model_version{model=\"m\"} 1"))
        #expect(metrics.text.contains("nabla_serve_batch_size_count"))
        #expect(metrics.text.contains("nabla_serve_request_duration_seconds_bucket"))
        // Memory gauges: a resident set of at least a megabyte and some heap in use (values, not only names).
        func gauge(_ name: String) -> Double? {
            metrics.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect((gauge("process_resident_memory_bytes") ?? 0) > 1e6, "\(metrics.text)")
        #expect((gauge("nabla_serve_heap_in_use_bytes") ?? 0) > 0)
        #expect(gauge("nabla_serve_heap_free_bytes") != nil && gauge("nabla_serve_host_cache_bytes") != nil)
        try await s.stop()
    }

    @Test func namedInputsAndErrors() async throws {
        let base = TestServer.makeBase()
        let model = try TestModels.twoInputs(base: base, version: 4)
        let s = try await TestServer.start(base: base)
        let c = s.client
        let p = try await c.post("/v1/models/m:predict", #"{"instances": [{"a": [1, 2], "b": [3, 4, 5]}]}"#)
        #expect(p.status == 200, "\(p.text)")
        let want = model.predict(x: [Tensor([[Float(1), 2]]), Tensor([[Float(3), 4, 5]])], batchSize: 1)[0].toFloatArray()
        #expect(floats2D((p.json as? [String: Any])?["predictions"]).map { allNear($0, [want]) } == true, "\(p.text)")
        let col = try await c.post("/v1/models/m:predict", #"{"inputs": {"a": [[1, 2]], "b": [[3, 4, 5]]}}"#)
        #expect(col.status == 200)

        let cases: [(String, String, Int, String)] = [
            ("POST", "/v1/models/other:predict", 404, "Servable not found"),
            ("POST", "/v1/models/m/versions/3:predict", 404, "Specific(m, 3)"),
            // TF Serving's codes: a /v1/ request that is not one of the API's is a 400 "Malformed request".
            ("GET", "/v1/models/m:predict", 400, "Malformed request: GET /v1/models/m:predict"),
            ("POST", "/v1/models/m", 400, "Malformed request"),
            ("POST", "/v1/models/m:explain", 400, "unknown verb"),
            ("POST", "/v1/models/m/versions/x:predict", 400, "invalid version"),
            ("GET", "/v1/models/m/extra", 400, "Malformed request"),
            ("GET", "/v1/models", 400, "Missing model name"),
            ("POST", "/v1/models/m:regress", 400, "no regression signature"),
            ("GET", "/v1/models/other", 404, "Could not find any versions of model other"),
            ("GET", "/v1/models/other/metadata", 404, "Servable not found for request: Latest(other)"),
            ("GET", "/nope", 404, "no such endpoint"),
            ("POST", "/metrics", 405, "not allowed"),
            ("GET", "/v1/models/..%2F..%2Fetc", 404, "invalid model name"),
        ]
        for (method, path, code, text) in cases {
            let r = try await c.request(method, path, body: method == "POST" ? Array("{}".utf8) : nil)
            #expect(r.status == code, "\(method) \(path): \(r.status) \(r.text)")
            #expect(((r.json as? [String: Any])?["error"] as? String)?.contains(text) == true, "\(path): \(r.text)")
        }
        let missing = try await c.post("/v1/models/m:predict", #"{"instances": [{"a": [1, 2]}]}"#)
        #expect(missing.status == 400 && missing.text.contains("missing input \\\"b\\\""), "\(missing.text)")
        try await s.stop()
    }

    @Test func unavailableUntilAVersionAppears() async throws {
        let base = TestServer.makeBase()
        let s = try await TestServer.start(base: base)
        let c = s.client
        let r = try await c.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#)
        #expect(r.status == 503 && r.text.contains("no version"), "\(r.text)")
        #expect(try await c.get("/v1/models/m").status == 404)
        try TestModels.dense(base: base, version: 1)
        var ok = false
        for _ in 0..<200 where !ok {
            try await Task.sleep(for: .milliseconds(50))
            ok = try await c.post("/v1/models/m:predict", #"{"instances": [[1, 2, 3, 4]]}"#).status == 200
        }
        #expect(ok)
        try await s.stop()
    }

    @Test func refusesBadConfiguration() {
        #expect(throws: ServeError.self) { try ModelServer(ModelServerConfiguration(modelName: "../x", modelBasePath: NSTemporaryDirectory())) }
        #expect(throws: ServeError.self) { try ModelServer(ModelServerConfiguration(modelName: "m", modelBasePath: "/no/such/folder")) }
    }
}
