/// Everything `ModelServer` needs: the model, the address, batching, and the limits that keep it up under abuse.
///
/// The names follow TF Serving's flags (`--model_name`, `--model_base_path`, `--rest_api_port`,
/// `--file_system_poll_wait_seconds`, `--max_batch_size`, `--batch_timeout_micros`).
public struct ModelServerConfiguration: Sendable {
    /// The model's name in URLs (`/v1/models/NAME`): 1-128 letters, digits, `_`, `-` or `.`.
    public var modelName: String
    /// The folder of numeric version folders (`DIR/1`, `DIR/2`, ...), each holding `model.safetensors` (or a file a
    /// registered loader reads). The newest version is served.
    public var modelBasePath: String
    /// The address to bind: loopback unless told otherwise.
    public var host: String
    /// The port (`0` picks a free one; the port bound is passed to `run`'s `onReady`).
    public var port: Int
    /// Dynamic batching.
    public var batching: BatchingOptions
    /// The largest request body accepted, in bytes (413 above).
    public var maxBodyBytes: Int
    /// The deepest JSON nesting accepted (400 above).
    public var maxJSONDepth: Int
    /// The longest a client may take to send a request's body (408 after).
    public var requestTimeout: Duration
    /// How long an idle keep-alive connection is kept open.
    public var idleTimeout: Duration
    /// How often the base path is checked for new versions.
    public var pollInterval: Duration
    /// Whether a version runs once on zeros at every batch size up to `batching.maxBatchSize` after it loads and
    /// before it serves (Triton's `model_warmup`): the first requests do not pay for first-touch memory, and the
    /// server's resident memory reaches its working set before traffic arrives. Models with a free non-batch size
    /// are not warmed up (no shape to make up).
    public var warmUp: Bool

    /// Creates a configuration; every limit has a default that serves models of a few MB at batch sizes up to 32.
    public init(modelName: String, modelBasePath: String, host: String = "127.0.0.1", port: Int = 8501,
                batching: BatchingOptions = BatchingOptions(), maxBodyBytes: Int = 8 << 20, maxJSONDepth: Int = 32,
                requestTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60), pollInterval: Duration = .seconds(1),
                warmUp: Bool = true) {
        self.modelName = modelName; self.modelBasePath = modelBasePath; self.host = host; self.port = port
        self.batching = batching; self.maxBodyBytes = maxBodyBytes; self.maxJSONDepth = maxJSONDepth
        self.requestTimeout = requestTimeout; self.idleTimeout = idleTimeout; self.pollInterval = pollInterval
        self.warmUp = warmUp
    }
}
