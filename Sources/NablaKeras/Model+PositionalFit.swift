// Keras' positional spellings, `model.fit(x, y, epochs=5)`, `model.evaluate(x, y)`, `model.predict(x)`, the
// `[Tensor]` input forms of `fit` for `evaluate` too, and a target-free `fit(x)` for models whose loss comes from
// `addLoss`.

extension Model {
    /// `model.fit(x, y, epochs=5, batch_size=32)` with the arrays positional; as `fit(x:y:...)`.
    @discardableResult
    public func fit(_ x: Tensor, _ y: Tensor, epochs: Int = 1, batchSize: Int = 32, validationData: (Tensor, Tensor)? = nil,
                    validationSplit: Double = 0, shuffle: Bool = true, callbacks: [Callback] = [], verbose: Int = 1,
                    initialEpoch: Int = 0, modelDir: String? = nil) -> History {
        fit(x: x, y: y, epochs: epochs, batchSize: batchSize, validationData: validationData, validationSplit: validationSplit,
            shuffle: shuffle, callbacks: callbacks, verbose: verbose, initialEpoch: initialEpoch, modelDir: modelDir)
    }

    /// `model.fit([x1, x2], y)`: several inputs, one output, positional; as `fit(x:y:...)`.
    @discardableResult
    public func fit(_ x: [Tensor], _ y: Tensor, epochs: Int = 1, batchSize: Int = 32, validationData: ([Tensor], Tensor)? = nil,
                    validationSplit: Double = 0, shuffle: Bool = true, callbacks: [Callback] = [], verbose: Int = 1) -> History {
        fit(x: x, y: y, epochs: epochs, batchSize: batchSize, validationData: validationData, validationSplit: validationSplit,
            shuffle: shuffle, callbacks: callbacks, verbose: verbose)
    }

    /// `model.fit([x1, x2], [y1, y2])`: several inputs and outputs, positional; as `fit(x:y:...)`.
    @discardableResult
    public func fit(_ x: [Tensor], _ y: [Tensor], epochs: Int = 1, batchSize: Int = 32,
                    validationData: (x: [Tensor], y: [Tensor])? = nil, validationSplit: Double = 0, shuffle: Bool = true,
                    callbacks: [Callback] = [], verbose: Int = 1, initialEpoch: Int = 0, modelDir: String? = nil) -> History {
        fit(x: x, y: y, epochs: epochs, batchSize: batchSize, validationData: validationData, validationSplit: validationSplit,
            shuffle: shuffle, callbacks: callbacks, verbose: verbose, initialEpoch: initialEpoch, modelDir: modelDir)
    }

    /// `model.fit(x)` with no targets, for a model whose loss comes from `addLoss` (compiled without `loss:`).
    ///
    /// ```swift
    /// model.addLoss(mse(reconstruction, inputs))
    /// model.compile(optimizer: "adam")
    /// model.fit(x: xTrain, epochs: 5)
    /// ```
    @discardableResult
    public func fit(x: Tensor, epochs: Int = 1, batchSize: Int = 32, validationSplit: Double = 0, shuffle: Bool = true,
                    callbacks: [Callback] = [], verbose: Int = 1) -> History {
        fit(x: [x], epochs: epochs, batchSize: batchSize, validationSplit: validationSplit, shuffle: shuffle,
            callbacks: callbacks, verbose: verbose)
    }

    /// `model.fit([x1, x2])` with no targets, for a model whose loss comes from `addLoss`.
    @discardableResult
    public func fit(x: [Tensor], epochs: Int = 1, batchSize: Int = 32, validationSplit: Double = 0, shuffle: Bool = true,
                    callbacks: [Callback] = [], verbose: Int = 1) -> History {
        check(losses.isEmpty, "fit: model \(name) was compiled with \(losses.count) loss(es), which need targets: pass y")
        return fit(x: x, y: [Tensor](), epochs: epochs, batchSize: batchSize, validationSplit: validationSplit, shuffle: shuffle,
                   callbacks: callbacks, verbose: verbose)
    }

    /// `model.fit(x)` with no targets, positional (`addLoss` models).
    @discardableResult
    public func fit(_ x: Tensor, epochs: Int = 1, batchSize: Int = 32, validationSplit: Double = 0, shuffle: Bool = true,
                    callbacks: [Callback] = [], verbose: Int = 1) -> History {
        fit(x: x, epochs: epochs, batchSize: batchSize, validationSplit: validationSplit, shuffle: shuffle,
            callbacks: callbacks, verbose: verbose)
    }

    /// `model.evaluate(x, y)` with the arrays positional; as `evaluate(x:y:...)`.
    @discardableResult
    public func evaluate(_ x: Tensor, _ y: Tensor, batchSize: Int = 32, verbose: Int = 0) -> Logs {
        evaluate(x: x, y: y, batchSize: batchSize, verbose: verbose)
    }

    /// `model.evaluate([x1, x2], y)`: several inputs, one output (the same form `fit` takes).
    @discardableResult
    public func evaluate(x: [Tensor], y: Tensor, batchSize: Int = 32, verbose: Int = 0) -> Logs {
        evaluate(x: x, y: [y], batchSize: batchSize, verbose: verbose)
    }

    /// `model.evaluate([x1, x2], y)` positional.
    @discardableResult
    public func evaluate(_ x: [Tensor], _ y: Tensor, batchSize: Int = 32, verbose: Int = 0) -> Logs {
        evaluate(x: x, y: [y], batchSize: batchSize, verbose: verbose)
    }

    /// `model.evaluate([x1, x2], [y1, y2])` positional.
    @discardableResult
    public func evaluate(_ x: [Tensor], _ y: [Tensor], batchSize: Int = 32, verbose: Int = 0) -> Logs {
        evaluate(x: x, y: y, batchSize: batchSize, verbose: verbose)
    }

    /// `model.evaluate(x)` with no targets, for a model whose loss comes from `addLoss`.
    @discardableResult
    public func evaluate(x: Tensor, batchSize: Int = 32, verbose: Int = 0) -> Logs {
        check(losses.isEmpty, "evaluate: model \(name) was compiled with \(losses.count) loss(es), which need targets: pass y")
        return evaluate(x: [x], y: [Tensor](), batchSize: batchSize, verbose: verbose)
    }

    /// `model.predict(x)` with the input labelled; as `predict(_:batchSize:)`.
    public func predict(x: Tensor, batchSize: Int = 32) -> Tensor { predict(x, batchSize: batchSize) }

    /// `model.predict([x1, x2])` positional; as `predict(x:batchSize:)`.
    public func predict(_ x: [Tensor], batchSize: Int = 32) -> [Tensor] { predict(x: x, batchSize: batchSize) }
}
