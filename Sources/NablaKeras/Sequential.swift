import NablaNN

/// A linear stack of layers (`keras.Sequential`), built as a functional graph as soon as its input
/// shape is known: from `Input(shape:)`, from the first layer's `inputShape:`, or from the first
/// batch it sees (deferred build).
/// ```swift
/// let model = Sequential()
/// model.add(Dense(64, activation: .relu, inputShape: [784]))
/// model.add(Dense(10, activation: .softmax))
/// model.summary()
/// ```
public final class Sequential: Model {
    private var stack: [Layer] = []
    private var inputSpec: TensorSpec?

    /// An empty model, or one with `layers`.
    public init(_ layers: [Layer] = [], name: String? = nil) {
        super.init(name: name ?? LayerNames.next("sequential"))
        for l in layers { add(l) }
    }

    /// `Sequential`.
    public override var className: String { "Sequential" }

    /// Appends a layer; when the model is built, the layer is applied at once, so an incompatible
    /// layer traps here with its shape error (`layer dense_2: expected input [*, 128], got [*, 64]`).
    public func add(_ layer: Layer, file: StaticString = #fileID, line: UInt = #line) {
        stack.append(layer)
        if graph == nil, stack.count == 1, inputSpec == nil, let s = layer.declaredInputShape {
            inputSpec = TensorSpec(shape: [-1] + s, dtype: layer.inputDType)
        }
        if let g = graph {
            let y = Graph.orTrap(file: file, line: line) { () throws(ShapeError) in try layer.call(symbolic: g.outputs) }
            setGraph(Graph.orTrap(file: file, line: line) { () throws(ShapeError) in
                do { return try Graph(inputs: g.inputs, outputs: y) } catch { throw ShapeError(op: "Sequential \(name)", (error as? GraphError)?.message ?? "\(error)") }
            })
        } else if inputSpec != nil {
            buildGraph(file: file, line: line)
        }
    }

    /// Starts the model with an input (`model.add(Input(shape: [784]))`).
    public func add(_ input: SymbolicTensor, file: StaticString = #fileID, line: UInt = #line) {
        check(stack.isEmpty && graph == nil, "Sequential \(name): an Input can only be added first")
        check(input.isPlaceholder, "Sequential \(name): add(_:) takes an Input(shape:), got \(input)")
        inputSpec = input.spec
    }

    /// Removes the last layer (`pop()`).
    public func pop() {
        check(!stack.isEmpty, "Sequential \(name): pop() on an empty model")
        stack.removeLast()
        graph = nil
        if inputSpec != nil && !stack.isEmpty { buildGraph(file: #fileID, line: #line) }
    }

    /// Builds the graph for per-sample input shape `inputShape` (batch excluded), as `model.build`.
    public func build(inputShape: [Int], dtype: DType = .float32) {
        inputSpec = TensorSpec(shape: [-1] + inputShape, dtype: dtype)
        buildGraph(file: #fileID, line: #line)
    }

    private func buildGraph(file: StaticString, line: UInt) {
        guard let spec = inputSpec, !stack.isEmpty else { return }
        let x = Graph.placeholder(shape: spec.shape, dtype: spec.dtype, name: LayerNames.next("input"))
        var y = [x]
        for l in stack { y = Graph.orTrap(file: file, line: line) { () throws(ShapeError) in try l.call(symbolic: y) } }
        let outs = y
        setGraph(Graph.orTrap(file: file, line: line) { () throws(ShapeError) in
            do { return try Graph(inputs: [x], outputs: outs) } catch { throw ShapeError(op: "Sequential \(name)", (error as? GraphError)?.message ?? "\(error)") }
        })
    }

    override func graphOrBuild() -> Graph? { graph }

    override func graphOrBuild(for inputs: [Tensor]) -> Graph? {
        if graph == nil, inputs.count == 1, !stack.isEmpty {
            let x = inputs[0]
            inputSpec = TensorSpec(shape: [-1] + x.shape.dropFirst(), dtype: x.dtype)
            buildGraph(file: #fileID, line: #line)
        }
        return graph
    }

    /// The layers, in order, named by their layer names.
    public override func namedChildren() -> [(String, Module)] { stack.map { ($0.name, $0) } }
}
