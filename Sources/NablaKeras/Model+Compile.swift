import NablaNN
import NablaOptim

extension Model {
    /// Configures training (`model.compile`): the optimizer (made over the trainable weights once
    /// the model is built), one loss per output (or nil when losses come from `addLoss`), and metrics
    /// computed on the first output.
    /// ```swift
    /// model.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
    /// model.compile(optimizer: .sgd(lr: 0.01, momentum: 0.9), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    /// ```
    ///
    /// With `jitCompile: true` (Keras' `jit_compile`), `fit` and `trainOnBatch` run each training step (forward, loss,
    /// backward, update) as one compiled graph (see `CompiledFunction`).
    public func compile(optimizer: OptimizerSpec = "rmsprop", loss: Loss? = nil, metrics: [MetricSpec] = [], jitCompile: Bool = false) {
        compile(optimizer: optimizer, losses: loss.map { [$0] } ?? [], metrics: metrics, jitCompile: jitCompile)
    }

    /// Configures training of a multi-output model: one loss per output, weighted by `lossWeights`.
    public func compile(optimizer: OptimizerSpec = "rmsprop", losses: [Loss], lossWeights: [Double]? = nil, metrics: [MetricSpec] = [],
                        jitCompile: Bool = false) {
        self.jitCompile = jitCompile
        compiledStep = nil
        compiledPredict = nil
        if let w = lossWeights { check(w.count == losses.count, "compile: \(losses.count) losses but \(w.count) loss weights") }
        optimizerSpec = optimizer
        self.optimizer = nil
        self.losses = losses
        self.lossWeights = lossWeights ?? [Double](repeating: 1, count: losses.count)
        metricSpecs = metrics
        compiledMetrics = metrics.map { $0.make() }
        trainableCache = nil
    }

    /// Configures training with an optimizer you made over `model.trainableWeights` yourself.
    public func compile(optimizer: Optimizer, loss: Loss? = nil, metrics: [MetricSpec] = [], jitCompile: Bool = false) {
        compile(optimizer: OptimizerSpec(name: optimizer.name) { _ in optimizer }, loss: loss, metrics: metrics, jitCompile: jitCompile)
        self.optimizer = optimizer
    }

    /// Adds a loss term computed at every training step (`add_loss`), e.g. a weight penalty.
    /// ```swift
    /// model.addLoss("l2") { 1e-4 * (dense.kernel! * dense.kernel!).sum() }
    /// ```
    public func addLoss(_ name: String = "added_loss", _ term: @escaping () -> Tensor) {
        extraLosses.append((name, term))
    }

    /// Adds a symbolic loss computed by the graph from the model's inputs (`add_loss(tensor)`): its
    /// mean is added to the training loss, so a model can train with `compile(optimizer:)` and no `loss`.
    public func addLoss(_ loss: SymbolicTensor, file: StaticString = #fileID, line: UInt = #line) {
        guard let g = graph else { nablaFail("addLoss: model \(name) has no graph; add symbolic losses to functional models", file: file, line: line) }
        do { lossGraph = try Graph(inputs: g.inputs, outputs: (lossGraph?.outputs ?? g.outputs) + [loss]) }
        catch { nablaFail("addLoss: \(error)", file: file, line: line) }
    }

    func ensureOptimizer() -> Optimizer {
        if let o = optimizer { return o }
        guard let spec = optimizerSpec else { nablaFail("Model \(name): call compile(optimizer:loss:metrics:) before training") }
        let params = trainableWeights
        check(!params.isEmpty, "Model \(name): has no trainable weights (is it built? call it once or give Input shapes)")
        let o = spec.make(params)
        optimizer = o
        return o
    }

    /// Forward pass with the symbolic losses appended (when any).
    func forwardWithLosses(_ xs: [Tensor]) -> (preds: [Tensor], extra: [Tensor]) {
        if let lg = lossGraph {
            let outs = lg.run(xs)
            let n = graph?.outputs.count ?? 0
            return (Array(outs[..<n]), Array(outs[n...]))
        }
        return (invoke(xs), [])
    }

    /// The total training loss for predictions and targets.
    func totalLoss(_ preds: [Tensor], _ ys: [Tensor], extra: [Tensor]) -> Tensor {
        var total: Tensor? = nil
        if !losses.isEmpty {
            check(ys.count == losses.count, "Model \(name): \(losses.count) losses need \(losses.count) targets, got \(ys.count)")
            check(preds.count == losses.count, "Model \(name): \(losses.count) losses for \(preds.count) outputs")
            for i in 0..<losses.count {
                var l = losses[i](ys[i], preds[i])
                if lossWeights[i] != 1 { l = l * lossWeights[i] }
                total = total.map { $0 + l } ?? l
            }
        }
        for e in extra { let m = e.mean(); total = total.map { $0 + m } ?? m }
        for (_, f) in extraLosses { let t = f(); total = total.map { $0 + t } ?? t }
        if let r = regularizationLoss() { total = total.map { $0 + r } ?? r }
        guard let total else { nablaFail("Model \(name): no loss; pass loss: to compile or use addLoss") }
        return total
    }

    /// One optimisation step on a batch; returns the loss and the (detached) predictions.
    func step(_ xs: [Tensor], _ ys: [Tensor]) -> (loss: Tensor, preds: [Tensor]) {
        // Under mpirun the gradients are averaged on the host between backward and the update: the step runs eagerly.
        guard jitCompile && distribution == nil else { return eagerStep(xs, ys) }
        let opt = ensureOptimizer()   // made before tracing, so the compiled step updates it
        _ = opt
        if compiledStep == nil {
            compiledStep = CompiledFunction(name: "\(name) train step", dynamic: jitDynamic) { [unowned self] all in
                let n = all.count - self.stepTargetCount
                let (loss, preds) = self.eagerStep(Array(all[..<n]), Array(all[n...]))
                return [loss] + preds
            }
        }
        stepTargetCount = ys.count
        let out = compiledStep!.call(xs + ys)
        return (out[0], Array(out.dropFirst()))
    }

    /// The compiled functions' `dynamic:`: true when the model's inputs have a free dim (a functional model's `Input`
    /// leaves the batch free), so a last partial batch and `predict` on any batch size specialise the graph traced
    /// for the first size instead of tracing again; nil (automatic, which unifies the same way) otherwise.
    var jitDynamic: Bool? {
        guard let g = graph, !g.inputs.isEmpty, g.inputs.allSatisfy({ $0.shape.contains(-1) }) else { return nil }
        return true
    }

    /// The model's outputs for one batch in `predict`: the compiled forward pass under `jitCompile` (traced once;
    /// other batch sizes specialise it), else the eager one.
    func predictBatch(_ xs: [Tensor]) -> [Tensor] {
        guard jitCompile && distribution == nil else { return invoke(xs) }
        if compiledPredict == nil {
            compiledPredict = CompiledFunction(name: "\(name) predict", warmup: 0, dynamic: jitDynamic) { [unowned self] xs in
                self.invoke(xs)
            }
        }
        return compiledPredict!.call(xs)
    }

    /// One eager training step: forward, loss, backward, update, constraints.
    func eagerStep(_ xs: [Tensor], _ ys: [Tensor]) -> (loss: Tensor, preds: [Tensor]) {
        let opt = ensureOptimizer()
        opt.zeroGrad()
        let (preds, extra) = forwardWithLosses(xs)
        let loss = totalLoss(preds, ys, extra: extra)
        loss.backward()
        distribution?.averageGradients(trainableWeights)   // under mpirun: the mean over the ranks
        opt.step()
        applyConstraints()
        return (loss.detached(), preds)
    }

    func updateMetrics(_ ys: [Tensor], _ preds: [Tensor]) {
        guard !compiledMetrics.isEmpty, let y = ys.first, let p = preds.first else { return }
        let pd = p.detached()
        for m in compiledMetrics { m.update(yTrue: y, yPred: pd) }
    }

    /// Runs one training step on one batch (`train_on_batch`) and returns its loss and metrics.
    @discardableResult
    public func trainOnBatch(x: [Tensor], y: [Tensor]) -> Logs {
        train(true)
        defer { eval() }
        for m in compiledMetrics { m.reset() }
        let (loss, preds) = step(x, y)
        updateMetrics(y, preds)
        var logs: Logs = ["loss": loss.item()]
        for m in compiledMetrics { logs[m.name] = m.result() }
        return logs
    }

    /// `trainOnBatch` for a single-input, single-output model.
    @discardableResult
    public func trainOnBatch(x: Tensor, y: Tensor) -> Logs { trainOnBatch(x: [x], y: [y]) }
}
