import Foundation
import Hummingbird
import Nabla
import NablaServeCore

/// Answers the REST API: routes a request, reads its body within the limits, decodes it, queues it for the batcher
/// and writes TF Serving's JSON. Every failure becomes a JSON error with its status; nothing a client sends can stop
/// the process.
struct ServeResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let config: ModelServerConfiguration
    let repository: ModelRepository
    let batcher: Batcher
    let metrics: ServeMetrics
    /// The deadlines of the bodies being read (one watchdog for all requests).
    let deadlines = RequestDeadlines()

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var endpoint = "other"
        let response: Response
        do {
            let route = try ServeRoute.parse(request.uri.path)
            switch route {
            case .metrics:
                endpoint = "metrics"
                try requireMethod(request, .get)
                response = Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(queuedRows: batcher.queued))))
            case .health:
                endpoint = "healthz"
                try requireMethod(request, .get)
                var w = JSONWriter()
                w.raw("{\"status\": \"ok\", \"model\": "); w.string(config.modelName)
                w.raw(", \"version\": "); w.raw(repository.current.map { "\"\($0.version)\"" } ?? "null"); w.raw("}")
                response = json(200, w.bytes)
            case .status(let model, let version):
                endpoint = "status"
                try requireMethod(request, .get)
                guard model == config.modelName else {
                    throw ServeError.notFound("Could not find any versions of model \(model); this server serves \(config.modelName)")
                }
                response = json(200, try statusBody(version: version))
            case .metadata(let model, let version):
                endpoint = "metadata"
                try requireMethod(request, .get)
                try checkModel(model)
                let loaded = try servable(version: version)
                response = json(200, metadataBody(loaded))
            case .infer(let model, let version, let verb):
                endpoint = verb
                try requireMethod(request, .post)
                try checkModel(model)
                guard verb != "regress" else {
                    throw ServeError.badRequest("model \(model) has no regression signature (:regress); use :predict or :classify")
                }
                response = json(200, try await infer(request, version: version, classify: verb == "classify"))
                metrics.recordLatency(ContinuousClock.now - start)
            }
        } catch let e as ServeError {
            response = json(e.status, e.jsonBody)
        } catch {
            response = json(500, ServeError(status: 500, "internal error: \(error)").jsonBody)
        }
        metrics.request(endpoint: endpoint, code: response.status.code)
        return response
    }

    private func json(_ status: Int, _ body: [UInt8]) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The API's routes answer one method; another is TF Serving's 400 `Malformed request` under `/v1/`, a 405 for
    /// `/metrics` and `/healthz`.
    private func requireMethod(_ request: Request, _ method: HTTPRequest.Method) throws(ServeError) {
        guard request.method == method else {
            let path = String(request.uri.path.prefix(200))
            if path.hasPrefix("/v1/") {
                throw ServeError.badRequest("Malformed request: \(request.method.rawValue) \(path); use \(method.rawValue)")
            }
            throw ServeError(status: 405, "\(request.method.rawValue) \(path) is not allowed; use \(method.rawValue)")
        }
    }

    private func checkModel(_ name: String) throws(ServeError) {
        guard name == config.modelName else {
            throw ServeError.notFound("Servable not found for request: Latest(\(name)); this server serves \(config.modelName)")
        }
    }

    /// The version serving, or the one asked for when it is that one.
    private func servable(version: Int64?) throws(ServeError) -> LoadedVersion {
        guard let current = repository.current else {
            throw ServeError.unavailable("no version of model \(config.modelName) is loaded yet (looking in \(config.modelBasePath))")
        }
        if let version, version != current.version {
            throw ServeError.notFound("Servable not found for request: Specific(\(config.modelName), \(version)); version \(current.version) is serving")
        }
        return current
    }

    private func statusBody(version: Int64?) throws(ServeError) -> [UInt8] {
        var list = repository.statuses
        if let version {
            list = list.filter { $0.version == version }
            guard !list.isEmpty else {
                throw ServeError.notFound("Could not find version \(version) of model \(config.modelName)")
            }
        }
        guard !list.isEmpty else {
            throw ServeError.notFound("Could not find any versions of model \(config.modelName) in \(config.modelBasePath)")
        }
        var w = JSONWriter()
        w.raw("{\"model_version_status\": [")
        for (k, s) in list.enumerated() {
            if k > 0 { w.raw(", ") }
            w.raw("{\"version\": \"\(s.version)\", \"state\": \"\(s.state.rawValue)\", \"status\": {\"error_code\": ")
            w.raw(s.error == nil ? "\"OK\"" : "\"UNKNOWN\"")
            w.raw(", \"error_message\": "); w.string(s.error ?? ""); w.raw("}}")
        }
        w.raw("]}")
        return w.bytes
    }

    private static func dtypeName(_ d: DType) -> String {
        switch d {
        case .float32: return "DT_FLOAT"
        case .float64: return "DT_DOUBLE"
        case .int32: return "DT_INT32"
        case .int64: return "DT_INT64"
        case .bool: return "DT_BOOL"
        }
    }

    private func metadataBody(_ loaded: LoadedVersion) -> [UInt8] {
        var w = JSONWriter()
        func tensors(_ list: [TensorSignature]) {
            w.raw("{")
            for (k, t) in list.enumerated() {
                if k > 0 { w.raw(", ") }
                w.string(t.name)
                w.raw(": {\"dtype\": \"\(Self.dtypeName(t.dtype))\", \"tensor_shape\": {\"dim\": [")
                w.raw(t.shape.map { "{\"size\": \"\($0)\", \"name\": \"\"}" }.joined(separator: ", "))
                w.raw("], \"unknown_rank\": false}, \"name\": "); w.string(t.name); w.raw("}")
            }
            w.raw("}")
        }
        w.raw("{\"model_spec\": {\"name\": "); w.string(config.modelName)
        w.raw(", \"signature_name\": \"\", \"version\": \"\(loaded.version)\"}, ")
        w.raw("\"metadata\": {\"signature_def\": {\"signature_def\": {\"serving_default\": {\"inputs\": ")
        tensors(loaded.model.signature.inputs)
        w.raw(", \"outputs\": ")
        tensors(loaded.model.signature.outputs)
        w.raw(", \"method_name\": \"tensorflow/serving/predict\"}}}}}")
        return w.bytes
    }

    /// Reads the body, decodes it against the serving version's signature, runs it through the batcher and writes
    /// the answer.
    private func infer(_ request: Request, version: Int64?, classify: Bool) async throws(ServeError) -> [UInt8] {
        let loaded = try servable(version: version)
        batcher.arrive()
        var submitted = false
        defer { if !submitted { batcher.leave() } }
        let body = try await readBody(request)
        let decoded = try PredictRequest.decode(body, signature: loaded.model.signature, maxDepth: config.maxJSONDepth, allowExamples: classify)
        try loaded.model.checkInputs(decoded.inputs.map(\.shape))
        submitted = true
        let outputs = try await batcher.submit(decoded.inputs, rows: decoded.rows, version: loaded, arrived: true)
        if classify { return try PredictResponse.classify(outputs[0]) }
        return PredictResponse.predict(outputs, signature: loaded.model.signature, format: decoded.format)
    }

    /// The whole body, at most `maxBodyBytes`, within `requestTimeout`.
    private func readBody(_ request: Request) async throws(ServeError) -> [UInt8] {
        let limit = config.maxBodyBytes
        if let declared = request.headers[.contentLength], let n = Int(declared), n > limit {
            throw ServeError(status: 413, "the body of \(n) bytes is over the limit of \(limit) bytes")
        }
        let timeout = config.requestTimeout
        do {
            return try await withThrowingTaskGroup(of: [UInt8].self) { group in
                group.addTask {
                    var bytes: [UInt8] = []
                    for try await chunk in request.body {
                        guard bytes.count + chunk.readableBytes <= limit else {
                            throw ServeError(status: 413, "the body is over the limit of \(limit) bytes")
                        }
                        bytes.append(contentsOf: chunk.readableBytesView)
                    }
                    return bytes
                }
                group.addTask {
                    // Not `Task.sleep`: a cancelled Task.sleep keeps its timer queued until the timeout (see
                    // RequestDeadlines), so at thousands of requests per second the heap grew with the request rate.
                    try await deadlines.sleep(for: timeout)
                    throw ServeError(status: 408, "the body did not arrive within \(timeout)")
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw ServeError.badRequest("no body") }
                return first
            }
        } catch let e as ServeError {
            throw e
        } catch {
            throw ServeError.badRequest("the body could not be read: \(error)")
        }
    }
}
