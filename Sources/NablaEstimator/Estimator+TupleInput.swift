// Input functions that yield `(features, labels)` tuples, as a `DataLoader` over `TensorDataset(x, y)` does.

extension Estimator {
    /// Trains on `(features, labels)` batches (`Estimator.train` with a `tf.data.Dataset` of pairs), e.g. a
    /// `DataLoader(TensorDataset(x, y), batchSize: 32)`; otherwise as `train(inputFn:steps:maxSteps:)`.
    @discardableResult
    public func train<S: Sequence>(inputFn: () -> S, steps: Int? = nil, maxSteps: Int? = nil) throws -> Estimator
    where S.Element == (Tensor, Tensor) {
        try train(inputFn: { inputFn().lazy.map { EstimatorBatch(features: $0.0, labels: $0.1) } }, steps: steps, maxSteps: maxSteps)
    }

    /// Evaluates on `(features, labels)` batches (`Estimator.evaluate`); otherwise as `evaluate(inputFn:steps:name:)`.
    public func evaluate<S: Sequence>(inputFn: () -> S, steps: Int? = nil, name: String? = nil) throws -> [String: Double]
    where S.Element == (Tensor, Tensor) {
        try evaluate(inputFn: { inputFn().lazy.map { EstimatorBatch(features: $0.0, labels: $0.1) } }, steps: steps, name: name)
    }
}
