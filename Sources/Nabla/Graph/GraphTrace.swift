/// What a graph computes, in the compile IR: the `OpKind` nodes its run calls, recorded by a symbolic trace (no
/// kernel runs), grouped by the graph node that called them.
///
/// The trace runs the graph on zero-filled probe inputs whose free dimensions (`-1`) have size 2, and again with
/// size 3; a size that differs between the two is printed `*`. Captured buffers are the layers' weights themselves
/// (`CompiledGraph.buffers[b].capturedStorage`). Layers run in their current mode (`train()` / `eval()`).
/// ```swift
/// let t = model.graph!.trace
/// print(t.graph)                        // the ops, as `compile` prints its graphs
/// for k in t.spans[0] { print(t.line(k)) }   // the ops of the first node: "%b3[*, 64] = matmul(...)"
/// ```
public struct GraphTrace {
    /// The ops, in the order the graph's run calls them (unoptimised), over buffers of the size-2 probes.
    public let graph: CompiledGraph
    /// For each of the graph's nodes (`Graph.nodes`, same order), the range of `graph.nodes` its call recorded.
    public let spans: [Range<Int>]
    /// For each of the graph's nodes, the views holding its outputs.
    public let nodeOutputs: [[TensorRef]]
    /// Why the trace is partial (a layer read a computed value on the host), if it is.
    public let graphBreak: GraphBreak?
    /// The same trace with free dims of size 3 (nil when the graph has none, or when its ops differ).
    let other: CompiledGraph?
    /// `nodeOutputs` of the size-3 trace.
    let otherOutputs: [[TensorRef]]?

    init(graph: CompiledGraph, spans: [Range<Int>], nodeOutputs: [[TensorRef]], graphBreak: GraphBreak?, other: MetaTrace?) {
        self.graph = graph
        self.spans = spans
        self.nodeOutputs = nodeOutputs
        self.graphBreak = graphBreak
        let aligned = other.map { o in
            // The same ops in the same order (attributes may hold the sizes: a convolution's geometry, a batch norm's n).
            o.graph.nodes.count == graph.nodes.count && o.spanOutputs.count == nodeOutputs.count
                && zip(o.graph.nodes, graph.nodes).allSatisfy { GraphTrace.stem($0.kind) == GraphTrace.stem($1.kind) }
        } ?? false
        self.other = aligned ? other?.graph : nil
        self.otherOutputs = aligned ? other?.spanOutputs : nil
    }

    /// The shapes of graph node `i`'s outputs, free dims `-1`.
    public func outputShapes(ofNode i: Int) -> [[Int]] {
        nodeOutputs[i].enumerated().map { j, r in
            guard let o = otherOutputs?[i], j < o.count, o[j].shape.count == r.shape.count else { return r.shape }
            return zip(r.shape, o[j].shape).map { $0 == $1 ? $0 : -1 }
        }
    }

    /// The op's name without its attributes (`conv2d`).
    static func stem(_ k: OpKind) -> Substring { k.description.prefix { $0.isLetter || $0.isNumber } }

    /// The views op `k` touches, in order: reads, writes, returned buffers.
    private static func views(_ n: TracedNode) -> [TensorRef?] { n.reads + n.writes.map { Optional($0) } + n.returned }

    /// The sizes of `ref` (a view op `k` reads or writes), with free dims as `-1`.
    public func symbolicShape(_ ref: TensorRef, node k: Int) -> [Int] {
        guard let other, k < graph.nodes.count else { return ref.shape }
        let mine = Self.views(graph.nodes[k]), theirs = Self.views(other.nodes[k])
        guard let i = mine.firstIndex(of: ref), i < theirs.count, let o = theirs[i], o.shape.count == ref.shape.count else { return ref.shape }
        return zip(ref.shape, o.shape).map { $0 == $1 ? $0 : -1 }
    }

    /// `[*, 64]`: the sizes of a view of op `k`, free dims as `*`.
    public func shape(_ ref: TensorRef, node k: Int) -> String { TensorSpec.format(symbolicShape(ref, node: k)) }

    /// Op `k` as one line: `%b4[*, 10] = matmul(%b0[*, 784], %b1[784, 10])`.
    public func line(_ k: Int) -> String {
        let n = graph.nodes[k]
        func v(_ r: TensorRef) -> String { "%b\(r.buffer)\(shape(r, node: k))" }
        let outs = (n.writes + n.returned.compactMap { $0 }).map(v).joined(separator: ", ")
        let ins = n.reads.map { $0.map(v) ?? "nil" }.joined(separator: ", ")
        return "\(outs.isEmpty ? "" : outs + " = ")\(n.kind)(\(ins))"
    }
}

extension Graph {
    /// What the graph computes as `OpKind` nodes (see `GraphTrace`), traced symbolically on each access: no kernel
    /// runs, and the trace sees the layers' weights and modes as they are now.
    public var trace: GraphTrace {
        let specs = inputs.map(\.spec)
        func traced(_ size: Int) -> MetaTrace {
            MetaTrace.trace(MetaTrace.probes(specs, freeSize: size)) { xs, mark in
                withoutActuallyEscaping(mark) { m in self.run(xs, afterEachNode: m) }
            }
        }
        let a = traced(2)
        let b = specs.contains { $0.shape.contains(-1) } ? traced(3) : nil
        return GraphTrace(graph: a.graph, spans: a.spans, nodeOutputs: a.spanOutputs, graphBreak: a.graphBreak, other: b)
    }
}
