extension GraphPasses {
    /// GEMM epilogues: a matrix product, the node writing its starting value (a linear layer's broadcast bias, onto
    /// which the GEMM accumulates) and the element-wise nodes applied to its result (bias, activation, residual add,
    /// an activation's backward) become one `gemmEpilogue` node that runs them block of rows by block
    /// (`GemmEpilogueKernel`), forward and backward alike.
    ///
    /// A product qualifies when it is one `[m, n]` matrix (batch 1) written whole into an intermediate. An
    /// element-wise node joins when it reads a value of the group whole and in order, writes one whole intermediate of
    /// `m·n` elements, and every operand it reads from outside the group can be viewed as an `[m, n]` matrix. The
    /// group runs where its last member ran, so it stops growing at the first node that reads one of its values
    /// without joining, or writes what one of its members reads. Values other nodes read (an activation's output its
    /// backward needs, a pre-activation GELU's backward reads) are written out; the rest stay in per-block scratch.
    /// Runs before element-wise fusion, which then fuses the chains left over.
    static func fuseGemmEpilogues(_ g: CompiledGraph) {
        let nodes = g.nodes
        let writers = writerCounts(g), liveOut = g.liveOut
        let foldable = foldableNodes(g)
        let (readers, writePositions) = accessPositions(g)
        var used = [Bool](repeating: false, count: nodes.count)
        var replacement: [Int: TracedNode] = [:]   // position of a group's last node → the fused node
        var fusedGroups = 0, fusedMembers = 0
        for gi in nodes.indices where !used[gi] {
            guard let group = gemmGroup(at: gi, nodes, g, writers: writers, liveOut: liveOut, foldable: foldable,
                                        readers: readers, writePositions: writePositions, used: used)
            else { continue }
            for i in group.positions { used[i] = true }
            replacement[group.positions.max()!] = group.node
            fusedGroups += 1
            fusedMembers += group.positions.count
        }
        guard fusedGroups > 0 else { g.replaceNodes(nodes, log: "GEMM epilogues: none"); return }
        var out: [TracedNode] = []
        var newIndex = [Int?](repeating: nil, count: nodes.count)
        for (i, n) in nodes.enumerated() {
            var m = n
            if let r = replacement[i] { m = r } else if used[i] { continue }
            if let c = n.contextFrom { m.contextFrom = newIndex[c] }
            newIndex[i] = out.count
            out.append(m)
        }
        g.replaceNodes(out, log: "GEMM epilogues: \(fusedMembers) nodes into \(fusedGroups) matmul+epilogue nodes")
    }

    /// Whether `ref` is the whole buffer of `count` elements in row-major order (strides of size-1 dims ignored: a
    /// matrix product sees a 2-D result as `[1, m, n]` with a batch stride of 0).
    private static func isWhole(_ ref: TensorRef, _ count: Int) -> Bool {
        guard ref.offset == 0, ref.shape.reduce(1, *) == count else { return false }
        return zip(zip(ref.shape, ref.strides), Shape.contiguousStrides(ref.shape)).allSatisfy { $0.0.0 == 1 || $0.0.1 == $0.1 }
    }

    /// Strides that read `ref` (the operand of a node whose output has shape `shape`) as an `[m, n]` matrix, or nil.
    private static func matrixStrides(_ ref: TensorRef, broadcastTo shape: [Int], m: Int, n: Int) -> (row: Int, col: Int)? {
        guard shape.reduce(1, *) == m * n else { return nil }
        let strides = Shape.broadcastStrides(ref.shape, ref.strides, to: shape)
        guard ref.shape.count <= shape.count, let s = Tensor.viewStrides(shape, strides, [m, n]) else { return nil }
        return (s[0], s[1])
    }

    /// The group a GEMM at `gi` heads, with its fused node, or nil when nothing fuses with it.
    private static func gemmGroup(at gi: Int, _ nodes: [TracedNode], _ g: CompiledGraph, writers: [Int], liveOut: Set<Int>,
                                  foldable: [Bool], readers: [[Int]], writePositions: [[Int]], used: [Bool])
        -> (positions: [Int], node: TracedNode)? {
        let gemm = nodes[gi]
        let accumulate: Bool
        switch gemm.kind {
        case .matmul: accumulate = false
        case .matmulAccumulate: accumulate = true
        default: return nil
        }
        guard !foldable[gi], gemm.contextFrom == nil, gemm.rule == nil, gemm.returned.isEmpty, gemm.writes.count == 1,
              let aRef = gemm.reads[0], let bRef = gemm.reads[1], aRef.shape.count == 3 else { return nil }
        let out = gemm.writes[0], product = out.buffer, pbuf = g.buffers[product]
        guard out.shape.count == 3, out.shape[0] == 1, pbuf.role == .intermediate, pbuf.dtype.isFloatingPoint,
              isWhole(out, pbuf.count), aRef.shape[1] == out.shape[1] else { return nil }
        let m = out.shape[1], n = out.shape[2]
        guard m > 0, n > 0 else { return nil }
        let device = gemm.backend.device

        // The initializer: the one other node writing the product, whole, before the GEMM, with no reader between.
        var initializer: Int? = nil
        if accumulate {
            guard writers[product] == 2, writePositions[product].count == 2, writePositions[product][1] == gi else { return nil }
            let p = writePositions[product][0]
            let pn = nodes[p]
            switch pn.kind {
            case .copy, .fill: break
            default: return nil
            }
            guard !used[p], !foldable[p], pn.writes.count == 1, pn.returned.isEmpty, pn.contextFrom == nil,
                  isWhole(pn.writes[0], pbuf.count), pn.backend.device == device,
                  readers[product].allSatisfy({ $0 >= gi }),
                  pn.reads.allSatisfy({ r in r.map { r in matrixStrides(r, broadcastTo: pn.writes[0].shape, m: m, n: n) != nil
                      && !writePositions[r.buffer].contains { $0 > p && $0 < gi } } ?? true })
            else { return nil }
            initializer = p
        } else {
            guard writers[product] == 1 else { return nil }
        }

        // Grow the epilogue over the nodes after the GEMM.
        var valueOf: [Int: GemmEpilogue.Operand] = [product: .product]   // buffer → value
        var groupReads = Set<Int>()                                        // buffers the group reads from outside
        for r in gemm.reads { if let r, r.buffer != product { groupReads.insert(r.buffer) } }
        if let p = initializer { for r in nodes[p].reads { if let r { groupReads.insert(r.buffer) } } }
        var members: [Int] = []
        var i = gi + 1, lastJoined = gi
        scan: while i < nodes.count && i - lastJoined <= 64 {
            let nd = nodes[i]
            let readsGroup = nd.reads.contains { $0.map { valueOf[$0.buffer] != nil } ?? false }
            if readsGroup {
                guard joins(i, nodes, g, valueOf: valueOf, m: m, n: n, writers: writers, foldable: foldable, used: used,
                            device: device) else { break scan }
                members.append(i)
                lastJoined = i
                valueOf[nd.writes[0].buffer] = .member(members.count - 1)
                for r in nd.reads { if let r, valueOf[r.buffer] == nil { groupReads.insert(r.buffer) } }
            } else {
                let touches = nd.writes.map(\.buffer) + nd.returned.compactMap { $0?.buffer }
                if touches.contains(where: { groupReads.contains($0) || valueOf[$0] != nil }) { break scan }
            }
            i += 1
        }
        guard initializer != nil || !members.isEmpty else { return nil }
        let positions = (initializer.map { [$0] } ?? []) + [gi] + members
        let inGroup = Set(positions)

        // Inputs: the GEMM's operands first, then every other operand read from outside, once per view.
        var inputs: [TensorRef] = [aRef, bRef]
        func operand(_ r: TensorRef, _ shape: [Int]) -> GemmEpilogueKernel.BlockOperand {
            if let v = valueOf[r.buffer] { return .init(source: v, rowStride: n, colStride: 1) }
            let s = matrixStrides(r, broadcastTo: shape, m: m, n: n)!
            if let k = inputs.dropFirst(2).firstIndex(of: r) { return .init(source: .input(k), rowStride: s.row, colStride: s.col) }
            inputs.append(r)
            return .init(source: .input(inputs.count - 1), rowStride: s.row, colStride: s.col)
        }
        let initOperands = initializer.map { p in nodes[p].reads.map { operand($0!, nodes[p].writes[0].shape) } } ?? []
        let memberOperands = members.map { k in nodes[k].reads.map { operand($0!, nodes[k].writes[0].shape) } }

        // Values read outside the group, or kept after the run, are written out.
        var outputs: [GemmEpilogue.Operand] = []
        var writes: [TensorRef] = []
        let values: [(GemmEpilogue.Operand, TensorRef)] = [(.product, out)] + members.enumerated().map { (GemmEpilogue.Operand.member($0.offset), nodes[$0.element].writes[0]) }
        for (k, (v, ref)) in values.enumerated() {
            let escapes = liveOut.contains(ref.buffer) || readers[ref.buffer].contains { !inGroup.contains($0) }
            if escapes || k == values.count - 1 { outputs.append(v); writes.append(ref) }
        }
        let program = GemmEpilogue(accumulate: accumulate, initializer: initializer.map { nodes[$0].kind },
                                   initializerOperands: initOperands.map(\.source), ops: members.map { nodes[$0].kind },
                                   operands: memberOperands.map { $0.map(\.source) }, outputs: outputs)
        let kernel = GemmEpilogueKernel(program: program, m: m, n: n, initializerCall: initializer.map { nodes[$0].call },
                                        initializerOperands: initOperands, gemmCall: gemm.call,
                                        memberCalls: members.map { nodes[$0].call }, memberOperands: memberOperands,
                                        productDType: pbuf.dtype, memberDTypes: members.map { g.buffers[nodes[$0].writes[0].buffer].dtype })
        let node = TracedNode(kind: .gemmEpilogue(program), reads: inputs, writes: writes, returned: [], contextFrom: nil,
                              location: gemm.location, backend: gemm.backend, call: kernel.call, rule: nil)
        return (positions, node)
    }

    /// Whether node `i` can join a GEMM's epilogue whose values are `valueOf`.
    private static func joins(_ i: Int, _ nodes: [TracedNode], _ g: CompiledGraph, valueOf: [Int: GemmEpilogue.Operand],
                              m: Int, n: Int, writers: [Int], foldable: [Bool], used: [Bool], device: Device) -> Bool {
        let nd = nodes[i]
        switch nd.kind {
        case .unary, .binary, .binaryScalar, .select, .copy: break
        default: return false
        }
        guard !used[i], !foldable[i], nd.contextFrom == nil, nd.returned.isEmpty, nd.rule == nil, nd.writes.count == 1,
              nd.backend.device == device else { return false }
        let w = nd.writes[0], buf = g.buffers[w.buffer]
        guard buf.role == .intermediate, writers[w.buffer] == 1, isWhole(w, buf.count), buf.count == m * n,
              valueOf[w.buffer] == nil else { return false }
        for r in nd.reads {
            guard let r, r.buffer != w.buffer else { return false }
            if valueOf[r.buffer] != nil {
                // A value of the group: read whole and in order (any shape of m·n elements).
                guard isWhole(r, g.buffers[r.buffer].count), r.shape.reduce(1, *) == m * n else { return false }
            } else if matrixStrides(r, broadcastTo: w.shape, m: m, n: n) == nil {
                return false
            }
        }
        return true
    }
}
