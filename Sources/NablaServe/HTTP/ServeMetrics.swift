import Nabla
import Prometheus

/// The server's Prometheus metrics (`GET /metrics`): requests by endpoint and status code, request latency, batch
/// sizes, queue length, the version serving, and the process's memory (resident set, the C heap's bytes in use and
/// free, the host buffer cache). Each server has its own registry, so several servers (tests) never share counts.
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let model: String
    private let latencyHistogram: DurationHistogram
    private let batchHistogram: ValueHistogram
    private let versionGauge: Gauge
    private let queueGauge: Gauge
    private let residentGauge: Gauge
    private let heapInUseGauge: Gauge
    private let heapFreeGauge: Gauge
    private let hostCacheGauge: Gauge

    private static func name(_ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "nabla", subsystem: "serve", metricName: metric, unitName: unit, helpText: help)
    }

    init(model: String, maxBatchSize: Int) {
        self.model = model
        latencyHistogram = registry.makeDurationHistogram(
            descriptor: Self.name("request_duration", unit: "seconds", help: "Time from a :predict or :classify request's arrival to its response"),
            labels: [("model", model)],
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                      .seconds(2.5), .seconds(5), .seconds(10)])
        var buckets: [Double] = [1]
        while Int(buckets.last!) < maxBatchSize { buckets.append(buckets.last! * 2) }
        batchHistogram = registry.makeValueHistogram(
            descriptor: Self.name("batch_size", help: "Rows (samples) per forward pass of the dynamic batcher"),
            labels: [("model", model)], buckets: buckets)
        versionGauge = registry.makeGauge(descriptor: Self.name("model_version", help: "The model version serving; 0 before the first load"),
                                          labels: [("model", model)])
        queueGauge = registry.makeGauge(descriptor: Self.name("queue_rows", help: "Rows waiting for the inference thread"),
                                        labels: [("model", model)])
        residentGauge = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident memory size in bytes"))
        heapInUseGauge = registry.makeGauge(descriptor: Self.name("heap_in_use", unit: "bytes",
            help: "Bytes the C allocator has handed out and not had back (malloc, including its mmap'ed blocks)"))
        heapFreeGauge = registry.makeGauge(descriptor: Self.name("heap_free", unit: "bytes",
            help: "Free bytes the C allocator holds in its arenas (fragmentation when it grows while in-use stays flat)"))
        hostCacheGauge = registry.makeGauge(descriptor: Self.name("host_cache", unit: "bytes",
            help: "Bytes of freed tensor buffers kept for reuse by Nabla's host buffer cache"))
    }

    /// Counts one answered request.
    func request(endpoint: String, code: Int) {
        registry.makeCounter(descriptor: Self.name("requests", unit: "total", help: "Requests answered, by endpoint and HTTP status code"),
                             labels: [("model", model), ("endpoint", endpoint), ("code", String(code))]).increment()
    }

    /// Records the latency of one inference request.
    func recordLatency(_ d: Duration) { latencyHistogram.record(d) }
    /// Records one forward pass of `rows` rows.
    func recordBatch(_ rows: Int) { batchHistogram.record(Double(rows)) }
    /// Sets the version gauge.
    func serving(_ v: Int64) { versionGauge.set(to: Double(v)) }

    /// The Prometheus text exposition of every metric.
    func render(queuedRows: Int) -> [UInt8] {
        queueGauge.set(to: Double(queuedRows))
        let memory = ProcessMemory.current()
        residentGauge.set(to: Double(memory.residentBytes))
        heapInUseGauge.set(to: Double(memory.heapInUseBytes))
        heapFreeGauge.set(to: Double(memory.heapFreeBytes))
        hostCacheGauge.set(to: Double(HostMemoryCache.cachedBytes))
        return registry.emitToBuffer()
    }
}
