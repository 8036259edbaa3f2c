import Foundation

// The sizes an op kind carries, as data: what a dynamic-shape graph template (`GraphTemplate`) unifies between two
// traces and evaluates for a new size, and the lowering of the kinds whose backend call depends on them.

extension OpKind {
    /// The kind with every size-like attribute passed through `int` (element counts, geometry, row and batch
    /// counts, byte offsets) and every real attribute through `double` (a fill value, a scalar operand, an epsilon,
    /// an attention scale), visited in a fixed order; axes (`dims`, `dim`), flags, class indices, op names and
    /// constant bytes are not sizes and stay as they are. Kinds made by passes (`fused`, `gemmEpilogue`) map the
    /// kinds of their members.
    ///
    /// Visiting a kind with recording closures lists its sizes; visiting it again with closures that hand back other
    /// values rebuilds it for another size, so two kinds agree "up to sizes" when the first, given the second's
    /// values, equals the second.
    public func mapSizes(_ int: (Int) throws -> Int, _ double: (Double) throws -> Double) rethrows -> OpKind {
        switch self {
        case .upload(let o, let bytes):
            return .upload(byteOffset: try int(o), bytes: bytes)
        case .fill(let v):
            return .fill(try double(v))
        case .binaryScalar(let op, let s, let r):
            return .binaryScalar(op, scalar: try double(s), reversed: r)
        case .im2col(let g):
            return .im2col(try g.mapSizes(int))
        case .col2im(let g):
            return .col2im(try g.mapSizes(int))
        case .conv2d(let g, let b):
            return .conv2d(try g.mapSizes(int), bias: b)
        case .conv2dBackward(let g, let i, let w, let b):
            return .conv2dBackward(try g.mapSizes(int), input: i, weight: w, bias: b)
        case .preparedConv2d(let g, let b, let e):
            return .preparedConv2d(try g.mapSizes(int), bias: b, epilogue: e)
        case .maxPool2d(let w):
            return .maxPool2d(try w.mapSizes(int))
        case .conv2dReluMaxPool(let g, let b, let w):
            return .conv2dReluMaxPool(try g.mapSizes(int), bias: b, try w.mapSizes(int))
        case .maxPool2dReluBackward(let w):
            return .maxPool2dReluBackward(try w.mapSizes(int))
        case .normRows(let rows, let rowLen, let groups, let inner, let eps, let w, let b):
            return .normRows(rows: try int(rows), rowLen: try int(rowLen), groups: try int(groups), inner: try int(inner),
                             eps: try double(eps), weight: w, bias: b)
        case .normRowsBackward(let rows, let rowLen, let w, let b):
            return .normRowsBackward(rows: try int(rows), rowLen: try int(rowLen), weight: w, bias: b)
        case .batchNormStats(let n, let c, let inner):
            return .batchNormStats(n: try int(n), channels: try int(c), inner: try int(inner))
        case .batchNormAffine(let n, let c, let inner):
            return .batchNormAffine(n: try int(n), channels: try int(c), inner: try int(inner))
        case .batchNormBackward(let n, let c, let inner, let w):
            return .batchNormBackward(n: try int(n), channels: try int(c), inner: try int(inner), weight: w)
        case .attention(let scale, let mask):
            return .attention(scale: try double(scale), mask: mask)
        case .attentionBackward(let scale):
            return .attentionBackward(scale: try double(scale))
        case .fused(let p):
            var q = p
            q.ops = try p.ops.map { try $0.mapSizes(int, double) }
            return .fused(q)
        case .gemmEpilogue(let e):
            var q = e
            q.initializer = try e.initializer.map { try $0.mapSizes(int, double) }
            q.ops = try e.ops.map { try $0.mapSizes(int, double) }
            return .gemmEpilogue(q)
        case .copy, .unary, .binary, .select, .reduce, .argReduce, .scan, .matmul, .matmulAccumulate, .gather, .scatter,
             .sort, .random, .maxPool2dBackward, .swapLeadingDims, .preparedLinear, .softmax, .softmaxBackward, .nllLoss,
             .nllLossBackward, .softmaxCrossEntropy, .softmaxCrossEntropyBackward, .recurrentSequence,
             .recurrentSequenceBackward, .lstmCell, .lstmCellBackward, .optimizerStep:
            return self
        }
    }

    /// Whether the kind carries a size or a real attribute (`mapSizes` visits something).
    var carriesSizes: Bool {
        var any = false
        _ = mapSizes({ any = true; return $0 }, { any = true; return $0 })
        return any
    }

    /// The backend call of a kind whose call depends on the attributes `mapSizes` visits, rebuilt from the kind
    /// alone (the same call `TracingBackend` records), so a node specialised for another size runs with its new
    /// attributes. Nil for a kind whose call reads no such attribute (its traced call is reused as it is) and for
    /// kinds only passes make (`fused`, `gemmEpilogue`, prepared ops: passes build their calls).
    var sizedCall: NodeCall? {
        switch self {
        case .upload(let byteOffset, let data):
            return { be, a in
                let w = a.writes[0]
                data.withUnsafeBytes { be.upload($0, to: w.storage, byteOffset: w.offset * w.dtype.itemSize + byteOffset) }
                return NodeResult()
            }
        case .fill(let value):
            return { b, a in b.fill(a.writes[0], value: value); return NodeResult() }
        case .binaryScalar(let op, let scalar, let reversed):
            return { b, a in b.binaryScalar(op, a.reads[0]!, scalar, reversed: reversed, out: a.writes[0]); return NodeResult() }
        case .im2col(let g):
            return { b, a in b.im2col(a.reads[0]!, geometry: g, out: a.writes[0]); return NodeResult() }
        case .col2im(let g):
            return { b, a in b.col2im(a.reads[0]!, geometry: g, out: a.writes[0]); return NodeResult() }
        case .conv2d(let g, _):
            return { b, a in b.conv2d(a.reads[0]!, weight: a.reads[1]!, bias: a.reads[2], geometry: g, out: a.writes[0]); return NodeResult() }
        case .conv2dBackward(let g, let input, let weight, let bias):
            return { b, a in
                let r = b.conv2dBackward(a.reads[0]!, weight: a.reads[1]!, grad: a.reads[2]!, geometry: g,
                                         input: input, weight: weight, bias: bias)
                return NodeResult(returned: [r.input, r.weight, r.bias])
            }
        case .maxPool2d(let w):
            return { b, a in b.maxPool2d(a.reads[0]!, windows: w, out: a.writes[0], indices: a.writes[1]); return NodeResult() }
        case .normRows(let rows, let rowLen, let groups, let inner, let eps, _, _):
            return { b, a in
                b.normRows(a.reads[0]!, rows: rows, rowLen: rowLen, groups: groups, inner: inner, weight: a.reads[1], bias: a.reads[2],
                           eps: eps, out: a.writes[0], mean: a.writes[1], rstd: a.writes[2])
                return NodeResult()
            }
        case .normRowsBackward(let rows, let rowLen, _, let hasBias):
            return { b, a in
                let g = b.normRowsBackward(a.reads[0]!, grad: a.reads[1]!, weight: a.reads[2], hasBias: hasBias, mean: a.reads[3]!,
                                           rstd: a.reads[4]!, rows: rows, rowLen: rowLen)
                return NodeResult(returned: [g.input, g.weight, g.bias])
            }
        case .batchNormStats(let n, let c, let inner):
            return { b, a in
                b.batchNormStats(a.reads[0]!, n: n, channels: c, inner: inner, mean: a.writes[0], variance: a.writes[1])
                return NodeResult()
            }
        case .batchNormAffine(let n, let c, let inner):
            return { b, a in
                b.batchNormAffine(a.reads[0]!, n: n, channels: c, inner: inner, scale: a.reads[1]!, shift: a.reads[2]!, out: a.writes[0])
                return NodeResult()
            }
        case .batchNormBackward(let n, let c, let inner, _):
            return { b, a in
                let g = b.batchNormBackward(a.reads[0]!, grad: a.reads[1]!, weight: a.reads[2], mean: a.reads[3]!, invstd: a.reads[4]!,
                                            n: n, channels: c, inner: inner)
                return NodeResult(returned: [g.input, g.weight, g.bias])
            }
        case .attention(let scale, _):
            return { b, a in
                NodeResult(context: b.attention(q: a.reads[0]!, k: a.reads[1]!, v: a.reads[2]!, mask: a.reads[3], scale: scale, out: a.writes[0]))
            }
        case .attentionBackward(let scale):
            return { b, a in
                b.attentionBackward(a.context as! AttentionContext, grad: a.reads[0]!, scale: scale, dq: a.writes[0], dk: a.writes[1], dv: a.writes[2])
                return NodeResult()
            }
        default:
            return nil
        }
    }
}

extension ConvGeometry {
    /// The geometry with each of its fourteen sizes passed through `f`, in declaration order.
    func mapSizes(_ f: (Int) throws -> Int) rethrows -> ConvGeometry {
        ConvGeometry(batch: try f(batch), channels: try f(channels), height: try f(height), width: try f(width),
                     kernelH: try f(kernelH), kernelW: try f(kernelW), strideH: try f(strideH), strideW: try f(strideW),
                     padH: try f(padH), padW: try f(padW), dilationH: try f(dilationH), dilationW: try f(dilationW),
                     outH: try f(outH), outW: try f(outW))
    }
}

extension PoolWindows {
    /// The windows with each size passed through `f` (the window lists element by element: their lengths, the
    /// output's height and width, are structure and stay).
    func mapSizes(_ f: (Int) throws -> Int) rethrows -> PoolWindows {
        PoolWindows(height: try f(height), width: try f(width), rowStart: try rowStart.map(f), rowCount: try rowCount.map(f),
                    rowDilation: try f(rowDilation), colStart: try colStart.map(f), colCount: try colCount.map(f),
                    colDilation: try f(colDilation))
    }
}
