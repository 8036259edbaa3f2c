import NablaNN
import NablaOptim

/// Batches of in-memory arrays: views when not shuffled, gathered rows when shuffled.
struct ArrayBatches {
    let xs: [Tensor], ys: [Tensor]
    let count: Int, batchSize: Int
    init(_ xs: [Tensor], _ ys: [Tensor], batchSize: Int, model: String) {
        check(!xs.isEmpty, "fit: model \(model) got no input arrays")
        check(batchSize >= 1, "fit: batchSize must be positive, got \(batchSize)")
        let n = xs[0].shape.first ?? 0
        for t in xs + ys {
            check(t.rank >= 1 && t.shape[0] == n, "fit: all arrays must have the same number of samples, got shapes \((xs + ys).map(\.shape))")
        }
        self.xs = xs; self.ys = ys; count = n; self.batchSize = batchSize
    }
    var steps: Int { (count + batchSize - 1) / batchSize }
    func batch(_ k: Int, order: Tensor?) -> ([Tensor], [Tensor]) {
        let start = k * batchSize, len = Swift.min(batchSize, count - start)
        if let order {
            let idx = order.narrow(0, start: start, length: len)
            return (xs.map { $0.indexSelect(dim: 0, index: idx) }, ys.map { $0.indexSelect(dim: 0, index: idx) })
        }
        return (xs.map { $0.narrow(0, start: start, length: len) }, ys.map { $0.narrow(0, start: start, length: len) })
    }
    /// Splits off the last `fraction` of the samples (Keras' `validation_split`, taken before shuffling).
    func split(_ fraction: Double) -> (ArrayBatches, ArrayBatches) {
        check(fraction > 0 && fraction < 1, "fit: validationSplit must be in (0, 1), got \(fraction)")
        let nVal = Swift.max(1, Int((Double(count) * fraction).rounded()))
        let nTrain = count - nVal
        check(nTrain >= 1, "fit: validationSplit \(fraction) leaves no training samples out of \(count)")
        let train = ArrayBatches(xs.map { $0.narrow(0, start: 0, length: nTrain) }, ys.map { $0.narrow(0, start: 0, length: nTrain) }, batchSize: batchSize, model: "")
        let val = ArrayBatches(xs.map { $0.narrow(0, start: nTrain, length: nVal) }, ys.map { $0.narrow(0, start: nTrain, length: nVal) }, batchSize: batchSize, model: "")
        return (train, val)
    }
}

extension Model {
    /// Trains the model (`model.fit`) on in-memory arrays: one tensor per input and per output.
    /// ```swift
    /// let history = model.fit(x: [xTrain], y: [yTrain], epochs: 5, batchSize: 128, validationSplit: 0.1)
    /// ```
    /// - Parameters:
    ///   - validationData: arrays evaluated at the end of each epoch (`val_` logs).
    ///   - validationSplit: fraction of the samples (the last ones, before shuffling) held out for validation.
    ///   - verbose: 0 silent, 1 progress bar (plain lines when not on a terminal), 2 one line per epoch.
    ///   - modelDir: an Estimator-style directory (`ModelDir`): checkpoints and TensorBoard logs are
    ///     written there, and training resumes from its latest checkpoint.
    @discardableResult
    public func fit(x: [Tensor], y: [Tensor], epochs: Int = 1, batchSize: Int = 32,
                    validationData: (x: [Tensor], y: [Tensor])? = nil, validationSplit: Double = 0,
                    shuffle: Bool = true, callbacks: [Callback] = [], verbose: Int = 1, initialEpoch: Int = 0,
                    modelDir: String? = nil) -> History {
        var train = ArrayBatches(x, y, batchSize: batchSize, model: name)
        var val: ArrayBatches? = validationData.map { ArrayBatches($0.x, $0.y, batchSize: batchSize, model: name) }
        if validationSplit > 0 && val == nil { (train, val) = train.split(validationSplit) }
        let t = train
        let validate = val.map { v in { self.evaluateBatches(v.steps) { v.batch($0, order: nil) } } }
        if let dist = FitDistribution.current(enabled: dataParallel, model: name) {
            // Under mpirun: this rank's share of global batches of batchSize × ranks (Model+Distributed.swift).
            let sharded = ShardedArrayBatches(arrays: t, distribution: dist)
            return runFit(epochs: epochs, initialEpoch: initialEpoch, steps: sharded.steps, callbacks: callbacks, verbose: verbose,
                          modelDir: modelDir, distribution: dist, epochBatches: { sharded.batches(shuffle: shuffle) }, validate: validate)
        }
        return runFit(epochs: epochs, initialEpoch: initialEpoch, steps: t.steps, callbacks: callbacks, verbose: verbose,
                      modelDir: modelDir, distribution: FitDistribution.current(enabled: dataParallel, model: name), epochBatches: {
                          let order = shuffle ? Tensor.randperm(t.count) : nil
                          var k = 0
                          return AnyIterator {
                              guard k < t.steps else { return nil }
                              defer { k += 1 }
                              return t.batch(k, order: order)
                          }
                      },
                      validate: validate)
    }

    /// `fit` for a single-input, single-output model.
    @discardableResult
    public func fit(x: Tensor, y: Tensor, epochs: Int = 1, batchSize: Int = 32, validationData: (Tensor, Tensor)? = nil,
                    validationSplit: Double = 0, shuffle: Bool = true, callbacks: [Callback] = [], verbose: Int = 1,
                    initialEpoch: Int = 0, modelDir: String? = nil) -> History {
        fit(x: [x], y: [y], epochs: epochs, batchSize: batchSize, validationData: validationData.map { ([$0.0], [$0.1]) },
            validationSplit: validationSplit, shuffle: shuffle, callbacks: callbacks, verbose: verbose, initialEpoch: initialEpoch,
            modelDir: modelDir)
    }

    /// `fit` for a multi-input, single-output model (`fit([x1, x2], y)`).
    @discardableResult
    public func fit(x: [Tensor], y: Tensor, epochs: Int = 1, batchSize: Int = 32, validationData: ([Tensor], Tensor)? = nil,
                    validationSplit: Double = 0, shuffle: Bool = true, callbacks: [Callback] = [], verbose: Int = 1) -> History {
        fit(x: x, y: [y], epochs: epochs, batchSize: batchSize, validationData: validationData.map { ($0.0, [$0.1]) },
            validationSplit: validationSplit, shuffle: shuffle, callbacks: callbacks, verbose: verbose)
    }

    /// Trains from a sequence of `(input, target)` batches, such as a NablaData `DataLoader` (shuffling is the loader's).
    /// ```swift
    /// model.fit(DataLoader(train, batchSize: 128, shuffle: true), epochs: 5, validationData: DataLoader(test, batchSize: 512))
    /// ```
    @discardableResult
    public func fit<L: Sequence, V: Sequence>(_ loader: L, epochs: Int = 1, validationData: V?, callbacks: [Callback] = [],
                                              verbose: Int = 1, initialEpoch: Int = 0, modelDir: String? = nil) -> History
        where L.Element == (Tensor, Tensor), V.Element == (Tensor, Tensor) {
        runFit(epochs: epochs, initialEpoch: initialEpoch, steps: loader.underestimatedCount, callbacks: callbacks, verbose: verbose,
               modelDir: modelDir, distribution: FitDistribution.current(enabled: dataParallel, model: name), epochBatches: {
                   var it = loader.makeIterator()
                   return AnyIterator { it.next().map { ([$0.0], [$0.1]) } }
               },
               validate: validationData.map { v in {
                   let batches = v.map { ([$0.0], [$0.1]) }
                   return self.evaluateBatches(batches.count) { batches[$0] }
               } })
    }

    /// Trains from a sequence of `(input, target)` batches without validation.
    @discardableResult
    public func fit<L: Sequence>(_ loader: L, epochs: Int = 1, callbacks: [Callback] = [], verbose: Int = 1,
                                 initialEpoch: Int = 0, modelDir: String? = nil) -> History where L.Element == (Tensor, Tensor) {
        fit(loader, epochs: epochs, validationData: nil as [(Tensor, Tensor)]?, callbacks: callbacks, verbose: verbose,
            initialEpoch: initialEpoch, modelDir: modelDir)
    }

    /// The loss and metrics over a sequence of `(input, target)` batches.
    @discardableResult
    public func evaluate<L: Sequence>(_ loader: L) -> Logs where L.Element == (Tensor, Tensor) {
        let batches = loader.map { ([$0.0], [$0.1]) }
        return evaluateBatches(batches.count) { batches[$0] }
    }

    /// The loop behind every `fit`. With `distribution` (under mpirun) the epoch's batches are this rank's share,
    /// and the steps, logs and callbacks follow `FitDistribution`'s rules.
    func runFit(epochs: Int, initialEpoch: Int, steps: Int, callbacks: [Callback], verbose: Int, modelDir: String? = nil,
                distribution: FitDistribution? = nil,
                epochBatches: () -> AnyIterator<([Tensor], [Tensor])>, validate: (() -> Logs)?) -> History {
        _ = ensureBuiltForTraining(epochBatches)
        _ = ensureOptimizer()
        var (initialEpoch, dirCallbacks) = prepareModelDir(modelDir, initialEpoch: initialEpoch)
        var callbacks = callbacks + dirCallbacks
        var verbose = verbose
        if let distribution {
            initialEpoch = distribution.broadcastState(weights, initialEpoch: initialEpoch)
            if !distribution.isRoot {
                verbose = 0
                callbacks = callbacks.filter { !$0.rankZeroOnly }
            }
        }
        self.distribution = distribution
        defer { self.distribution = nil }
        for c in callbacks { c.model = self }
        stopTraining = false
        history = History()
        var loop = TrainingLoop(progress: ProgressBar(epochs: epochs, steps: steps, verbose: verbose))
        for c in callbacks { c.onTrainBegin(logs: [:]) }
        let metrics = compiledMetrics
        let wantsBatch = !callbacks.isEmpty
        var lastLogs: Logs = [:]
        for epoch in initialEpoch..<epochs {
            for c in callbacks { c.onEpochBegin(epoch, logs: [:]) }
            train(true)
            for m in metrics { m.reset() }
            let summary = loop.runEpoch(
                epoch + 1, batches: epochBatches(),
                beforeBatch: wantsBatch ? { k in for c in callbacks { c.onBatchBegin(k) } } : nil,
                afterBatch: wantsBatch ? { k, l in for c in callbacks { c.onBatchEnd(k, loss: l) } } : nil,
                runningValues: { _ in metrics.map { ($0.name, $0.result()) } }
            ) { (batch: ([Tensor], [Tensor])) in
                let (xs, ys) = batch
                let (loss, preds) = self.step(xs, ys)
                updateMetrics(ys, preds)
                return (loss.item(), xs[0].shape.first ?? 1)
            }
            eval()
            var values: [(String, Double)] = [("loss", summary.meanLoss)]
            for m in metrics { values.append((m.name, m.result())) }
            if let validate {
                let v = validate()
                values.append(("val_loss", v["loss"] ?? .nan))
                for m in metrics { values.append(("val_" + m.name, v[m.name] ?? .nan)) }
            }
            if let distribution { values = distribution.average(values) }   // Horovod's MetricAverageCallback
            var logs: Logs = [:]
            for (k, v) in values { logs[k] = v }
            if let opt = optimizer, let g = opt.paramGroups.first { logs["lr"] = g.lr }
            loop.endEpoch(epoch + 1, summary, values)
            history.append(epoch, logs)
            for c in callbacks { c.onEpochEnd(epoch, logs: logs) }
            lastLogs = logs
            if let distribution { stopTraining = distribution.anyStop(stopTraining) }   // all ranks stop together
            if stopTraining { break }
        }
        eval()
        for c in callbacks { c.onTrainEnd(logs: lastLogs) }
        return history
    }

    /// Builds a deferred `Sequential` from the first batch's shape before the optimizer is made.
    func ensureBuiltForTraining(_ epochBatches: () -> AnyIterator<([Tensor], [Tensor])>) -> Bool {
        if graph != nil || !trainableWeights.isEmpty { return true }
        guard let (xs, _) = epochBatches().next() else { return false }
        noGrad { _ = invoke(xs.map { $0.narrow(0, start: 0, length: Swift.min(1, $0.shape[0])) }) }
        return true
    }

    func evaluateBatches(_ steps: Int, _ batch: (Int) -> ([Tensor], [Tensor])) -> Logs {
        let wasTraining = training
        eval()
        defer { if wasTraining { train(true) } }
        let metrics = metricSpecs.map { $0.make() }
        var lossSum = 0.0, seen = 0
        noGrad {
            for k in 0..<steps {
                let (xs, ys) = batch(k)
                let (preds, extra) = forwardWithLosses(xs)
                let n = xs[0].shape.first ?? 1
                if !losses.isEmpty || !extra.isEmpty || !extraLosses.isEmpty {
                    lossSum += totalLoss(preds, ys, extra: extra).item() * Double(n)
                }
                seen += n
                if let y = ys.first, let p = preds.first { for m in metrics { m.update(yTrue: y, yPred: p) } }
            }
        }
        var logs: Logs = ["loss": lossSum / Double(Swift.max(seen, 1))]
        for m in metrics { logs[m.name] = m.result() }
        return logs
    }

    /// The loss and metrics on arrays (`model.evaluate`), as logs (`["loss": ..., "accuracy": ...]`).
    @discardableResult
    public func evaluate(x: [Tensor], y: [Tensor], batchSize: Int = 32, verbose: Int = 0) -> Logs {
        let b = ArrayBatches(x, y, batchSize: batchSize, model: name)
        let logs = evaluateBatches(b.steps) { b.batch($0, order: nil) }
        if verbose > 0 { ProgressBar.standardOutput("\(b.steps)/\(b.steps)" + ProgressBar.format(logs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) + "\n") }
        return logs
    }

    /// `evaluate` for a single-input, single-output model.
    @discardableResult
    public func evaluate(x: Tensor, y: Tensor, batchSize: Int = 32, verbose: Int = 0) -> Logs {
        evaluate(x: [x], y: [y], batchSize: batchSize, verbose: verbose)
    }

    /// The model's outputs for every sample (`model.predict`), computed in batches without gradient, in inference mode.
    public func predict(x: [Tensor], batchSize: Int = 32) -> [Tensor] {
        let b = ArrayBatches(x, [], batchSize: batchSize, model: name)
        let wasTraining = training
        eval()
        defer { if wasTraining { train(true) } }
        var parts: [[Tensor]] = []
        noGrad { for k in 0..<b.steps { parts.append(predictBatch(b.batch(k, order: nil).0)) } }
        guard let first = parts.first else { return [] }
        return (0..<first.count).map { i in parts.count == 1 ? parts[0][i] : cat(parts.map { $0[i] }, dim: 0) }
    }

    /// `predict` for a single-input, single-output model.
    public func predict(_ x: Tensor, batchSize: Int = 32) -> Tensor { predict(x: [x], batchSize: batchSize)[0] }
}
