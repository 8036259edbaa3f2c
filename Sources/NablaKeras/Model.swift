import NablaNN
import NablaOptim

/// A Keras model (`keras.Model`): a functional graph of layers from `Input`s to outputs, trained
/// with `compile` and `fit`.
///
/// ```swift
/// let inputs = Input(shape: [784])
/// var x = Dense(64, activation: .relu)(inputs)
/// x = Dense(64, activation: .relu)(x)
/// let model = Model(inputs: inputs, outputs: Dense(10, activation: .softmax)(x))
/// // A model is a layer: calling it on a new input reuses its weights.
/// let x2 = Input(shape: [784])
/// let model1 = Model(inputs: x2, outputs: model(x2))
/// ```
/// Subclass it and override `call(_:training:)` for a subclassed model (layers found by reflection).
open class Model: Layer {
    /// The functional graph (nil for subclassed models and unbuilt `Sequential`s): layer calls as nodes, and what
    /// they compute as the compile IR's op kinds (`graph.trace`, which `print(graph)`, `graph.dot()` and the
    /// `TensorBoard` callback show).
    public internal(set) var graph: Graph?
    var graphLayers: [Layer] = []

    // Training configuration, set by `compile`.
    var optimizerSpec: OptimizerSpec?
    /// The optimizer `compile` made (created at the first training step when the model is not yet built).
    public internal(set) var optimizer: Optimizer?
    var losses: [Loss] = []
    var lossWeights: [Double] = []
    var metricSpecs: [MetricSpec] = []
    var compiledMetrics: [Metric] = []
    var extraLosses: [(String, () -> Tensor)] = []
    /// Whether `fit` runs each training step as a compiled graph (`compile(..., jitCompile: true)`).
    public internal(set) var jitCompile = false
    /// The compiled training step when `jitCompile` is on (made at the first step after `compile`).
    public internal(set) var compiledStep: CompiledFunction?
    /// The compiled forward pass `predict` runs when `jitCompile` is on (made at the first `predict` after `compile`).
    public internal(set) var compiledPredict: CompiledFunction?
    /// How many of the compiled step's arguments are targets (the rest are inputs).
    var stepTargetCount = 0
    var lossGraph: Graph?
    var trainableCache: [Tensor]?
    /// Set by a callback to end `fit` after the current epoch (`model.stop_training`).
    public var stopTraining = false
    /// The `History` of the last `fit`.
    public internal(set) var history = History()
    /// Whether `fit` trains data-parallel when the process is one of several ranks started by `mpirun` (default
    /// true, as `nabla train` does): rank 0's weights broadcast at the start, gradients averaged at each step, each
    /// rank a share of the data, only rank 0 printing and writing files, epoch logs averaged. Set it to false to
    /// train each rank's model on its own (`Model+Distributed.swift`).
    public var dataParallel = true
    /// The running `fit`'s ranks when it trains data-parallel, else nil.
    var distribution: FitDistribution?

    /// A functional model from placeholders to outputs; traps with a clear message when an output
    /// needs an input that is not listed.
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor], name: String? = nil,
                file: StaticString = #fileID, line: UInt = #line) {
        super.init(name: name ?? LayerNames.next("model"))
        do { try setGraph(Graph(inputs: inputs, outputs: outputs)) } catch { nablaFail("Model \(self.name): \(error)", file: file, line: line) }
    }

    /// A functional model with one input and one output (`Model(inputs: x, outputs: y)`).
    public convenience init(inputs: SymbolicTensor, outputs: SymbolicTensor, name: String? = nil,
                            file: StaticString = #fileID, line: UInt = #line) {
        self.init(inputs: [inputs], outputs: [outputs], name: name, file: file, line: line)
    }

    /// A model with one input and several outputs.
    public convenience init(inputs: SymbolicTensor, outputs: [SymbolicTensor], name: String? = nil,
                            file: StaticString = #fileID, line: UInt = #line) {
        self.init(inputs: [inputs], outputs: outputs, name: name, file: file, line: line)
    }

    /// A model with several inputs and one output.
    public convenience init(inputs: [SymbolicTensor], outputs: SymbolicTensor, name: String? = nil,
                            file: StaticString = #fileID, line: UInt = #line) {
        self.init(inputs: inputs, outputs: [outputs], name: name, file: file, line: line)
    }

    /// A model without a graph: subclass it and override `call(_:training:)` (Keras' subclassing API).
    public override init(name: String? = nil) { super.init(name: name) }

    func setGraph(_ g: Graph) {
        graph = g
        var seen = Set<ObjectIdentifier>()
        graphLayers = []
        for n in g.nodes {
            if let l = n.owner as? Layer, seen.insert(ObjectIdentifier(l)).inserted { graphLayers.append(l) }
        }
        markBuilt(g.inputs.map(\.shape))
        trainableCache = nil
        lossGraph = nil
    }

    /// `Functional` for graph models, `Sequential` for sequential ones, the type name for subclasses.
    open override var className: String {
        if type(of: self) == Model.self { return graph == nil ? "Model" : "Functional" }
        return super.className
    }

    /// The layers in graph order (each shared layer once), placeholders excluded.
    public var layers: [Layer] {
        if graph != nil { return graphLayers }
        return namedChildren().compactMap { $0.1 as? Layer }
    }

    /// The layer named `name` (`get_layer(name)`); traps naming the known layers when absent.
    public func getLayer(_ name: String) -> Layer {
        if let l = layers.first(where: { $0.name == name }) { return l }
        nablaFail("Model \(self.name): no layer named \(name); layers are [\(layers.map(\.name).joined(separator: ", "))]")
    }

    /// The layer at `index` in `layers`.
    public func getLayer(index: Int) -> Layer {
        let ls = layers
        check(index >= 0 && index < ls.count, "Model \(name): layer index \(index) out of range 0..<\(ls.count)")
        return ls[index]
    }

    /// The graph's inputs (`model.inputs`).
    public var inputs: [SymbolicTensor] {
        guard let g = graphOrBuild() else { nablaFail("Model \(name): has no graph (not built yet)") }
        return g.inputs
    }
    /// The graph's first input (`model.input`).
    open override var input: SymbolicTensor { inputs[0] }
    /// The graph's outputs (`model.outputs`).
    open override var outputs: [SymbolicTensor] {
        guard let g = graphOrBuild() else { nablaFail("Model \(name): has no graph (not built yet)") }
        return g.outputs
    }
    /// The graph's first output (`model.output`).
    open override var output: SymbolicTensor { outputs[0] }

    /// The graph, building it first where the model can (a `Sequential` whose input shape is known).
    func graphOrBuild() -> Graph? { graph }

    /// The graph run for a model used as a layer.
    open override var subgraph: Graph? { graph }

    /// Runs the graph (functional models); subclassed models override this.
    open override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        guard let g = graphOrBuild(for: inputs) else {
            check(inputs.count == 1, "Model \(name): subclassed models take one input; override call(_:training:) with [Tensor] for several")
            return [call(inputs[0], training: training)]
        }
        return g.run(inputs)
    }

    /// Single-input models run their graph; subclassed models override this.
    open override func call(_ input: Tensor, training: Bool) -> Tensor {
        guard let g = graphOrBuild(for: [input]) else {
            nablaFail("Model \(name): a subclassed model must override call(_:training:)")
        }
        let out = g.run([input])
        return out[0]
    }

    /// The graph for concrete inputs (a `Sequential` builds from the first batch's shape).
    func graphOrBuild(for inputs: [Tensor]) -> Graph? { graph }

    /// The graph's output specs, after checking the inputs fit the graph's inputs.
    open override func computeOutputSpecs(_ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        guard let g = graphOrBuild() else { return try super.computeOutputSpecs(inputs) }
        return g.outputs.map(\.spec)
    }

    /// Inputs must match the graph's inputs in number, rank and fixed sizes.
    open override func validate(_ shapes: [[Int]]) throws(ShapeError) {
        guard let g = graphOrBuild() else { return }
        guard shapes.count == g.inputs.count else {
            throw ShapeError(op: "model \(name)", "expected \(g.inputs.count) inputs, got \(shapes.count)")
        }
        for (s, x) in zip(shapes, g.inputs) {
            let e = x.shape
            let ok = s.count == e.count && zip(s, e).allSatisfy { $0 < 0 || $1 < 0 || $0 == $1 }
            if !ok { throw ShapeError(op: "model \(name)", "expected input \(TensorSpec.format(e)), got \(TensorSpec.format(s))") }
        }
    }

    /// The model's layers as children (graph models), or the reflected stored properties (subclasses).
    open override func namedChildren() -> [(String, Module)] {
        if graph != nil { return graphLayers.map { ($0.name, $0) } }
        return super.namedChildren()
    }
}
