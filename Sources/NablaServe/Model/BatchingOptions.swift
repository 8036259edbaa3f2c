/// Dynamic batching: how concurrent requests are merged into one forward pass (TF Serving's batching parameters).
public struct BatchingOptions: Sendable, Equatable {
    /// The most rows (samples) in one forward pass (`max_batch_size`). A request with more rows runs alone.
    public var maxBatchSize: Int
    /// How long the first request of a batch may wait for others, in microseconds (`batch_timeout_micros`). The
    /// wait happens only while other requests are arriving, so a lone request does not wait.
    public var maxWaitMicroseconds: Int
    /// The most rows waiting in the queue; a request that does not fit gets 503 (`max_enqueued_batches` in rows).
    public var maxQueuedRows: Int

    /// Creates batching options.
    public init(maxBatchSize: Int = 32, maxWaitMicroseconds: Int = 2000, maxQueuedRows: Int = 1024) {
        self.maxBatchSize = maxBatchSize; self.maxWaitMicroseconds = maxWaitMicroseconds; self.maxQueuedRows = maxQueuedRows
    }
}
