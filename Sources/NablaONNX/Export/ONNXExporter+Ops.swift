import Foundation
import Nabla

// Each traced backend op as ONNX nodes (opset 17 to 20). Ops that only a training step or a backward pass records
// (gradients, optimizer updates, random draws, batch statistics) have no inference form and are errors.

extension ONNXExporter {
    private typealias A = ONNXGraphBuilder

    /// Lowers the current node.
    func lowerNode() throws {
        let n1 = g1.nodes[nodeIndex], n2 = g2.nodes[nodeIndex]
        switch n1.kind {
        case .upload(let offset, let bytes):
            guard case .upload(let offset2, let bytes2) = n2.kind, offset == 0, offset2 == 0, bytes == bytes2 else {
                throw unsupported("a constant written from the host depends on the batch size (or is written in parts); build it from the input's shape with tensor ops")
            }
            let w = n1.writes[0]
            let dtype = g1.buffers[w.buffer].dtype
            guard bytes.count == g1.buffers[w.buffer].count * dtype.itemSize else { throw unsupported("a constant written in parts") }
            let name = builder.reserve("const")
            builder.addInitializer(name: name, dtype: dtype, shape: [g1.buffers[w.buffer].count], bytes: bytes)
            try write(0, ONNXValue(name: name, dtype: dtype, shape: [SymInt(g1.buffers[w.buffer].count)]))
        case .copy:
            let v = cast(try read(0, broadcastable: true), writeDType(0))
            if try v.shape == writeShape(0) || !writeBroadcast(0, v) { try write(0, try expand(v, try writeShape(0))) }
        case .fill(let value):
            let shape = try writeShape(0), dtype = writeDType(0)
            if shape.allSatisfy({ $0.fixed != nil }) {
                try write(0, ONNXValue(name: builder.scalar(value, dtype: dtype, shape: shape.map(\.constant)), dtype: dtype, shape: shape))
            } else {
                var t = Onnx_TensorProto()
                t.dataType = Int32(A.elementType(dtype))
                t.dims = [1]
                t.rawData = A.bytes(repeating: value, count: 1, dtype: dtype)
                let out = builder.op("ConstantOfShape", [try builder.shapeTensor(shape)], [A.attr("value", tensor: t)])
                try write(0, ONNXValue(name: out, dtype: dtype, shape: shape))
            }
        case .unary(let op):
            let x = try read(0)
            try write(0, try unary(op, x, out: writeDType(0)))
        case .binary(let op):
            let a = try read(0, broadcastable: true), b = try read(1, broadcastable: true)
            let out = try binary(op, a, b, out: writeDType(0))
            try write(0, try expand(out, try writeShape(0)))
        case .binaryScalar(let op, let scalar, let reversed):
            let x = try read(0)
            let c = ONNXValue(name: builder.scalar(scalar, dtype: x.dtype), dtype: x.dtype, shape: [])
            try write(0, try binary(op, reversed ? c : x, reversed ? x : c, out: writeDType(0)))
        case .select:
            let c = try read(0, broadcastable: true), a = try read(1, broadcastable: true), b = try read(2, broadcastable: true)
            let out = builder.op("Where", [cast(c, .bool).name, a.name, b.name])
            try write(0, try expand(ONNXValue(name: out, dtype: a.dtype, shape: broadcast(broadcast(c.shape, a.shape), b.shape)), try writeShape(0)))
        case .reduce(let op, let dims):
            try reduce(op, dims: dims)
        case .scan(let product, let dim):
            guard !product else { throw unsupported("cumulative products have no ONNX operator") }
            let x = try read(0)
            let out = builder.op("CumSum", [x.name, builder.int64s([dim], shape: [])])
            try write(0, ONNXValue(name: out, dtype: x.dtype, shape: x.shape))
        case .matmul, .matmulAccumulate:
            let a = try read(0, broadcastable: true), b = try read(1, broadcastable: true)
            guard a.shape.count >= 2, b.shape.count >= 2 else { throw unsupported("a matrix product of rank < 2") }
            let shape = broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) + [a.shape[a.shape.count - 2], b.shape[b.shape.count - 1]]
            var out = ONNXValue(name: builder.op("MatMul", [a.name, b.name]), dtype: a.dtype, shape: shape)
            if case .matmulAccumulate = n1.kind {
                let acc = try read(2, broadcastable: true)
                out = ONNXValue(name: builder.op("Add", [out.name, acc.name]), dtype: a.dtype, shape: broadcast(shape, acc.shape))
            }
            try write(0, try expand(out, try writeShape(0)))
        case .gather(let dim):
            try gather(dim: dim)
        case .softmax(let dim, let log):
            let x = try read(0)
            let out = builder.op(log ? "LogSoftmax" : "Softmax", [x.name], [A.attr("axis", dim)])
            try write(0, ONNXValue(name: out, dtype: x.dtype, shape: x.shape))
        case .conv2d(let g, let bias):
            let x = try read(0), w = try read(1)
            var inputs = [x.name, w.name]
            if bias { inputs.append(try read(2).name) }
            let out = builder.op("Conv", inputs, [
                A.attr("kernel_shape", ints: [g.kernelH, g.kernelW]), A.attr("strides", ints: [g.strideH, g.strideW]),
                A.attr("pads", ints: [g.padH, g.padW, g.padH, g.padW]), A.attr("dilations", ints: [g.dilationH, g.dilationW]),
                A.attr("group", 1),
            ])
            try write(0, ONNXValue(name: out, dtype: x.dtype, shape: try writeShape(0)))
        case .maxPool2d(let windows):
            try maxPool(windows)
        case .normRows(_, let rowLen, let groups, let inner, let eps, let hasWeight, let hasBias):
            guard groups == 1, inner == 1 else { throw unsupported("group normalisation (groups \(groups)) is not exported yet") }
            try layerNorm(rowLen: rowLen, eps: eps, hasWeight: hasWeight, hasBias: hasBias)
        case .batchNormAffine(_, let channels, let inner):
            try batchNormAffine(channels: channels, inner: inner)
        case .attention(let scale, let hasMask):
            try attention(scale: scale, hasMask: hasMask)
        case .recurrentSequence(let mode, let reverse, _):
            guard mode == .lstm else { throw unsupported("only LSTM recurrences are exported (ONNX GRU/RNN not yet)") }
            try lstm(reverse: reverse)
        case .softmaxCrossEntropy(let ignoreIndex, let reduction):
            try softmaxCrossEntropyLoss(ignoreIndex: ignoreIndex, reduction: reduction)
        case .nllLoss(let ignoreIndex, let reduction):
            try negativeLogLikelihoodLoss(ignoreIndex: ignoreIndex, reduction: reduction)
        case .random:
            throw unsupported("random sampling has no inference form: call model.eval() (Dropout) before exporting")
        case .batchNormStats:
            throw unsupported("batch statistics are a training-mode BatchNorm: call model.eval() before exporting")
        case .optimizerStep:
            throw unsupported("an optimizer update is training, not inference: export the model's forward pass")
        case .conv2dBackward, .softmaxBackward, .normRowsBackward, .batchNormBackward, .attentionBackward,
             .recurrentSequenceBackward, .lstmCellBackward, .maxPool2dBackward, .col2im, .softmaxCrossEntropyBackward, .nllLossBackward:
            throw unsupported("a backward op is training, not inference: export under noGrad (the exporter traces without grad)")
        default:
            throw unsupported("no ONNX lowering for this op kind")
        }
    }

    // MARK: Element-wise

    /// An element-wise function of `x` written as ONNX nodes.
    private func unary(_ op: UnaryOp, _ x: ONNXValue, out outType: DType) throws -> ONNXValue {
        let dt = x.dtype
        func one(_ t: String, _ v: String, _ a: [Onnx_AttributeProto] = []) -> String { builder.op(t, [v], a) }
        func k(_ c: Double) -> String { builder.scalar(c, dtype: dt) }
        let v = x.name
        let name: String
        switch op {
        case .neg: name = one("Neg", v)
        case .abs: name = one("Abs", v)
        case .sign: name = one("Sign", v)
        case .exp: name = one("Exp", v)
        case .log: name = one("Log", v)
        case .log1p: name = one("Log", builder.op("Add", [v, k(1)]))
        case .expm1: name = builder.op("Sub", [one("Exp", v), k(1)])
        case .sqrt: name = one("Sqrt", v)
        case .rsqrt: name = one("Reciprocal", one("Sqrt", v))
        case .square: name = builder.op("Mul", [v, v])
        case .reciprocal: name = one("Reciprocal", v)
        case .sin: name = one("Sin", v)
        case .cos: name = one("Cos", v)
        case .tan: name = one("Tan", v)
        case .tanh: name = one("Tanh", v)
        case .sigmoid: name = one("Sigmoid", v)
        case .relu: name = one("Relu", v)
        case .floor: name = one("Floor", v)
        case .ceil: name = one("Ceil", v)
        case .round: name = one("Round", v)
        case .erf: name = one("Erf", v)
        case .gelu:
            if builder.opset >= 20 { name = one("Gelu", v) } else {
                // x · ½ · (1 + erf(x / √2)), what torch.onnx writes below opset 20.
                let e = one("Erf", builder.op("Mul", [v, k(0.70710678118654752440)]))
                name = builder.op("Mul", [builder.op("Mul", [v, k(0.5)]), builder.op("Add", [e, k(1)])])
            }
        case .geluTanh:
            if builder.opset >= 20 { name = one("Gelu", v, [A.attr("approximate", "tanh")]) } else {
                let cube = builder.op("Mul", [builder.op("Mul", [v, v]), v])
                let inner = builder.op("Mul", [builder.op("Add", [v, builder.op("Mul", [cube, k(0.044715)])]), k(0.79788456080286535588)])
                name = builder.op("Mul", [builder.op("Mul", [v, k(0.5)]), builder.op("Add", [one("Tanh", inner), k(1)])])
            }
        case .silu: name = builder.op("Mul", [v, one("Sigmoid", v)])
        case .logicalNot: name = one("Not", cast(x, .bool).name)
        case .isnan: name = one("IsNaN", v)
        case .isinf: name = one("IsInf", v)
        case .leakyRelu(let a): name = one("LeakyRelu", v, [A.attr("alpha", a)])
        case .elu(let a): name = one("Elu", v, [A.attr("alpha", a)])
        case .softplus(let beta, _):
            name = beta == 1 ? one("Softplus", v) : builder.op("Div", [one("Softplus", builder.op("Mul", [v, k(beta)])), k(beta)])
        case .clamp(let lo, let hi):
            name = builder.op("Clip", [v, lo.isFinite ? k(lo) : "", hi.isFinite ? k(hi) : ""])
        case .powScalar(let e): name = builder.op("Pow", [v, k(e)])
        case .rpowScalar(let b): name = builder.op("Pow", [k(b), v])
        default: throw unsupported("the element-wise function \(op) has no ONNX lowering")
        }
        return cast(ONNXValue(name: name, dtype: op.returnsBool ? .bool : dt, shape: x.shape), outType)
    }

    /// An element-wise function of two broadcast values written as ONNX nodes.
    private func binary(_ op: BinaryOp, _ a0: ONNXValue, _ b0: ONNXValue, out outType: DType) throws -> ONNXValue {
        let common = op.returnsBool ? a0.dtype : outType
        let a = cast(a0, common), b = cast(b0, common)
        let shape = broadcast(a.shape, b.shape)
        let types: [BinaryOp: String] = [.add: "Add", .sub: "Sub", .mul: "Mul", .div: "Div", .pow: "Pow", .maximum: "Max",
                                         .minimum: "Min", .eq: "Equal", .lt: "Less", .le: "LessOrEqual", .gt: "Greater",
                                         .ge: "GreaterOrEqual", .logicalAnd: "And", .logicalOr: "Or", .logicalXor: "Xor"]
        let name: String
        if let t = types[op] {
            let logical = op == .logicalAnd || op == .logicalOr || op == .logicalXor
            name = logical ? builder.op(t, [cast(a, .bool).name, cast(b, .bool).name]) : builder.op(t, [a.name, b.name])
        } else if op == .ne {
            name = builder.op("Not", [builder.op("Equal", [a.name, b.name])])
        } else if op == .floorDivide && common.isFloatingPoint {
            name = builder.op("Floor", [builder.op("Div", [a.name, b.name])])
        } else if op == .remainder && !common.isFloatingPoint {
            name = builder.op("Mod", [a.name, b.name], [A.attr("fmod", 0)])
        } else {
            throw unsupported("the element-wise function \(op) (\(common)) has no ONNX lowering")
        }
        return cast(ONNXValue(name: name, dtype: op.returnsBool ? .bool : common, shape: shape), outType)
    }

    // MARK: Reductions and indexing

    private func reduce(_ op: ReduceOp, dims: [Int]) throws {
        let x = try read(0)
        let axes = dims.isEmpty ? Array(x.shape.indices) : dims
        let types: [ReduceOp: String] = [.sum: "ReduceSum", .prod: "ReduceProd", .max: "ReduceMax", .min: "ReduceMin"]
        guard let t = types[op] else { throw unsupported("the reduction \(op) has no ONNX lowering") }
        let out: String
        if op == .sum || builder.opset >= 18 {
            out = builder.op(t, [x.name, builder.int64s(axes)], [A.attr("keepdims", 1)])
        } else {
            out = builder.op(t, [x.name], [A.attr("axes", ints: axes), A.attr("keepdims", 1)])
        }
        var shape = x.shape
        for a in axes { shape[a] = SymInt(1) }
        try write(0, ONNXValue(name: out, dtype: x.dtype, shape: shape))
    }

    /// `torch.gather`; an index that is a 1-D list broadcast over the other dims (indexSelect, embedding) is `Gather`.
    private func gather(dim: Int) throws {
        let x = try read(0)
        guard let i1 = g1.nodes[nodeIndex].reads[1], let i2 = g2.nodes[nodeIndex].reads[1] else { throw unsupported("no index") }
        let alongOnly = i1.strides.indices.allSatisfy { $0 == dim || i1.strides[$0] == 0 || i1.shape[$0] == 1 }
            && i2.strides.indices.allSatisfy { $0 == dim || i2.strides[$0] == 0 || i2.shape[$0] == 1 }
        let outShape = try writeShape(0)
        if alongOnly, outShape.indices.allSatisfy({ $0 == dim || outShape[$0] == x.shape[$0] }) {
            func list(_ r: TensorRef) -> TensorRef {
                var one = r
                one.shape = [r.shape[dim]]
                one.strides = [r.strides[dim]]
                return one
            }
            let idx = try view(list(i1), list(i2))
            let out = builder.op("Gather", [x.name, cast(idx, .int64).name], [A.attr("axis", dim)])
            try write(0, ONNXValue(name: out, dtype: x.dtype, shape: outShape))
        } else {
            let idx = try read(1)
            let out = builder.op("GatherElements", [x.name, cast(idx, .int64).name], [A.attr("axis", dim)])
            try write(0, ONNXValue(name: out, dtype: x.dtype, shape: outShape))
        }
    }

    // MARK: Neural-net ops

    /// Max pooling over planes `[P, H, W]`: run on the producer's `[N, C, H, W]` value when there is one.
    private func maxPool(_ w: PoolWindows) throws {
        guard let k = w.rowCount.max(), let kw = w.colCount.max(), let r0 = w.rowStart.first, let c0 = w.colStart.first else {
            throw unsupported("empty pooling windows")
        }
        let sh = w.rowStart.count > 1 ? w.rowStart[1] - w.rowStart[0] : k
        let sw = w.colStart.count > 1 ? w.colStart[1] - w.colStart[0] : kw
        for (i, s) in w.rowStart.enumerated() where s != r0 + i * sh { throw unsupported("adaptive (irregular) pooling windows") }
        for (i, s) in w.colStart.enumerated() where s != c0 + i * sw { throw unsupported("adaptive (irregular) pooling windows") }
        let pt = -r0, pl = -c0
        let pb = max(0, (w.outH - 1) * sh + w.rowDilation * (k - 1) + 1 - w.height - pt)
        let pr = max(0, (w.outW - 1) * sw + w.colDilation * (kw - 1) + 1 - w.width - pl)
        let r1 = g1.nodes[nodeIndex].reads[0]!
        let planes = try merge(r1.shape[0], g2.nodes[nodeIndex].reads[0]!.shape[0])
        var x: ONNXValue
        if let whole = try wholeValue(r1), whole.shape.count == 4, whole.shape[2] == SymInt(w.height), whole.shape[3] == SymInt(w.width) {
            x = whole
        } else {
            x = try reshape(try read(0), [planes, SymInt(1), SymInt(w.height), SymInt(w.width)])
        }
        let out = builder.op("MaxPool", [x.name], [
            A.attr("kernel_shape", ints: [k, kw]), A.attr("strides", ints: [sh, sw]), A.attr("pads", ints: [pt, pl, pb, pr]),
            A.attr("dilations", ints: [w.rowDilation, w.colDilation]),
        ])
        try write(0, ONNXValue(name: out, dtype: x.dtype, shape: [x.shape[0], x.shape[1], SymInt(w.outH), SymInt(w.outW)]), anyShape: true)
    }

    /// Layer normalisation over the trailing dims that hold `rowLen` elements: `LayerNormalization` (opset 17).
    private func layerNorm(rowLen: Int, eps: Double, hasWeight: Bool, hasBias: Bool) throws {
        let x = try read(0)
        var axis = x.shape.count, size = 1
        while axis > 0, size < rowLen, let d = x.shape[axis - 1].fixed { size *= d; axis -= 1 }
        guard size == rowLen, axis < x.shape.count else { throw unsupported("the normalised dims (\(rowLen) elements) are not trailing dims of \(x.shape)") }
        let normShape = Array(x.shape[axis...])
        let scale = try hasWeight ? reshape(read(1), normShape)
            : ONNXValue(name: builder.scalar(1, dtype: x.dtype, shape: normShape.map(\.constant)), dtype: x.dtype, shape: normShape)
        var inputs = [x.name, scale.name]
        if hasBias { inputs.append(try reshape(try read(2), normShape).name) }
        let out = builder.op("LayerNormalization", inputs, [A.attr("axis", axis), A.attr("epsilon", eps)])
        try write(0, ONNXValue(name: out, dtype: x.dtype, shape: x.shape))
    }

    /// Eval-mode batch normalisation as its per-channel affine map `x · scale[c] + shift[c]`.
    private func batchNormAffine(channels c: Int, inner: Int) throws {
        let r1 = g1.nodes[nodeIndex].reads[0]!, r2 = g2.nodes[nodeIndex].reads[0]!
        var x: ONNXValue
        var trailing: [SymInt]
        if let whole = try wholeValue(r1), whole.shape.count >= 2, whole.shape[1] == SymInt(c),
           whole.shape.dropFirst(2).allSatisfy({ $0.fixed != nil }), whole.shape.dropFirst(2).reduce(1, { $0 * $1.constant }) == inner {
            x = whole
            trailing = Array(repeating: SymInt(1), count: whole.shape.count - 2)
        } else {
            let n = merge(r1.shape.reduce(1, *) / (c * inner), r2.shape.reduce(1, *) / (c * inner))
            x = try reshape(try read(0), [n, SymInt(c), SymInt(inner)])
            trailing = [SymInt(1)]
        }
        let scale = try reshape(try read(1), [SymInt(c)] + trailing), shift = try reshape(try read(2), [SymInt(c)] + trailing)
        let y = builder.op("Add", [builder.op("Mul", [x.name, scale.name]), shift.name])
        try write(0, ONNXValue(name: y, dtype: x.dtype, shape: x.shape), anyShape: true)
    }

    /// Scaled dot-product attention as MatMul, Mul, Add (mask), Softmax, MatMul.
    private func attention(scale: Double, hasMask: Bool) throws {
        let q = try read(0), k = try read(1), v = try read(2)
        let r = k.shape.count
        let kt = transpose(k, Array(0..<(r - 2)) + [r - 1, r - 2])
        var s = builder.op("Mul", [builder.op("MatMul", [q.name, kt.name]), builder.scalar(scale, dtype: q.dtype)])
        if hasMask && hasRead(3) { s = builder.op("Add", [s, cast(try read(3, broadcastable: true), q.dtype).name]) }
        let p = builder.op("Softmax", [s], [A.attr("axis", -1)])
        let out = builder.op("MatMul", [p, v.name])
        try write(0, ONNXValue(name: out, dtype: q.dtype, shape: Array(q.shape.dropLast()) + [v.shape[v.shape.count - 1]]))
    }

    /// One direction of an LSTM layer over `[T, B, F]`: ONNX `LSTM` with the gates reordered from Nabla's (and
    /// PyTorch's) i, f, g, o to ONNX's i, o, f, c.
    private func lstm(reverse: Bool) throws {
        let x = try read(0), wih = try read(1), whh = try read(2)
        guard whh.shape.count == 2, let hidden = whh.shape[1].fixed else { throw unsupported("recurrent weights of shape \(whh.shape)") }
        func gates(_ w: ONNXValue) -> String {
            let parts = [0, 3, 1, 2].map { g in
                builder.op("Slice", [w.name, builder.int64s([g * hidden]), builder.int64s([(g + 1) * hidden]), builder.int64s([0])])
            }
            return builder.op("Concat", parts, [A.attr("axis", 0)])
        }
        func unsqueeze(_ v: String) -> String { builder.op("Unsqueeze", [v, builder.int64s([0])]) }
        var inputs = [x.name, unsqueeze(gates(wih)), unsqueeze(gates(whh))]
        if hasRead(3) || hasRead(4) {
            let zero = builder.scalar(0, dtype: x.dtype, shape: [4 * hidden])
            let bih = try hasRead(3) ? gates(read(3)) : zero, bhh = try hasRead(4) ? gates(read(4)) : zero
            inputs.append(unsqueeze(builder.op("Concat", [bih, bhh], [A.attr("axis", 0)])))
        } else {
            inputs.append("")
        }
        inputs.append("")   // sequence_lens
        inputs.append(unsqueeze(try read(5).name))
        inputs.append(try hasRead(6) ? unsqueeze(read(6).name) : "")
        var attrs = [A.attr("hidden_size", hidden)]
        if reverse { attrs.append(A.attr("direction", "reverse")) }
        let outs = builder.node("LSTM", inputs, count: 3, attributes: attrs)
        let t = x.shape[0], b = x.shape[1]
        let y = builder.op("Squeeze", [outs[0], builder.int64s([1])])
        try writeReturned(0, ONNXValue(name: y, dtype: x.dtype, shape: [t, b, SymInt(hidden)]))
        try writeReturned(1, ONNXValue(name: builder.op("Squeeze", [outs[1], builder.int64s([0])]), dtype: x.dtype, shape: [b, SymInt(hidden)]))
        if g1.nodes[nodeIndex].returned.count > 2 {
            try writeReturned(2, ONNXValue(name: builder.op("Squeeze", [outs[2], builder.int64s([0])]), dtype: x.dtype, shape: [b, SymInt(hidden)]))
        }
    }
}
