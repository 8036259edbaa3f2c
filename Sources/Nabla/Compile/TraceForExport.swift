import Foundation

// The trace as it was recorded, before any pass: what the ONNX exporter reads (passes and fusion rewrite the graph
// for speed; an exporter wants the ops the code called, with the buffers' own storages to name and copy).

extension GraphBreak: Error {}

extension TracedBuffer {
    /// The storage a captured buffer (a parameter, a running statistic) or a constant lives in; nil for inputs and
    /// intermediates. The ONNX exporter reads initializers from it and names it by the module's state dict.
    public var capturedStorage: Storage? { storage }

    /// For a constant: its bytes when the trace first read it (nil otherwise).
    public var constantBytes: [UInt8]? { initialBytes }
}

extension CompiledGraph {
    /// Traces one call of `body` on `inputs` into a graph of backend ops, without running any pass (no dead-code
    /// elimination, CSE, simplification, fusion or memory plan): the ops in the order the code called them.
    ///
    /// The call runs eagerly while it is recorded, as `compile` traces. Used by the ONNX exporter.
    /// - Throws: the `GraphBreak` that stopped the trace (a host read of a computed value, ...).
    public static func traceUnoptimized(_ inputs: [Tensor], _ body: ([Tensor]) -> [Tensor]) throws -> CompiledGraph {
        let tracer = Tracer()
        let inputRefs = inputs.enumerated().map { tracer.registerInput($0.element, index: $0.offset) }
        let outs = tracer.recording { body(inputs) }
        if let br = tracer.graphBreak { throw br }
        let outputRefs = outs.map { o in tracer.existingRef(o) ?? tracer.ref(o, writing: false) }
        return CompiledGraph(buffers: tracer.buffers, nodes: tracer.nodes, inputs: inputRefs, outputs: outputRefs,
                             gradSinks: [], ruleSources: tracer.ruleSources, ruleCounts: tracer.ruleCounts)
    }
}

extension CompiledFunction {
    /// Traces one call of the function's body on `inputs` without passes (see `CompiledGraph.traceUnoptimized`);
    /// the function's cache is left untouched.
    public func traceUnoptimized(_ inputs: [Tensor]) throws -> CompiledGraph {
        try CompiledGraph.traceUnoptimized(inputs, body)
    }
}
