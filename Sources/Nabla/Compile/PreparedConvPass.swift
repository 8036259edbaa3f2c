import Synchronization

// Inference convolutions in compiled eval graphs: a `conv2d` node whose weight (and bias) are parameters or constants
// becomes a `preparedConv2d` node that runs the backend's prepared convolution (`PreparedConv2d`: on the CPU the 3x3
// filter kept Winograd-transformed, the work split through the spinning pool at batch 1), with the ReLU and the 2x2
// max pool that follow it applied by its kernel (`ConvEpilogue`), as `torch.jit.freeze` + `optimize_for_inference`
// turn a frozen module's convolutions into prepacked ones with fused post-ops.

extension GraphPasses {
    /// Prepared convolutions: in a graph that computes no gradient and updates nothing (an eval forward), each
    /// `conv2d` whose weight and bias are buffers the graph never writes (parameters, constants) becomes one
    /// `preparedConv2d` node, together with the `relu` that alone reads its output and the 2x2, stride-2 `maxPool2d`
    /// that alone reads that (when its indices are unread).
    ///
    /// The weights are packed at the node's first run and kept while the parameter's storage and version counter
    /// stay the same (an optimizer step or an in-place op bumps it; the node then packs again). The fused kernel gives
    /// the separate ops' values up to the rounding of the convolution's algorithm (Winograd for a 3x3 filter, which
    /// the eager batch-1 convolution does not pick), so a graph with any backward or update keeps its convolutions.
    /// Runs before GEMM epilogues and element-wise fusion, which would otherwise take the ReLU.
    static func prepareConvolutions(_ g: CompiledGraph) {
        let nodes = g.nodes
        guard nodes.contains(where: { if case .conv2d = $0.kind { return true } else { return false } }), isEvalGraph(g) else { return }
        let writers = writerCounts(g), liveOut = g.liveOut, foldable = foldableNodes(g)
        let (readers, _) = accessPositions(g)
        var keep = [Bool](repeating: true, count: nodes.count)
        var replaced = 0, absorbed = 0
        var out = nodes
        func soleReader(_ b: Int) -> Int? { GraphPasses.soleReader(of: b, g, writers: writers, readers: readers, liveOut: liveOut) }
        func isFixed(_ r: TensorRef?) -> Bool { isFixedBuffer(r, g, writers: writers) }
        for (i, n) in nodes.enumerated() {
            guard case .conv2d(let geom, let hasBias) = n.kind, !foldable[i], n.contextFrom == nil, n.returned.isEmpty,
                  n.writes.count == 1, n.reads.count == 3, n.reads[0] != nil, let w = n.reads[1], isFixed(w), isFixed(n.reads[2]),
                  w.shape.count == 4, w.strides == Shape.contiguousStrides(w.shape)
            else { continue }
            var epilogue = ConvEpilogue.none, last = n.writes[0], chain: [Int] = []
            let whole = n.writes[0].coversContiguously(g.buffers[n.writes[0].buffer].count)
            if whole, let r = soleReader(last.buffer), case .unary(.relu) = nodes[r].kind, nodes[r].reads.count == 1,
               nodes[r].reads[0] == last, nodes[r].writes.count == 1,
               nodes[r].writes[0].coversContiguously(g.buffers[nodes[r].writes[0].buffer].count) {
                epilogue.relu = true; chain.append(r); last = nodes[r].writes[0]
            }
            if whole, let p = soleReader(last.buffer), case .maxPool2d(let windows) = nodes[p].kind, isPool2x2(windows, geom),
               nodes[p].reads.count == 1, nodes[p].reads[0] == last, nodes[p].writes.count == 2,
               nodes[p].writes[0].coversContiguously(g.buffers[nodes[p].writes[0].buffer].count),
               readers[nodes[p].writes[1].buffer].isEmpty, !liveOut.contains(nodes[p].writes[1].buffer) {
                epilogue.maxPool2x2 = true; chain.append(p); last = nodes[p].writes[0]
            }
            let position = chain.last ?? i
            // The fused node runs where the chain's last member ran: nothing between may write what it reads.
            let between = stride(from: i + 1, to: position, by: 1)
            let inputs = Set(n.reads.compactMap { $0?.buffer })
            guard !between.contains(where: { j in !chain.contains(j) && nodes[j].writes.contains { inputs.contains($0.buffer) } })
            else { continue }
            let cache = PreparedWeightCache<PreparedConv2d>(), ep = epilogue
            let call: NodeCall = { b, a in
                let prepared = cache.prepared(weight: a.reads[1]!, bias: a.reads[2]) { PreparedConv2d(weight: $0, bias: $1) }
                b.conv2d(a.reads[0]!.contiguousNoGrad(), prepared: prepared, geometry: geom, epilogue: ep, out: a.writes[0])
                return NodeResult()
            }
            out[position] = TracedNode(kind: .preparedConv2d(geom, bias: hasBias, epilogue: epilogue), reads: n.reads, writes: [last],
                                       returned: [], contextFrom: nil, location: n.location, backend: n.backend, call: call, rule: nil)
            if position != i { keep[i] = false }
            for j in chain.dropLast() { keep[j] = false }
            replaced += 1
            absorbed += chain.count
        }
        guard replaced > 0 else { return }
        g.replaceNodes(out, log: "")
        filter(g, keep: keep, log: "prepared convolutions: \(replaced) conv2d nodes with \(absorbed) relu/maxPool2d nodes fused")
    }

    /// Whether `w` are the 2x2, stride-2 windows without padding of a max pool over the output of a convolution of
    /// geometry `geom` (floor mode: an odd last row or column is dropped).
    /// Shared by the prepared-convolution pass (eval graphs) and the convolution-block pass (training graphs).
    static func isPool2x2(_ w: PoolWindows, _ geom: ConvGeometry) -> Bool {
        let ph = geom.outH / 2, pw = geom.outW / 2
        return w.height == geom.outH && w.width == geom.outW && w.rowDilation == 1 && w.colDilation == 1 && ph > 0 && pw > 0
            && w.rowStart == (0..<ph).map { 2 * $0 } && w.rowCount == Array(repeating: 2, count: ph)
            && w.colStart == (0..<pw).map { 2 * $0 } && w.colCount == Array(repeating: 2, count: pw)
    }

    /// Whether `g` computes no gradient and updates nothing: an eval (inference) forward.
    static func isEvalGraph(_ g: CompiledGraph) -> Bool {
        g.gradSinks.isEmpty && !g.nodes.contains { isTrainingNode($0.kind) }
    }

    /// Whether `r` (nil: an absent operand) is a buffer that holds the same value for the whole run, and from run to
    /// run unless changed from outside: a parameter or constant the graph never writes.
    static func isFixedBuffer(_ r: TensorRef?, _ g: CompiledGraph, writers: [Int]) -> Bool {
        guard let r else { return true }
        switch g.buffers[r.buffer].role {
        case .captured, .constant: return writers[r.buffer] == 0
        case .input, .intermediate: return false
        }
    }

    /// Whether a node belongs to a backward pass or an update (the graph is not an eval forward).
    private static func isTrainingNode(_ kind: OpKind) -> Bool {
        switch kind {
        case .maxPool2dBackward, .maxPool2dReluBackward, .conv2dBackward, .softmaxBackward, .nllLossBackward, .softmaxCrossEntropyBackward,
             .normRowsBackward, .batchNormBackward, .attentionBackward, .recurrentSequenceBackward, .lstmCellBackward,
             .optimizerStep:
            return true
        default:
            return false
        }
    }
}

/// The prepared form of one node's weight and bias (`PreparedConv2d`, `PreparedLinear`), made at the first run and
/// again whenever a parameter's storage or version counter differs from the last run's.
final class PreparedWeightCache<Prepared: Sendable>: Sendable {
    /// Where a parameter's values were when the prepared form was made.
    private struct Key: Equatable, Sendable {
        let storage: ObjectIdentifier, offset: Int, version: Int
        init(_ t: Tensor) { storage = ObjectIdentifier(t.storage); offset = t.offset; version = t.storage.version }
    }
    /// What the prepared form was made from.
    private struct Entry: Sendable {
        let prepared: Prepared
        let weight: Key, bias: Key?
    }
    private let entry = Mutex<Entry?>(nil)

    /// The prepared form of `weight` and `bias`, made again by `make` when either changed.
    func prepared(weight: Tensor, bias: Tensor?, _ make: (Tensor, Tensor?) -> Prepared) -> Prepared {
        let w = Key(weight), b = bias.map(Key.init)
        return entry.withLock { e in
            if let e, e.weight == w, e.bias == b { return e.prepared }
            let p = make(weight, bias)
            e = Entry(prepared: p, weight: w, bias: b)
            return p
        }
    }
}
