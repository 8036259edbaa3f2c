// Batch-1 linear layers in compiled eval graphs: a matrix product of a few rows against a parameter's transposed
// weight (with the copy of the broadcast bias it accumulates onto) becomes a `preparedLinear` node that runs the
// backend's prepared linear layer (`PreparedLinear`: on the CPU the weight packed once into the GEMM kernel's panels
// and read by `linear_small.c`, split across the cores by panels), where OpenBLAS would repack the weight every call.

extension GraphPasses {
    /// Prepared linear layers: in an eval graph (`isEvalGraph`), a `matmul` or a bias `copy` + `matmulAccumulate` of
    /// `[1, m, k] x [1, k, n]` with at most `preparedLinearRows` rows, whose right operand is the transpose of a
    /// contiguous `[n, k]` weight the graph never writes (a parameter) and whose bias is a `[n]` vector broadcast over
    /// the rows, becomes one `preparedLinear` node computing `x · weightᵀ + bias` into the product. The weight is packed
    /// at the first run and again when its version counter moves (`PreparedWeightCache`). Results are eager's up to the
    /// product's rounding (a different summation order from OpenBLAS's). Runs before GEMM epilogues; an activation after
    /// the product stays a node of its own (element-wise fusion and in-place reuse take it).
    static func prepareLinearLayers(_ g: CompiledGraph) {
        let nodes = g.nodes
        guard nodes.contains(where: { if case .matmulAccumulate = $0.kind { return true }; if case .matmul = $0.kind { return true }; return false }),
              isEvalGraph(g) else { return }
        let writers = writerCounts(g), foldable = foldableNodes(g)
        let (readers, writePositions) = accessPositions(g)
        var keep = [Bool](repeating: true, count: nodes.count)
        var out = nodes
        var replaced = 0
        for (q, n) in nodes.enumerated() {
            let accumulate: Bool
            switch n.kind {
            case .matmul: accumulate = false
            case .matmulAccumulate: accumulate = true
            default: continue
            }
            // A product reads its operands; an accumulating one reads what it adds to (its output) as well.
            guard !foldable[q], n.contextFrom == nil, n.returned.isEmpty, n.writes.count == 1,
                  n.reads.count == (accumulate ? 3 : 2), !accumulate || n.reads[2]?.buffer == n.writes[0].buffer,
                  let a = n.reads[0], let b = n.reads[1], a.shape.count == 3, b.shape.count == 3, a.shape[0] == 1, b.shape[0] == 1
            else { continue }
            let m = a.shape[1], k = a.shape[2], nn = b.shape[2], product = n.writes[0]
            let pbuf = g.buffers[product.buffer]
            guard m >= 1, m <= preparedLinearRows, k >= 1, nn >= 1, b.shape[1] == k, pbuf.role == .intermediate,
                  pbuf.dtype.isFloatingPoint, product.shape == [1, m, nn], isWholeMatrix(product, pbuf.count),
                  a.strides[2] == 1, m == 1 || a.strides[1] == k,
                  b.strides[1] == 1, nn == 1 || b.strides[2] == k, isFixedBuffer(b, g, writers: writers)
            else { continue }
            var bias: TensorRef? = nil
            var initializer: Int? = nil
            if accumulate {
                guard writers[product.buffer] == 2, writePositions[product.buffer].count == 2, writePositions[product.buffer][1] == q
                else { continue }
                let p = writePositions[product.buffer][0]
                let pn = nodes[p]
                guard case .copy = pn.kind, keep[p], !foldable[p], pn.reads.count == 1, let r = pn.reads[0], pn.writes.count == 1,
                      isWholeMatrix(pn.writes[0], pbuf.count), pn.contextFrom == nil, pn.returned.isEmpty,
                      readers[product.buffer].allSatisfy({ $0 >= q }), isFixedBuffer(r, g, writers: writers),
                      let v = biasVector(r, columns: nn)
                else { continue }
                bias = v
                initializer = p
            } else {
                guard writers[product.buffer] == 1 else { continue }
            }
            let x = TensorRef(buffer: a.buffer, shape: [m, k], strides: [k, 1], offset: a.offset)
            let w = TensorRef(buffer: b.buffer, shape: [nn, k], strides: [k, 1], offset: b.offset)
            let y = TensorRef(buffer: product.buffer, shape: [m, nn], strides: [nn, 1], offset: product.offset)
            let cache = PreparedWeightCache<PreparedLinear>()
            let call: NodeCall = { backend, args in
                let prepared = cache.prepared(weight: args.reads[1]!, bias: args.reads[2]) { PreparedLinear(weight: $0, bias: $1) }
                backend.linear(args.reads[0]!, prepared: prepared, out: args.writes[0])
                return NodeResult()
            }
            out[q] = TracedNode(kind: .preparedLinear(bias: bias != nil), reads: [x, w, bias], writes: [y], returned: [],
                                contextFrom: nil, location: n.location, backend: n.backend, call: call, rule: nil)
            if let p = initializer { keep[p] = false }
            replaced += 1
        }
        guard replaced > 0 else { return }
        g.replaceNodes(out, log: "")
        filter(g, keep: keep, log: "prepared linear layers: \(replaced) products of at most \(preparedLinearRows) rows")
    }

    /// The most rows a product may have to run as a prepared linear layer (the CPU's small-product kernel).
    static let preparedLinearRows = 4

    /// Whether `ref` is the whole buffer of `count` elements in row-major order, strides of size-1 dims aside (a
    /// matrix product sees a 2-D result as `[1, m, n]` with a batch stride of 0).
    private static func isWholeMatrix(_ ref: TensorRef, _ count: Int) -> Bool {
        guard ref.offset == 0, ref.shape.reduce(1, *) == count else { return false }
        return zip(zip(ref.shape, ref.strides), Shape.contiguousStrides(ref.shape)).allSatisfy { $0.0.0 == 1 || $0.0.1 == $0.1 }
    }

    /// `r`, a bias broadcast to `[1, rows, columns]` (or `[rows, columns]`), as the `[columns]` vector it reads, or nil
    /// when it is anything else.
    private static func biasVector(_ r: TensorRef, columns: Int) -> TensorRef? {
        guard r.shape.last == columns, columns == 1 || r.strides.last == 1 else { return nil }
        for (size, stride) in zip(r.shape.dropLast(), r.strides.dropLast()) where size > 1 && stride != 0 { return nil }
        return TensorRef(buffer: r.buffer, shape: [columns], strides: [1], offset: r.offset)
    }
}
