import Foundation
import Nabla

/// Writes traced graphs as one ONNX graph.
///
/// It reads two traces of the same code, at two batch sizes (or one trace twice for a fixed batch), whose nodes
/// correspond one to one; every integer it derives (a shape, a slice start, a reshape target) is merged from the
/// two traces into a `SymInt`, so sizes that grow with the batch become Shape-derived values (or -1 in a Reshape)
/// and the file runs at any batch size. Each buffer of the trace has at each point a current ONNX value whose
/// row-major elements are the buffer's; a node's reads are views of it (`ViewDecomposition`), its writes replace it
/// (or, for the slices `cat` writes, are concatenated when the buffer is next read).
final class ONNXExporter {
    let g1: CompiledGraph, g2: CompiledGraph
    let batches: (Int, Int)
    let builder: ONNXGraphBuilder
    /// State-dict names of captured storages, with the tensor's shape when it covers its storage contiguously.
    let names: [ObjectIdentifier: (name: String, shape: [Int]?)]
    /// The current value of each buffer.
    private var current: [Int: ONNXValue] = [:]
    /// Writes into parts of a buffer, waiting to be concatenated: (node, write index, value).
    private var pieces: [Int: [(node: Int, refs: (TensorRef, TensorRef), value: ONNXValue)]] = [:]
    /// Buffers a `copy` filled with a broadcast value (a linear layer's bias before its product is added): the
    /// unexpanded value and the buffer's shape. `Expand` is written only when a read needs the full tensor.
    private var broadcastFills: [Int: (value: ONNXValue, shape: [SymInt])] = [:]
    /// The node being lowered (for messages).
    var nodeIndex = 0

    init(_ g1: CompiledGraph, _ g2: CompiledGraph, batches: (Int, Int), opset: Int,
         names: [ObjectIdentifier: (name: String, shape: [Int]?)]) throws {
        self.g1 = g1
        self.g2 = g2
        self.batches = batches
        self.builder = ONNXGraphBuilder(opset: opset)
        self.names = names
        try checkSameStructure()
    }

    // MARK: Structure

    /// The two traces must record the same ops over the same buffers.
    private func checkSameStructure() throws {
        func differ(_ what: String) -> ONNXError {
            .exportFailed(reason: "the traces at batch sizes \(batches.0) and \(batches.1) differ (\(what)): the model's ops depend on the batch size; export with dynamicBatch: false")
        }
        guard g1.nodes.count == g2.nodes.count else { throw differ("\(g1.nodes.count) against \(g2.nodes.count) ops") }
        guard g1.buffers.count == g2.buffers.count, g1.outputs.count == g2.outputs.count else { throw differ("buffers or outputs") }
        for (i, (a, b)) in zip(g1.nodes, g2.nodes).enumerated() {
            let ta = "\(a.kind)".prefix { $0 != "(" }, tb = "\(b.kind)".prefix { $0 != "(" }
            guard ta == tb, a.reads.count == b.reads.count, a.writes.count == b.writes.count, a.returned.count == b.returned.count,
                  zip(a.reads, b.reads).allSatisfy({ $0?.buffer == $1?.buffer }),
                  zip(a.writes, b.writes).allSatisfy({ $0.buffer == $1.buffer }),
                  zip(a.returned, b.returned).allSatisfy({ $0?.buffer == $1?.buffer }) else {
                throw differ("op \(i): \(a.kind) against \(b.kind) at \(a.location)")
            }
        }
    }

    /// Merges one integer of the two traces.
    func merge(_ a: Int, _ b: Int) -> SymInt { SymInt.merge(a, b, batches: batches) }

    /// Merges two integer lists of the two traces.
    func merge(_ a: [Int], _ b: [Int]) throws -> [SymInt] {
        guard let m = SymInt.merge(a, b, batches: batches) else {
            throw unsupported("its rank differs between the traces at batch sizes \(batches.0) and \(batches.1)")
        }
        return m
    }

    /// An error naming the current node's op and Swift line.
    func unsupported(_ reason: String) -> ONNXError {
        guard nodeIndex < g1.nodes.count else { return .exportFailed(reason: reason) }
        let n = g1.nodes[nodeIndex]
        return .exportUnsupported(op: "op \(n.kind)", location: "\(n.location)", reason: reason)
    }

    // MARK: Inputs and captured buffers

    /// Declares graph input `k` (its buffer's value) under `name`.
    func addInput(_ k: Int, name: String) throws -> Onnx_ValueInfoProto {
        let r1 = g1.inputs[k], r2 = g2.inputs[k]
        let dtype = g1.buffers[r1.buffer].dtype
        let shape = try merge(r1.shape, r2.shape)
        let n = builder.reserve(name)
        if k == 0 { builder.batchSource = n }
        guard ViewDecomposition.isContiguousWhole(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: g1.buffers[r1.buffer].count) else {
            throw ONNXError.exportFailed(reason: "input \(k) is not contiguous")
        }
        current[r1.buffer] = ONNXValue(name: n, dtype: dtype, shape: shape)
        return ONNXGraphBuilder.valueInfo(n, dtype: dtype, shape: shape)
    }

    /// The value of a captured buffer or constant: an initializer named by the state dict where the storage is known.
    private func initializer(_ b: Int) throws -> ONNXValue? {
        let buf = g1.buffers[b]
        guard g2.buffers[b].count == buf.count else {
            throw ONNXError.exportFailed(reason: "a captured tensor of \(buf.count) elements changes size with the batch")
        }
        let bytes: [UInt8]
        var name = "const", shape = [buf.count]
        switch buf.role {
        case .captured:
            guard let s = buf.capturedStorage else { return nil }
            var raw = [UInt8](repeating: 0, count: buf.count * buf.dtype.itemSize)
            raw.withUnsafeMutableBytes { s.backend.download(s, byteOffset: 0, into: $0) }
            bytes = raw
            if let known = names[ObjectIdentifier(s)] {
                name = known.name
                if let sh = known.shape { shape = sh }
            } else {
                name = "captured"
            }
        case .constant:
            guard let b = buf.constantBytes else { return nil }
            bytes = b
        default:
            return nil
        }
        let n = builder.reserve(name)
        builder.addInitializer(name: n, dtype: buf.dtype, shape: shape, bytes: Data(bytes))
        return ONNXValue(name: n, dtype: buf.dtype, shape: shape.map { SymInt($0) })
    }

    // MARK: Reading and writing buffers

    /// The current value of buffer `b` (concatenating pending slice writes; making initializers on first use).
    func value(of b: Int) throws -> ONNXValue {
        if let p = pieces[b], !p.isEmpty { try assemble(b, p) }
        if let f = broadcastFills.removeValue(forKey: b) { current[b] = try expand(f.value, f.shape) }
        if let v = current[b] { return v }
        if let v = try initializer(b) { current[b] = v; return v }
        throw unsupported("it reads a buffer (%b\(b)) that no exported op wrote")
    }

    /// The current value of the buffer a node reads, when the read is the whole buffer in row-major order (so the
    /// value may be used as it is, whatever its shape); nil otherwise.
    func wholeValue(_ r1: TensorRef) throws -> ONNXValue? {
        guard ViewDecomposition.isContiguousWhole(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: g1.buffers[r1.buffer].count)
        else { return nil }
        return try value(of: r1.buffer)
    }

    /// Read `k` of the current node as a value of the view's shape (with 1 at broadcast dims when `broadcastable`).
    func read(_ k: Int, broadcastable: Bool = false) throws -> ONNXValue {
        guard let r1 = g1.nodes[nodeIndex].reads[k], let r2 = g2.nodes[nodeIndex].reads[k] else {
            throw unsupported("input \(k) is absent")
        }
        return try view(r1, r2, broadcastable: broadcastable)
    }

    /// Whether read `k` of the current node is present.
    func hasRead(_ k: Int) -> Bool { k < g1.nodes[nodeIndex].reads.count && g1.nodes[nodeIndex].reads[k] != nil }

    /// A view of a buffer, built from its current value with Reshape, Slice, Transpose and Expand.
    func view(_ r1: TensorRef, _ r2: TensorRef, broadcastable: Bool = false) throws -> ONNXValue {
        let c1 = g1.buffers[r1.buffer].count, c2 = g2.buffers[r2.buffer].count
        let target = try merge(r1.shape, r2.shape)
        if broadcastable, let f = broadcastFills[r1.buffer],
           ViewDecomposition.isContiguousWhole(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: c1),
           Array(target.drop { $0 == SymInt(1) }) == Array(f.shape.drop { $0 == SymInt(1) }) {
            return f.value   // still broadcast: the reader's NumPy broadcasting expands it
        }
        var v = try value(of: r1.buffer)
        if ViewDecomposition.isContiguousWhole(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: c1),
           ViewDecomposition.isContiguousWhole(shape: r2.shape, strides: r2.strides, offset: r2.offset, count: c2) {
            return try reshape(v, target)
        }
        guard let d1 = ViewDecomposition(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: c1),
              let d2 = ViewDecomposition(shape: r2.shape, strides: r2.strides, offset: r2.offset, count: c2), d1.perm == d2.perm else {
            throw unsupported("it reads a view (shape \(r1.shape), strides \(r1.strides), offset \(r1.offset)) that ONNX's Reshape/Slice/Transpose/Expand cannot express")
        }
        let base = try merge(d1.base, d2.base)
        v = try reshape(v, base)
        let starts = try merge(d1.starts, d2.starts), ends = try merge(d1.ends, d2.ends)
        var axes: [Int] = [], s: [SymInt] = [], e: [SymInt] = []
        var shape = base
        for j in base.indices where !(starts[j] == SymInt(0) && ends[j] == base[j]) {
            axes.append(j)
            s.append(starts[j])
            e.append(ends[j] == base[j] ? SymInt(Int(Int64.max)) : ends[j])
            shape[j] = SymInt(perBatch: ends[j].perBatch - starts[j].perBatch, constant: ends[j].constant - starts[j].constant)
        }
        if !axes.isEmpty {
            let out = builder.op("Slice", [v.name, try builder.shapeTensor(s), try builder.shapeTensor(e), builder.int64s(axes)])
            v = ONNXValue(name: out, dtype: v.dtype, shape: shape)
        }
        if d1.perm != Array(d1.perm.indices) {
            v = transpose(v, d1.perm)
        }
        v = try reshape(v, try merge(d1.shaped, d2.shaped))
        if !broadcastable { v = try expand(v, target) }
        return v
    }

    /// Makes write `k` of the current node (a whole buffer) hold `value` broadcast to the write's shape, without
    /// expanding it yet; false when the write is not a whole buffer.
    func writeBroadcast(_ k: Int, _ value: ONNXValue) throws -> Bool {
        let r1 = g1.nodes[nodeIndex].writes[k], r2 = g2.nodes[nodeIndex].writes[k]
        guard ViewDecomposition.isContiguousWhole(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: g1.buffers[r1.buffer].count),
              ViewDecomposition.isContiguousWhole(shape: r2.shape, strides: r2.strides, offset: r2.offset, count: g2.buffers[r2.buffer].count)
        else { return false }
        current[r1.buffer] = nil
        pieces[r1.buffer] = nil
        broadcastFills[r1.buffer] = (value, try merge(r1.shape, r2.shape))
        return true
    }

    /// Makes `value` the new contents of write `k` of the current node.
    func write(_ k: Int, _ value: ONNXValue, anyShape: Bool = false) throws {
        try assign(g1.nodes[nodeIndex].writes[k], g2.nodes[nodeIndex].writes[k], value, anyShape: anyShape)
    }

    /// Makes `value` the new contents of returned tensor `k` of the current node.
    func writeReturned(_ k: Int, _ value: ONNXValue) throws {
        guard let r1 = g1.nodes[nodeIndex].returned[k], let r2 = g2.nodes[nodeIndex].returned[k] else { return }
        try assign(r1, r2, value)
    }

    /// The merged shape of write `k` of the current node.
    func writeShape(_ k: Int) throws -> [SymInt] {
        try merge(g1.nodes[nodeIndex].writes[k].shape, g2.nodes[nodeIndex].writes[k].shape)
    }

    /// The dtype of write `k` of the current node.
    func writeDType(_ k: Int) -> DType { g1.buffers[g1.nodes[nodeIndex].writes[k].buffer].dtype }

    /// Stores `value` (of the view's shape, or of any shape with the same row-major elements when `anyShape`) as
    /// what the view `r1`/`r2` of its buffer now holds.
    func assign(_ r1: TensorRef, _ r2: TensorRef, _ value: ONNXValue, anyShape: Bool = false) throws {
        let b = r1.buffer
        let c1 = g1.buffers[b].count, c2 = g2.buffers[b].count
        let shape = try merge(r1.shape, r2.shape)
        let whole1 = ViewDecomposition.isContiguousWhole(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: c1)
        let whole2 = ViewDecomposition.isContiguousWhole(shape: r2.shape, strides: r2.strides, offset: r2.offset, count: c2)
        broadcastFills[b] = nil
        if whole1 && whole2 {
            current[b] = anyShape ? value : try reshape(value, shape)
            pieces[b] = nil
            return
        }
        var v = try reshape(value, shape)
        // A permutation of the whole buffer (an op writing its output in another layout): transpose back.
        let kept = r1.shape.indices.filter { r1.shape[$0] != 1 }
        let order = kept.sorted { r1.strides[$0] > r1.strides[$1] }
        let order2 = kept.sorted { r2.strides[$0] > r2.strides[$1] }
        let sortedShape = order.map { r1.shape[$0] }, sortedStrides = order.map { r1.strides[$0] }
        if r1.offset == 0, r2.offset == 0, order == order2, r1.shape.reduce(1, *) == c1, !kept.contains(where: { r1.strides[$0] == 0 }),
           sortedStrides == Shape.contiguousStrides(sortedShape) {
            v = try reshape(v, kept.map { shape[$0] })
            let perm = order.map { kept.firstIndex(of: $0)! }
            current[b] = transpose(v, perm)
            pieces[b] = nil
            return
        }
        pieces[b, default: []].append((nodeIndex, (r1, r2), v))
    }

    /// Concatenates the slices written into buffer `b` (what `cat`/`stack` do) into its value.
    private func assemble(_ b: Int, _ list: [(node: Int, refs: (TensorRef, TensorRef), value: ONNXValue)]) throws {
        pieces[b] = nil
        let c1 = g1.buffers[b].count, c2 = g2.buffers[b].count
        var parts: [(start: Int, size: Int, value: ONNXValue)] = []
        var full: (BufferSlice, BufferSlice)?
        for p in list {
            let (r1, r2) = p.refs
            guard let s1 = BufferSlice(shape: r1.shape, strides: r1.strides, offset: r1.offset, count: c1),
                  let s2 = BufferSlice(shape: r2.shape, strides: r2.strides, offset: r2.offset, count: c2),
                  full == nil || (full!.0.full == s1.full && full!.0.dim == s1.dim && full!.1.full == s2.full) else {
                let n = g1.nodes[p.node]
                throw ONNXError.exportUnsupported(op: "op \(n.kind)", location: "\(n.location)",
                                                  reason: "it writes part of a buffer (shape \(r1.shape), strides \(r1.strides), offset \(r1.offset)) in a way ONNX export cannot reassemble")
            }
            full = full ?? (s1, s2)
            parts.append((s1.start, r1.shape[s1.dim], p.value))
        }
        guard let pair = full else { return }
        let f1 = pair.0, f2 = pair.1
        parts.sort { $0.start < $1.start }
        var next = 0
        for p in parts {
            guard p.start == next else {
                throw ONNXError.exportFailed(reason: "buffer %b\(b) is written in slices that do not cover it (dim \(f1.dim), slice at \(p.start), expected \(next))")
            }
            next += p.size
        }
        guard next == f1.full[f1.dim] else {
            throw ONNXError.exportFailed(reason: "buffer %b\(b) is written in slices covering \(next) of \(f1.full[f1.dim]) entries of dim \(f1.dim)")
        }
        let shape = try merge(f1.full, f2.full)
        let out = parts.count == 1 ? parts[0].value.name
            : builder.op("Concat", parts.map(\.value.name), [ONNXGraphBuilder.attr("axis", f1.dim)])
        current[b] = ONNXValue(name: out, dtype: parts[0].value.dtype, shape: shape)
    }

    // MARK: Shape helpers

    /// `v` reshaped to `shape` (no node when it has that shape already).
    func reshape(_ v: ONNXValue, _ shape: [SymInt]) throws -> ONNXValue {
        if v.shape == shape { return v }
        let out = builder.op("Reshape", [v.name, try builder.shapeTensor(shape, minusOne: true)])
        return ONNXValue(name: out, dtype: v.dtype, shape: shape)
    }

    /// `v` transposed by `perm`.
    func transpose(_ v: ONNXValue, _ perm: [Int]) -> ONNXValue {
        if perm == Array(perm.indices) { return v }
        let out = builder.op("Transpose", [v.name], [ONNXGraphBuilder.attr("perm", ints: perm)])
        return ONNXValue(name: out, dtype: v.dtype, shape: perm.map { v.shape[$0] })
    }

    /// `v` broadcast to `shape`.
    func expand(_ v: ONNXValue, _ shape: [SymInt]) throws -> ONNXValue {
        if v.shape == shape { return v }
        let out = builder.op("Expand", [v.name, try builder.shapeTensor(shape)])
        return ONNXValue(name: out, dtype: v.dtype, shape: shape)
    }

    /// `v` converted to `dtype`.
    func cast(_ v: ONNXValue, _ dtype: DType) -> ONNXValue {
        if v.dtype == dtype { return v }
        let out = builder.op("Cast", [v.name], [ONNXGraphBuilder.attr("to", ONNXGraphBuilder.elementType(dtype))])
        return ONNXValue(name: out, dtype: dtype, shape: v.shape)
    }

    /// The NumPy broadcast of two shapes (aligned at the right).
    func broadcast(_ a: [SymInt], _ b: [SymInt]) -> [SymInt] {
        let n = max(a.count, b.count)
        return (0..<n).map { i in
            let x = i - (n - a.count) >= 0 ? a[i - (n - a.count)] : SymInt(1)
            let y = i - (n - b.count) >= 0 ? b[i - (n - b.count)] : SymInt(1)
            return x == SymInt(1) ? y : x
        }
    }

    // MARK: The whole graph

    /// The nodes whose results reach an output (the trace also holds ops nothing reads, such as pooling indices).
    func liveNodes() -> [Bool] {
        var needed = Set(g1.outputs.map(\.buffer))
        var live = [Bool](repeating: false, count: g1.nodes.count)
        for i in g1.nodes.indices.reversed() {
            let n = g1.nodes[i]
            let outs = n.writes.map(\.buffer) + n.returned.compactMap { $0?.buffer }
            guard outs.contains(where: needed.contains) else { continue }
            live[i] = true
            for r in n.reads { if let r { needed.insert(r.buffer) } }
        }
        return live
    }

    /// Lowers every live node, then declares the outputs; returns the ONNX graph.
    func makeGraph(name: String, inputNames: [String], outputNames: [String]) throws -> Onnx_GraphProto {
        var graph = Onnx_GraphProto()
        graph.name = name
        for k in g1.inputs.indices { graph.input.append(try addInput(k, name: inputNames[k])) }
        let live = liveNodes()
        for i in g1.nodes.indices where live[i] {
            nodeIndex = i
            try lowerNode()
        }
        for (k, (r1, r2)) in zip(g1.outputs, g2.outputs).enumerated() {
            nodeIndex = max(0, g1.nodes.count - 1)
            let v = try view(r1, r2)
            let name = builder.reserve(outputNames[k])
            builder.node("Identity", [v.name], outputs: [name])
            graph.output.append(ONNXGraphBuilder.valueInfo(name, dtype: v.dtype, shape: v.shape))
        }
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        return graph
    }
}
