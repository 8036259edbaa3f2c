import NablaNN

extension Model {
    /// Checks that inputs of `shapes` (one per model input, batch first) can run through the model, before running
    /// it: the shapes must fit the inputs' fixed sizes, and every layer must accept the sizes that the inputs' free
    /// dimensions (`Input(shape: [-1, 8])`) take, propagated through the graph with the layers' shape rules (a
    /// sequence shorter than a convolution's kernel, two branches of different lengths merged, a reshape that does
    /// not divide).
    ///
    /// A server or a loader calls it on shapes from outside (a request) so that a bad size is an error naming the
    /// layer, not a trap inside an op. The batch dimension is not checked against anything (it is kept free).
    /// Models without a graph (subclassed ones) are only checked by `validate(_:)`.
    /// - Returns: the output specs for these input shapes (batch `-1`; sizes that stay unknown `-1`).
    /// - Throws: `ShapeError` naming the model or the layer that cannot take its input.
    @discardableResult
    public func checkInputShapes(_ shapes: [[Int]]) throws(ShapeError) -> [TensorSpec] {
        try validate(shapes)
        guard let g = graphOrBuild() else { return [] }
        let specs = zip(shapes, g.inputs).map { s, x in TensorSpec(shape: s.isEmpty ? s : [-1] + s.dropFirst(), dtype: x.dtype) }
        return try Self.propagate(g, specs)
    }

    /// The output specs of `g` for input specs `inputs`, node by node: a node owned by a layer takes the layer's
    /// `validate` and `computeOutputSpecs`; a model used as a layer is propagated through; primitive ops (`x + y`
    /// on symbolic tensors) and constants take their shape rules (`GraphOp.outputSpecs`).
    static func propagate(_ g: Graph, _ inputs: [TensorSpec]) throws(ShapeError) -> [TensorSpec] {
        var known: [ObjectIdentifier: [TensorSpec]] = [:]
        for (x, s) in zip(g.inputs, inputs) { known[ObjectIdentifier(x.node), default: x.node.outputSpecs][x.index] = s }
        func spec(_ t: SymbolicTensor) -> TensorSpec { known[ObjectIdentifier(t.node)]?[t.index] ?? t.spec }
        for node in g.nodes {
            let ins = node.inputs.map(spec)
            var outs = node.outputSpecs
            if let model = node.owner as? Model, let sub = model.graphOrBuild(), sub.inputs.count == ins.count {
                try model.validate(ins.map(\.shape))
                outs = try propagate(sub, ins)
            } else if let layer = node.owner as? Layer {
                try layer.validate(ins.map(\.shape))
                outs = try layer.computeOutputSpecs(ins)
            } else if let specs = try node.kind.outputSpecs(ins) {
                outs = specs   // a primitive op or a constant: its own shape rule
            }
            guard outs.count == node.outputSpecs.count else {
                throw ShapeError(op: "layer \(node.name)", "gives \(outs.count) outputs for inputs \(ins), the graph expects \(node.outputSpecs.count)")
            }
            known[ObjectIdentifier(node)] = outs
        }
        return g.outputs.map(spec)
    }
}
