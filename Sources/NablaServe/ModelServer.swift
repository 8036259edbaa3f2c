import Foundation
import Hummingbird
import Logging
import NablaServeCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A TF-Serving-compatible model server (`nabla serve`), embeddable in an app.
///
/// It serves the newest numeric version folder of `modelBasePath` over TF Serving's REST API, loads newer versions
/// in the background and swaps them in without failing a request, merges concurrent requests into batches on one
/// inference thread, and stops gracefully (stops accepting, finishes what is in flight).
/// ```swift
/// let server = try ModelServer(ModelServerConfiguration(modelName: "mnist", modelBasePath: "models/mnist"))
/// try await server.run(handlingSignals: true) { port in print("ready on \(port)") }
/// ```
/// Endpoints: `GET /v1/models/NAME[/versions/N]` (status), `GET /v1/models/NAME[/versions/N]/metadata`,
/// `POST /v1/models/NAME[/versions/N]:predict` and `:classify`, `GET /metrics` (Prometheus), `GET /healthz`.
public final class ModelServer: Sendable {
    /// The configuration.
    public let configuration: ModelServerConfiguration
    let repository: ModelRepository
    let batcher: Batcher
    let metrics: ServeMetrics
    let logger: Logger
    private let group = Mutex<ServiceGroup?>(nil)
    private let stopRequested = Mutex(false)

    /// Checks the configuration and prepares the server; nothing is loaded or bound until `run`.
    /// - Throws: `ServeError` for an invalid model name, a base path that is not a folder, or a non-positive limit.
    public init(_ configuration: ModelServerConfiguration, logger: Logger? = nil) throws(ServeError) {
        guard ServeRoute.isValidName(configuration.modelName) else {
            throw ServeError.badRequest("invalid model name \"\(configuration.modelName)\": use 1-128 letters, digits, '_', '-' or '.'")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.modelBasePath, isDirectory: &isDir), isDir.boolValue else {
            throw ServeError.notFound("model base path \(configuration.modelBasePath) is not a folder")
        }
        let b = configuration.batching
        guard b.maxBatchSize > 0, b.maxWaitMicroseconds >= 0, b.maxQueuedRows > 0, configuration.maxBodyBytes > 0,
              configuration.maxJSONDepth > 0, (0...65535).contains(configuration.port) else {
            throw ServeError.badRequest("the batching options, limits and port must be positive (port 0...65535): \(configuration)")
        }
        self.configuration = configuration
        var log = logger ?? Logger(label: "nabla.serve")
        if logger == nil { log.logLevel = .info }
        self.logger = log
        let metrics = ServeMetrics(model: configuration.modelName, maxBatchSize: b.maxBatchSize)
        self.metrics = metrics
        let batcher = Batcher(options: b, onBatch: { metrics.recordBatch($0) })
        self.batcher = batcher
        let warmUp = configuration.warmUp, maxBatch = b.maxBatchSize, warmLog = log
        repository = ModelRepository(name: configuration.modelName, basePath: configuration.modelBasePath, logger: log,
                                     onSwap: { metrics.serving($0) },
                                     beforeSwap: { model in
                                         guard warmUp else { return }
                                         let n = ModelWarmUp.run(model, maxBatchSize: maxBatch, lock: batcher.inferenceLock)
                                         warmLog.info("warmed up at \(n) batch sizes")
                                     })
    }

    /// The version serving now (nil before the first load).
    public var servingVersion: Int64? { repository.current?.version }

    /// Loads the newest version, binds the address and serves until `shutdown()` (or, with `handlingSignals`, SIGTERM
    /// or SIGINT), then finishes the requests in flight and returns.
    /// - Parameters:
    ///   - handlingSignals: stop gracefully on SIGTERM and SIGINT.
    ///   - onReady: called once the server accepts connections, with the port bound (useful with port 0).
    /// - Throws: the bind error (address in use, ...).
    public func run(handlingSignals: Bool = false, onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        await Self.blocking { self.repository.poll() }
        batcher.start()
        defer { batcher.stop() }
        let seconds = Int64(configuration.idleTimeout.components.seconds)
        let app = Application(
            responder: ServeResponder(config: configuration, repository: repository, batcher: batcher, metrics: metrics),
            server: .http1(configuration: .init(idleTimeout: .seconds(max(1, seconds)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "nabla-serve"),
            services: [VersionWatcher(repository: repository, interval: configuration.pollInterval)],
            onServerRunning: { channel in onReady(channel.localAddress?.port ?? 0) },
            logger: logger)
        let g = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
                                                  logger: logger))
        let stopEarly = group.withLock { slot -> Bool in
            slot = g
            return stopRequested.withLock { $0 }
        }
        if stopEarly { return }
        try await g.run()
    }

    /// Stops the server gracefully: no new connections, requests in flight finish; `run` then returns.
    public func shutdown() async {
        let g = group.withLock { slot -> ServiceGroup? in
            stopRequested.withLock { $0 = true }
            return slot
        }
        await g?.triggerGracefulShutdown()
    }

    /// Runs blocking work (loading a model) on a dispatch thread, not on Swift's cooperative pool.
    static func blocking(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async { body(); c.resume() }
        }
    }
}

/// Looks for new versions every `interval` until the server stops.
struct VersionWatcher: Service {
    let repository: ModelRepository
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await ModelServer.blocking { repository.poll() }
            }
        }
    }
}
