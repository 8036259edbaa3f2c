// The reference backend: every kernel a naive loop over `RefElements`, every fused op its composite default. It
// names no C target and no other backend's code; it is the proof that the `Backend` protocol alone carries every
// op (the op suite, gradchecks and training steps run on `.reference` in the tests) and the template for new devices.

/// A backend of plain loops on host memory, registered as `Device.reference`.
///
/// Slow by design: use it to check that an op or a model runs through the `Backend` protocol alone, or as the
/// starting point of a new backend.
/// ```swift
/// let x = Tensor.randn([4, 3]).to(.reference)
/// let y = softmax(x, dim: -1).to(.cpu)
/// ```
public final class ReferenceBackend: HostMemoryBackend, @unchecked Sendable {
    /// The one reference backend.
    public static let shared = ReferenceBackend()
    /// `.reference`.
    public var device: Device { .reference }
    /// No inline buffers: every buffer comes from `allocate`.
    public var allocatesSmallBuffersInline: Bool { false }
    /// Calls of each fused op.
    package let counter = FusedOpCounter()

    private init() {}

    /// Allocates host memory.
    public func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(byteCount, 1), alignment: 64)
    }

    // MARK: Element-wise

    /// Element by element, converting through Double (Int64 between integer dtypes).
    public func copy(_ src: Tensor, into dst: Tensor) {
        let d = RefElements(dst), s = RefElements(src, as: dst.shape)
        for k in 0..<d.count {
            if s.isInteger && d.isInteger { d.storeInt(d.index(k), s.loadInt(s.index(k))) } else { d.store(d.index(k), s.load(s.index(k))) }
        }
    }

    /// Writes `value` everywhere.
    public func fill(_ dst: Tensor, value: Double) {
        let d = RefElements(dst)
        for k in 0..<d.count { d.store(d.index(k), value) }
    }

    /// `out = op(x)`.
    public func unary(_ op: UnaryOp, _ x: Tensor, out: Tensor) {
        let o = RefElements(out), a = RefElements(x, as: out.shape)
        if a.isInteger && !op.returnsBool {
            for k in 0..<o.count {
                let v = a.loadInt(a.index(k))
                let r: Int64
                switch op {
                case .neg: r = 0 &- v
                case .abs: r = v < 0 ? 0 &- v : v
                case .sign: r = v > 0 ? 1 : (v < 0 ? -1 : 0)
                case .square: r = v &* v
                case .relu: r = Swift.max(v, 0)
                case .floor, .ceil, .round, .trunc: r = v
                case .clamp(let lo, let hi):
                    r = Swift.min(Swift.max(v, lo.isInfinite ? Int64.min : Int64(lo.rounded(.up))), hi.isInfinite ? Int64.max : Int64(hi.rounded(.down)))
                default: nablaFail("\(op): not supported for integer tensors (convert with .to(.float32) first)")
                }
                o.storeInt(o.index(k), r)
            }
            return
        }
        for k in 0..<o.count { o.store(o.index(k), refUnary(op, a.load(a.index(k)))) }
    }

    /// `out = op(a, b)`.
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, out: Tensor) {
        let x = RefElements(a, as: out.shape), y = RefElements(b, as: out.shape), o = RefElements(out)
        for k in 0..<o.count {
            if x.isInteger && y.isInteger {
                o.storeInt(o.index(k), refBinaryInt(op, x.loadInt(x.index(k)), y.loadInt(y.index(k))))
            } else {
                o.store(o.index(k), refBinary(op, x.load(x.index(k)), y.load(y.index(k))))
            }
        }
    }

    /// `out = op(a, scalar)` or `op(scalar, a)`.
    public func binaryScalar(_ op: BinaryOp, _ a: Tensor, _ scalar: Double, reversed: Bool, out: Tensor) {
        let x = RefElements(a, as: out.shape), o = RefElements(out)
        let integer = x.isInteger && scalar == scalar.rounded() && Swift.abs(scalar) < 9e18
        for k in 0..<o.count {
            if integer {
                let v = x.loadInt(x.index(k)), s = Int64(scalar)
                o.storeInt(o.index(k), reversed ? refBinaryInt(op, s, v) : refBinaryInt(op, v, s))
            } else {
                let v = x.dtype == .float32 ? Double(Float(x.load(x.index(k)))) : x.load(x.index(k))
                let s = x.dtype == .float32 ? Double(Float(scalar)) : scalar
                o.store(o.index(k), reversed ? refBinary(op, s, v) : refBinary(op, v, s))
            }
        }
    }

    /// `out = cond ? a : b`.
    public func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor, out: Tensor) {
        let c = RefElements(cond, as: out.shape), x = RefElements(a, as: out.shape), y = RefElements(b, as: out.shape), o = RefElements(out)
        for k in 0..<o.count {
            let pick = c.load(c.index(k)) != 0 ? x : y
            if pick.isInteger && o.isInteger { o.storeInt(o.index(k), pick.loadInt(pick.index(k))) }
            else { o.store(o.index(k), pick.load(pick.index(k))) }
        }
    }

    // MARK: Reductions

    /// Loops over every output position and the reduced positions under it.
    public func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], out: Tensor) {
        let a = RefElements(x), o = RefElements(out)
        let reduced = Set(dims)
        for k in 0..<o.count {
            let outPos = position(k, in: out.shape)
            var acc: Double
            switch op {
            case .sum, .any: acc = 0
            case .prod, .all: acc = 1
            case .max: acc = -.infinity
            case .min: acc = .infinity
            }
            var accInt: Int64 = op == .prod ? 1 : 0
            var first = true
            forEachPosition(x.shape, fixing: outPos, except: reduced) { pos in
                let i = a.index(at: pos)
                if a.isInteger && (op == .sum || op == .prod) {
                    accInt = op == .sum ? accInt &+ a.loadInt(i) : accInt &* a.loadInt(i)
                    return
                }
                let v = a.load(i)
                switch op {
                case .sum: acc += v
                case .prod: acc *= v
                case .max: if first || v.isNaN || v > acc { if !acc.isNaN { acc = v } }
                case .min: if first || v.isNaN || v < acc { if !acc.isNaN { acc = v } }
                case .all: if v == 0 { acc = 0 }
                case .any: if v != 0 { acc = 1 }
                }
                first = false
            }
            if a.isInteger && (op == .sum || op == .prod) { o.storeInt(o.index(k), accInt) } else { o.store(o.index(k), acc) }
        }
    }

    /// First occurrence of the max (min) along `dim`; NaN counts as the largest.
    public func argReduce(max: Bool, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
        let a = RefElements(x), v = RefElements(values), ix = RefElements(indices)
        for k in 0..<v.count {
            var pos = position(k, in: values.shape)
            var best = 0.0, bestIndex: Int64 = 0
            for j in 0..<x.shape[dim] {
                pos[dim] = j
                let e = a.load(a.index(at: pos))
                if j == 0 || (!best.isNaN && (e.isNaN || (max ? e > best : e < best))) { best = e; bestIndex = Int64(j) }
            }
            v.store(v.index(k), best)
            ix.storeInt(ix.index(k), bestIndex)
        }
    }

    /// Running sums (products) along `dim`.
    public func scan(product: Bool, _ x: Tensor, dim: Int, out: Tensor) {
        let a = RefElements(x), o = RefElements(out)
        var lineShape = x.shape
        lineShape[dim] = 1
        for k in 0..<lineShape.reduce(1, *) {
            var pos = position(k, in: lineShape)
            var acc = product ? 1.0 : 0.0, accInt: Int64 = product ? 1 : 0
            for j in 0..<x.shape[dim] {
                pos[dim] = j
                if a.isInteger && o.isInteger {
                    let e = a.loadInt(a.index(at: pos))
                    accInt = product ? accInt &* e : accInt &+ e
                    o.storeInt(o.index(at: pos), accInt)
                } else {
                    let e = a.load(a.index(at: pos))
                    acc = product ? acc * e : acc + e
                    o.store(o.index(at: pos), acc)
                }
            }
        }
    }

    /// Triple loop per batch, accumulating in Double.
    public func matmul(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let x = RefElements(a), y = RefElements(b), o = RefElements(out)
        let batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2]
        for p in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for t in 0..<k { s += x.load(x.index(at: [p, i, t])) * y.load(y.index(at: [p, t, j])) }
                    o.store(o.index(at: [p, i, j]), s)
                }
            }
        }
    }

    // MARK: Indexing

    /// `out[pos] = x[pos with pos[dim] = index[pos]]`.
    public func gather(_ x: Tensor, dim: Int, index: Tensor, out: Tensor) {
        let a = RefElements(x), ix = RefElements(index), o = RefElements(out)
        for k in 0..<o.count {
            var pos = position(k, in: out.shape)
            let j = Int(ix.loadInt(ix.index(at: pos)))
            check(j >= 0 && j < x.shape[dim], "gather: index \(j) is out of bounds for dim \(dim) with size \(x.shape[dim])")
            let o0 = o.index(at: pos)
            pos[dim] = j
            if a.isInteger && o.isInteger { o.storeInt(o0, a.loadInt(a.index(at: pos))) } else { o.store(o0, a.load(a.index(at: pos))) }
        }
    }

    /// `out[pos with pos[dim] = index[pos]] (+)= src[pos]`.
    public func scatter(_ src: Tensor, dim: Int, index: Tensor, out: Tensor, accumulate: Bool) {
        let s = RefElements(src), ix = RefElements(index), o = RefElements(out)
        for k in 0..<ix.count {
            var pos = position(k, in: index.shape)
            let v = s.load(s.index(at: pos))
            let j = Int(ix.loadInt(ix.index(at: pos)))
            check(j >= 0 && j < out.shape[dim], "scatter: index \(j) is out of bounds for dim \(dim) with size \(out.shape[dim])")
            pos[dim] = j
            let i = o.index(at: pos)
            o.store(i, accumulate ? o.load(i) + v : v)
        }
    }

    /// A stable sort of each line; NaN sorts as the largest value.
    public func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor) {
        let a = RefElements(x), v = RefElements(values), ix = RefElements(indices)
        var lineShape = x.shape
        lineShape[dim] = 1
        for k in 0..<lineShape.reduce(1, *) {
            var pos = position(k, in: lineShape)
            var line: [(Double, Int)] = []
            for j in 0..<x.shape[dim] { pos[dim] = j; line.append((a.load(a.index(at: pos)), j)) }
            func less(_ p: (Double, Int), _ q: (Double, Int)) -> Bool {
                if p.0.isNaN || q.0.isNaN { return !p.0.isNaN && q.0.isNaN }
                return p.0 < q.0
            }
            line.sort { p, q in
                let before = descending ? less(q, p) : less(p, q)
                let after = descending ? less(p, q) : less(q, p)
                return before || (!after && p.1 < q.1)
            }
            for (j, e) in line.enumerated() {
                pos[dim] = j
                v.store(v.index(at: pos), e.0)
                ix.storeInt(ix.index(at: pos), Int64(e.1))
            }
        }
    }

    /// Draws on the host from the same generator stream as the CPU, then copies in.
    public func random(_ kind: RandomKind, out: Tensor, generator: Generator) {
        let host = Tensor(empty: out.shape, dtype: out.dtype, device: .cpu)
        Device.cpu.backend.random(kind, out: host, generator: generator)
        let h = RefElements(host), o = RefElements(out)
        for k in 0..<o.count { o.store(o.index(k), h.load(h.index(k))) }
    }

    // MARK: Convolution and pooling

    /// One column per window position, zero outside the image.
    public func im2col(_ x: Tensor, geometry g: ConvGeometry, out: Tensor) {
        let a = RefElements(x), o = RefElements(out)
        forEachColumnEntry(g) { column, image in
            o.store(o.index(column), image.map { a.load(a.index(at: $0)) } ?? 0)
        }
    }

    /// The adjoint of `im2col`: every column entry added back to its pixel.
    public func col2im(_ cols: Tensor, geometry g: ConvGeometry, out: Tensor) {
        fill(out, value: 0)
        let a = RefElements(cols), o = RefElements(out)
        forEachColumnEntry(g) { column, image in
            guard let image else { return }
            let i = o.index(at: image)
            o.store(i, o.load(i) + a.load(a.index(column)))
        }
    }

    /// Calls `body` with the row-major index of every entry of the column matrix [C·kh·kw, N·oh·ow] and the image
    /// position [n, c, y, x] it reads (nil where the window hangs over the padding).
    private func forEachColumnEntry(_ g: ConvGeometry, _ body: (Int, [Int]?) -> Void) {
        let l = g.outH * g.outW, width = g.batch * l
        for c in 0..<g.channels {
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = (c * g.kernelH + ki) * g.kernelW + kj
                    for n in 0..<g.batch {
                        for oi in 0..<g.outH {
                            for oj in 0..<g.outW {
                                let y = oi * g.strideH - g.padH + ki * g.dilationH, x = oj * g.strideW - g.padW + kj * g.dilationW
                                let inside = y >= 0 && y < g.height && x >= 0 && x < g.width
                                body(row * width + n * l + oi * g.outW + oj, inside ? [n, c, y, x] : nil)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The max over each window (first occurrence; NaN wins), with its flat in-plane index.
    public func maxPool2d(_ x: Tensor, windows w: PoolWindows, out: Tensor, indices: Tensor) {
        let a = RefElements(x), o = RefElements(out), ix = RefElements(indices)
        let planes = x.count / Swift.max(w.height * w.width, 1)
        for p in 0..<planes {
            for i in 0..<w.outH {
                for j in 0..<w.outW {
                    var best = -Double.infinity, bestIndex = -1
                    for u in 0..<w.rowCount[i] {
                        let r = w.rowStart[i] + u * w.rowDilation
                        guard r >= 0 && r < w.height else { continue }
                        for v in 0..<w.colCount[j] {
                            let c = w.colStart[j] + v * w.colDilation
                            guard c >= 0 && c < w.width else { continue }
                            let e = a.load(a.index((p * w.height + r) * w.width + c))
                            if bestIndex < 0 || (!best.isNaN && (e.isNaN || e > best)) { best = e; bestIndex = r * w.width + c }
                        }
                    }
                    let k = (p * w.outH + i) * w.outW + j
                    o.store(o.index(k), best)
                    ix.storeInt(ix.index(k), Int64(Swift.max(bestIndex, 0)))
                }
            }
        }
    }

    /// Each output gradient added to the input position its window picked.
    public func maxPool2dBackward(_ grad: Tensor, indices: Tensor, out: Tensor) {
        fill(out, value: 0)
        let g = RefElements(grad), ix = RefElements(indices), o = RefElements(out)
        let plane = out.shape.suffix(2).reduce(1, *), outPlane = grad.shape.suffix(2).reduce(1, *)
        for k in 0..<g.count {
            let p = k / Swift.max(outPlane, 1)
            let j = Int(ix.loadInt(ix.index(k)))
            let i = o.index(p * plane + j)
            o.store(i, o.load(i) + g.load(g.index(k)))
        }
    }

    /// `out[b, a, l] = x[a, b, l] + bias[a]`.
    public func swapLeadingDims(_ x: Tensor, bias: Tensor?, out: Tensor) {
        let a = RefElements(x), o = RefElements(out), b = bias.map(RefElements.init)
        for i in 0..<x.shape[0] {
            let add = b.map { $0.load($0.index(i)) } ?? 0
            for j in 0..<x.shape[1] {
                for l in 0..<x.shape[2] { o.store(o.index(at: [j, i, l]), a.load(a.index(at: [i, j, l])) + add) }
            }
        }
    }

    // MARK: Positions

    /// The multi-index of row-major position `k` in `shape`.
    private func position(_ k: Int, in shape: [Int]) -> [Int] {
        var pos = [Int](repeating: 0, count: shape.count), rest = k
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
            pos[d] = rest % shape[d]
            rest /= shape[d]
        }
        return pos
    }

    /// Calls `body` for every position of `shape` that agrees with `fixed` outside `free`.
    private func forEachPosition(_ shape: [Int], fixing fixed: [Int], except free: Set<Int>, _ body: ([Int]) -> Void) {
        var pos = fixed
        for d in free { pos[d] = 0 }
        if free.contains(where: { shape[$0] == 0 }) { return }
        let dims = free.sorted()
        while true {
            body(pos)
            var d = dims.count - 1
            while d >= 0 {
                pos[dims[d]] += 1
                if pos[dims[d]] < shape[dims[d]] { break }
                pos[dims[d]] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
