import NablaNN

/// Whether a saved model is being rebuilt (weights are then bounded by `ReaderLimits`).
enum ModelLoading {
    @TaskLocal static var active = false
}

/// The base class of Keras layers and models (`keras.layers.Layer`); a graph node calls it as one op
/// (`GraphCallable`).
///
/// A layer creates its weights in `build(inputShape:)` from the shape of its first input (deferred
/// initialisation), then computes in `call(_:training:)`. It is called either on concrete tensors
/// (eager: `layer(x)`) or on symbolic tensors (`layer(Input(shape: [784]))`), which adds a node to
/// the graph a functional `Model` runs. Layers are NablaNN `Module`s, so `parameters()`,
/// `stateDict()`, `train()`/`eval()` work on them.
/// ```swift
/// final class Scale: Layer {
///     var w: Tensor!
///     override func build(inputShape: [Int]) { w = addWeight("w", shape: [inputShape.last!], initializer: .ones) }
///     override func call(_ x: Tensor, training: Bool) -> Tensor { x * w }
/// }
/// ```
open class Layer: Module, GraphCallable {
    /// The layer's name, unique per process unless given (`dense_1`, `dense_2`, ...).
    public let name: String
    /// Whether `build` has run.
    public private(set) var built = false
    /// The input shapes `build` saw (batch dimension `-1`).
    public private(set) var buildInputShapes: [[Int]] = []
    var weightEntries: [(String, Tensor)] = []
    /// Penalties on weights, by weight name, added to the training loss (Keras' `kernel_regularizer=`); see
    /// `Layer+Regularization.swift`.
    var weightRegularizers: [(weight: String, regularizer: Regularizer)] = []
    /// Constraints on weights, by weight name, applied after every optimizer step (Keras' `kernel_constraint=`).
    var weightConstraints: [(weight: String, constraint: Constraint, axes: [Int])] = []
    /// `input_shape=` given to a layer whose initializer has no such parameter (`Flatten(inputShape:)`).
    var inputShapeArgument: [Int]? = nil
    var trainableFlag = true
    private weak var firstNode: GraphNode?

    /// Creates a layer named `name`, or `<type>_<n>` (`dense_3`) when nil.
    public init(name: String? = nil) {
        self.name = name ?? LayerNames.next(LayerNames.snake(String(describing: type(of: self))))
        super.init()
        train(false)   // Keras layers run in inference mode unless `fit` (or `train()`) says otherwise
    }

    /// The Keras class name shown by `summary()` (`Dense`, `Functional`).
    open var className: String { String(describing: type(of: self)) }

    /// The per-sample input shape given at construction (Keras' `input_shape=`), which lets a
    /// `Sequential` build before seeing data; nil when not given.
    open var declaredInputShape: [Int]? { inputShapeArgument }

    /// Configuration shown in graph listings (`units=64`); layers override it.
    open var config: [(String, GraphAttribute)] { [] }

    /// Everything needed to recreate the layer (Keras' `get_config()`), saved by `Model.save`; the
    /// default is `config`. Layers whose `config` leaves out a constructor argument override it, and
    /// custom layers override it with what their `LayerRegistry` factory reads back.
    open func getConfig() throws(ModelSerializationError) -> [(String, GraphAttribute)] { config }

    // MARK: overridable

    /// Creates the weights for inputs of `inputShape` (batch dimension `-1`); called once, before the first `call`.
    open func build(inputShape: [Int]) {}

    /// Throws when `build(inputShape:)` could not build for inputs of `inputShape` (batch dimension `-1`): a wrong
    /// rank, an unknown feature size, an axis out of range, weights over `ReaderLimits.maxElements` in a loaded
    /// model. Called before `build` on symbolic inputs, so that graph builders and `loadModel` report the problem
    /// instead of stopping; layers whose `build` has preconditions override it. The default accepts any shape.
    open func checkBuild(inputShape: [Int]) throws(ShapeError) {}

    /// `checkBuild(inputShape:)` for several inputs; the default checks the only input.
    open func checkBuild(inputShapes: [[Int]]) throws(ShapeError) {
        if inputShapes.count == 1 { try checkBuild(inputShape: inputShapes[0]) }
    }

    /// Throws when a weight of `shape` would exceed `ReaderLimits.maxElements` while a saved model is being
    /// rebuilt (`loadModel`, `modelFromJSON`); does nothing for models built in code.
    public func checkWeightSize(_ weight: String, _ shape: [Int]) throws(ShapeError) {
        guard ModelLoading.active else { return }
        if let problem = ReaderLimits.current.shapeProblem(shape) {
            throw ShapeError(op: "layer \(name)", "weight \(weight): \(problem)")
        }
    }

    /// Creates the weights for several inputs; the default calls `build(inputShape:)` with the only input.
    open func build(inputShapes: [[Int]]) {
        if inputShapes.count == 1 { build(inputShape: inputShapes[0]) }
    }

    /// The computation on one tensor; single-input layers override this.
    open func call(_ input: Tensor, training: Bool) -> Tensor {
        nablaFail("layer \(name) (\(className)): call(_:training:) is not overridden")
    }

    /// The computation on several tensors; multi-input or multi-output layers override this.
    open func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        check(inputs.count == 1, "layer \(name) (\(className)): expected 1 input, got \(inputs.count)")
        return [call(inputs[0], training: training)]
    }

    /// The output specs for input specs, or a `ShapeError` naming the layer (Keras' `compute_output_shape`).
    ///
    /// The default traces `call` (with `training: false`) symbolically: its ops' shape rules give the shapes and no
    /// kernel runs (`Graph.inferSpecs`); layers with a rule of their own override it.
    open func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        Graph.inferSpecs(inputs) { self.call($0, training: false) }
    }

    /// Checks inputs against the shapes the layer was built for; throws `"layer dense_2: expected input [*, 128], got [*, 64]"`.
    ///
    /// The default, for layers with weights, requires the built rank and the built last (feature) dimension.
    open func validate(_ shapes: [[Int]]) throws(ShapeError) {
        guard !weightEntries.isEmpty, shapes.count == buildInputShapes.count else { return }
        for (s, b) in zip(shapes, buildInputShapes) {
            let lastOK = s.last == b.last || (s.last ?? 0) < 0 || (b.last ?? 0) < 0
            if s.count != b.count || !lastOK {
                var expected = [Int](repeating: -1, count: b.count)
                if let l = b.last, !expected.isEmpty { expected[expected.count - 1] = l }
                throw ShapeError(op: "layer \(name)", "expected input \(TensorSpec.format(expected)), got \(TensorSpec.format(s))")
            }
        }
    }

    // MARK: weights

    /// Creates a weight (`add_weight`): a trainable parameter, or a non-trainable buffer (BatchNorm statistics).
    @discardableResult
    public func addWeight(_ name: String, shape: [Int], initializer: Initializer = .glorotUniform, trainable: Bool = true,
                          dtype: DType = .float32) -> Tensor {
        let t = initializer.make(shape, dtype: dtype)
        let w = trainable ? Parameter(t, requiresGrad: trainableFlag) : Buffer(t)
        weightEntries.append((name, w))
        return w
    }

    /// Adopts an existing tensor as a weight under `name` (for layers wrapping a NablaNN module).
    public func trackWeight(_ name: String, _ tensor: Tensor) {
        weightEntries.append((name, tensor))
    }

    /// Whether the layer's weights are trained; setting it freezes or unfreezes them and those of
    /// every sublayer (a model set non-trainable freezes all its layers, as Keras).
    open var trainable: Bool {
        get { trainableFlag }
        set {
            for (_, m) in namedModules() {
                guard let l = m as? Layer else { continue }
                l.trainableFlag = newValue
                for (_, w) in l.weightEntries where w.isParameter { w.requiresGrad = newValue }
            }
        }
    }

    /// This layer's own weights, as NablaNN sees them (`kernel`, `bias`, ...).
    open override func namedDirectTensors() -> [(String, Tensor)] { weightEntries }

    /// All weights, trainable first (`layer.weights`).
    public var weights: [Tensor] { trainableWeights + nonTrainableWeights }
    /// Weights updated by training.
    public var trainableWeights: [Tensor] {
        var out: [Tensor] = []
        for (_, m) in namedModules() {
            guard let l = m as? Layer else { continue }
            for (_, w) in l.weightEntries where w.isParameter && l.trainableFlag { out.append(w) }
        }
        return dedup(out)
    }
    /// Weights not updated by the optimizer (statistics, frozen layers).
    public var nonTrainableWeights: [Tensor] {
        var out: [Tensor] = []
        for (_, m) in namedModules() {
            guard let l = m as? Layer else { continue }
            for (_, w) in l.weightEntries where !(w.isParameter && l.trainableFlag) { out.append(w) }
        }
        return dedup(out)
    }
    private func dedup(_ ts: [Tensor]) -> [Tensor] {
        var seen = Set<ObjectIdentifier>()
        return ts.filter { seen.insert(ObjectIdentifier($0)).inserted }
    }
    /// Copies of the weights (`get_weights()`).
    public func getWeights() -> [Tensor] { noGrad { weights.map { $0.clone() } } }
    /// Overwrites the weights in place (`set_weights`), same order and shapes as `getWeights()`.
    public func setWeights(_ values: [Tensor]) {
        let ws = weights
        check(ws.count == values.count, "layer \(name): setWeights expected \(ws.count) tensors, got \(values.count)")
        noGrad { for (w, v) in zip(ws, values) {
            check(w.shape == v.shape, "layer \(name): setWeights shape mismatch, \(w.shape) vs \(v.shape)")
            w.copy_(v)
        } }
    }
    /// Number of scalars in all weights (`count_params()`).
    public func countParams() -> Int { weights.reduce(0) { $0 + $1.count } }

    // MARK: calling

    /// Marks the layer built for `shapes` without calling `build` (models built from a graph).
    func markBuilt(_ shapes: [[Int]]) { buildInputShapes = shapes; built = true }

    /// The dtype of the layer's input when it starts a `Sequential` (int64 for `Embedding`).
    open var inputDType: DType { .float32 }

    func ensureBuilt(_ shapes: [[Int]]) {
        guard !built else { return }
        build(inputShapes: shapes)
        buildInputShapes = shapes.map { s in s.isEmpty ? s : [-1] + s.dropFirst() }
        built = true
    }

    /// Builds (if needed) and runs the layer on concrete tensors with the current training mode.
    public func invoke(_ inputs: [Tensor]) -> [Tensor] {
        if !built { ensureBuilt(inputs.map(\.shape)) }
        return call(inputs, training: training)
    }

    /// `call(x, training:)` with the module's training mode; builds on first use.
    open override func forward(_ input: Tensor) -> Tensor {
        if !built { ensureBuilt([input.shape]) }
        return call(input, training: training)
    }

    /// Runs a multi-input layer on concrete tensors (`Concatenate()([a, b])`).
    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        let out = invoke(inputs)
        check(out.count == 1, "layer \(name): has \(out.count) outputs; use invoke(_:)")
        return out[0]
    }

    /// Applies the layer to symbolic tensors, adding a node to the graph; throws a `ShapeError`
    /// naming the layer when the inputs do not fit.
    public func call(symbolic inputs: [SymbolicTensor]) throws(ShapeError) -> [SymbolicTensor] {
        let shapes = inputs.map(\.shape)
        if built { try validate(shapes) } else {
            try checkBuild(inputShapes: shapes)
            ensureBuilt(shapes)
        }
        let specs = try computeOutputSpecs(inputs.map(\.spec))
        let outs = GraphNode.call(self, name: name, attributes: config, inputs: inputs, outputSpecs: specs)
        if firstNode == nil { firstNode = outs.first?.node }
        return outs
    }

    /// The graph this layer runs, for models used as layers (nil for plain layers).
    open var subgraph: Graph? { nil }

    /// Applies the layer to a symbolic tensor (functional API); traps with the layer's shape error.
    public func callAsFunction(_ x: SymbolicTensor, file: StaticString = #fileID, line: UInt = #line) -> SymbolicTensor {
        single(Graph.orTrap(file: file, line: line) { () throws(ShapeError) in try call(symbolic: [x]) })
    }

    /// Applies a multi-input layer to symbolic tensors (`Concatenate()([a, b])`).
    public func callAsFunction(_ xs: [SymbolicTensor], file: StaticString = #fileID, line: UInt = #line) -> SymbolicTensor {
        single(Graph.orTrap(file: file, line: line) { () throws(ShapeError) in try call(symbolic: xs) })
    }

    private func single(_ outs: [SymbolicTensor]) -> SymbolicTensor {
        check(outs.count == 1, "layer \(name): has \(outs.count) outputs; use call(symbolic:)")
        return outs[0]
    }

    /// The output of the layer's first symbolic call (`layer.output`), for intermediate models.
    open var output: SymbolicTensor {
        guard let n = firstNode else { nablaFail("layer \(name): has no output yet; call it on a symbolic tensor first") }
        return n.output(0)
    }
    /// All outputs of the layer's first symbolic call.
    open var outputs: [SymbolicTensor] {
        guard let n = firstNode else { nablaFail("layer \(name): has no output yet; call it on a symbolic tensor first") }
        return n.outputs
    }
    /// The input of the layer's first symbolic call (`layer.input`).
    open var input: SymbolicTensor {
        guard let n = firstNode, let x = n.inputs.first else { nablaFail("layer \(name): has no input yet; call it on a symbolic tensor first") }
        return x
    }
    /// The output shape of the first symbolic call (batch dimension `-1`).
    public var outputShape: [Int] { output.shape }

    /// `Dense(name: dense_1)` and the module tree.
    open override var extraDescription: String { "name=\(name)" }
}
