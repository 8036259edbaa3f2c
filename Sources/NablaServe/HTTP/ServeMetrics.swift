import Prometheus

/// The server's Prometheus metrics (`GET /metrics`): requests by endpoint and status code, request latency, batch
/// sizes, queue length and the version serving. Each server has its own registry, so several servers (tests) never
/// share counts.
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let model: String
    private let latencyHistogram: DurationHistogram
    private let batchHistogram: ValueHistogram
    private let versionGauge: Gauge
    private let queueGauge: Gauge

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
        return registry.emitToBuffer()
    }
}
