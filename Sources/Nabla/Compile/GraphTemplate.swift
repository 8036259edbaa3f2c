import Foundation

/// A traced graph as the trace recorded it, before any pass: what a dynamic-shape template unifies and specialises.
struct RawGraph {
    var buffers: [TracedBuffer]
    var nodes: [TracedNode]
    var inputs: [TensorRef]
    var outputs: [TensorRef]
    var gradSinks: [(leaf: Tensor?, inputIndex: Int?, ref: TensorRef)]
    var ruleSources: [RuleSource]
    var ruleCounts: [Int]

    /// A graph of these nodes, ready for the passes (`CompiledGraph.optimize()`).
    func compiled() -> CompiledGraph {
        CompiledGraph(buffers: buffers, nodes: nodes, inputs: inputs, outputs: outputs, gradSinks: gradSinks,
                      ruleSources: ruleSources, ruleCounts: ruleCounts)
    }

    /// Where a size sits in the graph, for messages.
    enum Place {
        case buffer(Int), input(Int), output(Int), gradient(Int), node(Int)
    }

    /// The graph with every integer that can depend on an input's size passed through `int` (buffer element
    /// counts; the shape, strides and offset of every view; the sizes of every op kind, `OpKind.mapSizes`) and every
    /// real attribute through `double`, in a fixed order. Node calls are kept: see `GraphTemplate.specialise`.
    func mapSizes(_ int: (Int, Place) throws -> Int, _ double: (Double, Place) throws -> Double) rethrows -> RawGraph {
        func ref(_ r: TensorRef, _ p: Place) throws -> TensorRef {
            TensorRef(buffer: r.buffer, shape: try r.shape.map { try int($0, p) }, strides: try r.strides.map { try int($0, p) },
                      offset: try int(r.offset, p))
        }
        var out = self
        for b in buffers.indices { out.buffers[b].count = try int(buffers[b].count, .buffer(b)) }
        out.inputs = try inputs.enumerated().map { try ref($0.element, .input($0.offset)) }
        out.outputs = try outputs.enumerated().map { try ref($0.element, .output($0.offset)) }
        out.gradSinks = try gradSinks.enumerated().map { k, s in (s.leaf, s.inputIndex, try ref(s.ref, .gradient(k))) }
        out.nodes = try nodes.enumerated().map { i, n in
            var m = n
            m.kind = try n.kind.mapSizes({ try int($0, .node(i)) }, { try double($0, .node(i)) })
            m.reads = try n.reads.map { try $0.map { try ref($0, .node(i)) } }
            m.writes = try n.writes.map { try ref($0, .node(i)) }
            m.returned = try n.returned.map { try $0.map { try ref($0, .node(i)) } }
            return m
        }
        return out
    }
}

/// Why two traces do not unify into one template.
struct UnifyFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// An integer of a graph template as a function of the symbol `s`: `a·s + c`.
struct SizeExpr: Hashable, CustomStringConvertible {
    let a: Int
    let c: Int
    func callAsFunction(_ s: Int) -> Int { a * s + c }
    var description: String { a == 0 ? "\(c)" : "\(a)·s\(c == 0 ? "" : c > 0 ? " + \(c)" : " − \(-c)")" }

    /// The expression through `(sA, x)` and `(sB, y)` with integer coefficients, if there is one that is not plainly
    /// quadratic (`k·s²`, which two points cannot tell from a line).
    static func unify(_ x: Int, _ y: Int, _ sA: Int, _ sB: Int) -> SizeExpr? {
        if x == y { return SizeExpr(a: 0, c: x) }
        let d = sB - sA, diff = y - x
        guard d != 0, diff % d == 0 else { return nil }
        let a = diff / d, c = x - a * sA
        if c != 0, x % (sA * sA) == 0, y % (sB * sB) == 0, x / (sA * sA) == y / (sB * sB) { return nil }
        return SizeExpr(a: a, c: c)
    }
}

/// A real attribute of a graph template as a function of the symbol `s`: a constant, `k·s + c` or `k / (a·s + c)`
/// (a mean's `1/N`, a variance's `1/(N − 1)`).
enum ScalarExpr: CustomStringConvertible {
    case constant(Double)
    case linear(k: Double, c: Double)
    case reciprocal(k: Double, a: Int, c: Int)

    func callAsFunction(_ s: Int) -> Double {
        switch self {
        case .constant(let v): return v
        case .linear(let k, let c): return k * Double(s) + c
        case .reciprocal(let k, let a, let c): return k / Double(a * s + c)
        }
    }

    var description: String {
        switch self {
        case .constant(let v): return "\(v)"
        case .linear(let k, let c): return "\(k)·s + \(c)"
        case .reciprocal(let k, let a, let c): return "\(k)/(\(SizeExpr(a: a, c: c)))"
        }
    }

    /// The simplest expression through `(sA, x)` and `(sB, y)`, tried in this order: equal values; proportional to
    /// `s`; proportional to `1/s`; the reciprocal of an integer `a·s + c`; an integer `a·s + c`. Nil when none fits
    /// (two points fit any line, so only these shapes, which sizes take, are believed).
    static func unify(_ x: Double, _ y: Double, _ sA: Int, _ sB: Int) -> ScalarExpr? {
        if x == y || (x.isNaN && y.isNaN) { return .constant(x) }
        guard x.isFinite, y.isFinite, x != 0, y != 0 else { return nil }
        let fa = Double(sA), fb = Double(sB)
        func close(_ p: Double, _ q: Double) -> Bool { abs(p - q) <= 1e-6 * Swift.max(abs(p), abs(q)) }
        func integer(_ v: Double) -> Int? {
            let r = v.rounded()
            return abs(v - r) <= 1e-6 * Swift.max(1, abs(v)) && abs(r) < 1e15 ? Int(r) : nil
        }
        if close(x / fa, y / fb) { return .linear(k: x / fa, c: 0) }
        if close(x * fa, y * fb) { return .reciprocal(k: x * fa, a: 1, c: 0) }
        if let p = integer(1 / x), let q = integer(1 / y), let e = SizeExpr.unify(p, q, sA, sB), e.a != 0 {
            return .reciprocal(k: 1, a: e.a, c: e.c)
        }
        if let p = integer(x), let q = integer(y), let e = SizeExpr.unify(p, q, sA, sB), e.a != 0 {
            return .linear(k: Double(e.a), c: Double(e.c))
        }
        return nil
    }
}

/// A graph with one free size, the symbol `s`: the unification of two raw traces of a function that differ only in
/// the size of some input dims (JAX's shape polymorphism, torch.compile's dynamic shapes). Every integer of the
/// graph is `a·s + c` and every real attribute a constant, `k·s + c` or `k/(a·s + c)`; `specialise(s)` gives the
/// raw graph for any size without tracing.
final class GraphTemplate {
    /// The first trace, whose structure, buffers, storages and calls every specialisation shares.
    let raw: RawGraph
    /// The input dims that are the symbol, as `(argument, dim)`.
    let symbolDims: [(arg: Int, dim: Int)]
    private let ints: [SizeExpr]
    private let doubles: [ScalarExpr]
    /// How many integers and reals depend on `s`.
    let varyingInts: Int
    let varyingDoubles: Int

    private init(raw: RawGraph, symbolDims: [(arg: Int, dim: Int)], ints: [SizeExpr], doubles: [ScalarExpr]) {
        self.raw = raw
        self.symbolDims = symbolDims
        self.ints = ints
        self.doubles = doubles
        varyingInts = ints.filter { $0.a != 0 }.count
        varyingDoubles = doubles.filter { if case .constant = $0 { return false } else { return true } }.count
    }

    /// The symbol's dims between two input shape lists: the dims that differ, which must all hold one size in the
    /// first list and one in the second. Nil when ranks differ, nothing varies, or the varying dims disagree.
    static func symbol(_ a: [[Int]], _ b: [[Int]]) -> (dims: [(arg: Int, dim: Int)], sA: Int, sB: Int)? {
        guard a.count == b.count else { return nil }
        var dims: [(arg: Int, dim: Int)] = []
        var sA: Int?, sB: Int?
        for (k, (x, y)) in zip(a, b).enumerated() {
            guard x.count == y.count else { return nil }
            for d in x.indices where x[d] != y[d] {
                if sA == nil { sA = x[d]; sB = y[d] }
                guard x[d] == sA, y[d] == sB else { return nil }
                dims.append((k, d))
            }
        }
        guard let sA, let sB else { return nil }
        return (dims, sA, sB)
    }

    /// The symbol's value for argument shapes `shapes`, when they differ from the template's first trace only in
    /// the symbol's dims, all of one size; nil otherwise.
    func size(for shapes: [[Int]]) -> Int? {
        let traced = raw.inputs.map(\.shape)
        guard shapes.count == traced.count else { return nil }
        var s: Int?
        var isSymbol = Set<Int>()
        for (k, d) in symbolDims { isSymbol.insert(k << 16 | d) }
        for (k, (x, y)) in zip(shapes, traced).enumerated() {
            guard x.count == y.count else { return nil }
            for d in x.indices {
                if isSymbol.contains(k << 16 | d) {
                    if s == nil { s = x[d] }
                    guard x[d] == s else { return nil }
                } else if x[d] != y[d] { return nil }
            }
        }
        return s
    }

    /// Unifies two raw traces of one function taken at symbol sizes `sA` and `sB` (`sA != sB`).
    static func unify(_ a: RawGraph, size sA: Int, _ b: RawGraph, size sB: Int,
                      symbolDims: [(arg: Int, dim: Int)]) -> Result<GraphTemplate, UnifyFailure> {
        do {
            try checkStructure(a, b)
            // B's sizes, in visiting order.
            var bInts: [Int] = [], bDoubles: [Double] = []
            _ = b.mapSizes({ v, _ in bInts.append(v); return v }, { v, _ in bDoubles.append(v); return v })
            var ints: [SizeExpr] = [], doubles: [ScalarExpr] = []
            let mapped = try a.mapSizes({ x, place in
                guard ints.count < bInts.count else { throw UnifyFailure(reason: "\(describe(place, a)) has more sizes than in the other trace") }
                let y = bInts[ints.count]
                guard let e = SizeExpr.unify(x, y, sA, sB) else {
                    throw UnifyFailure(reason: "\(describe(place, a)) vs \(describe(place, b)): a size \(x) at s = \(sA) and \(y) at s = \(sB) is not a·s + c")
                }
                ints.append(e)
                return y
            }, { x, place in
                guard doubles.count < bDoubles.count else { throw UnifyFailure(reason: "\(describe(place, a)) has more attributes than in the other trace") }
                let y = bDoubles[doubles.count]
                guard let e = ScalarExpr.unify(x, y, sA, sB) else {
                    throw UnifyFailure(reason: "\(describe(place, a)) vs \(describe(place, b)): \(x) at s = \(sA) and \(y) at s = \(sB) is neither constant, k·s + c nor k/(a·s + c)")
                }
                doubles.append(e)
                return y
            })
            guard ints.count == bInts.count, doubles.count == bDoubles.count else {
                throw UnifyFailure(reason: "the traces carry \(ints.count) and \(bInts.count) sizes")
            }
            for i in mapped.nodes.indices where mapped.nodes[i].kind != b.nodes[i].kind {
                throw UnifyFailure(reason: "node \(i) `\(a.nodes[i].kind)` vs `\(b.nodes[i].kind)`: they differ in more than sizes")
            }
            // Two points fit a wrong line too (a size quadratic in s): `specialise` checks every view against its
            // buffer at each new size and throws rather than run a graph that does not hold.
            return .success(GraphTemplate(raw: a, symbolDims: symbolDims, ints: ints, doubles: doubles))
        } catch let f as UnifyFailure {
            return .failure(f)
        } catch {
            return .failure(UnifyFailure(reason: "\(error)"))
        }
    }

    /// `node 12 \`fill(0.0078125)\``, `buffer %b3`.
    private static func describe(_ p: RawGraph.Place, _ g: RawGraph) -> String {
        switch p {
        case .buffer(let b): return "buffer %b\(b)"
        case .input(let k): return "argument \(k)'s view"
        case .output(let k): return "output \(k)'s view"
        case .gradient(let k): return "gradient \(k)'s view"
        case .node(let i): return "node \(i) `\(g.nodes[i].kind)`"
        }
    }

    /// Everything but sizes must agree: the nodes, their buffers, roles, dtypes, storages, constants, rules.
    private static func checkStructure(_ a: RawGraph, _ b: RawGraph) throws {
        func fail(_ s: String) -> UnifyFailure { UnifyFailure(reason: s) }
        guard a.nodes.count == b.nodes.count else { throw fail("the traces hold \(a.nodes.count) and \(b.nodes.count) backend calls") }
        guard a.buffers.count == b.buffers.count else { throw fail("the traces use \(a.buffers.count) and \(b.buffers.count) buffers") }
        guard a.inputs.count == b.inputs.count, a.outputs.count == b.outputs.count else { throw fail("the traces have different arguments or outputs") }
        for (k, (x, y)) in zip(a.buffers, b.buffers).enumerated() {
            guard x.role == y.role, x.dtype == y.dtype else { throw fail("buffer %b\(k) is \(x.role) \(x.dtype) in one trace and \(y.role) \(y.dtype) in the other") }
            if x.role == .captured, x.storage !== y.storage { throw fail("buffer %b\(k) captures different tensors in the two traces") }
            if x.role == .constant, x.initialBytes != y.initialBytes {
                throw fail("constant buffer %b\(k) holds different values in the two traces (a constant made from the size?)")
            }
            switch (x.inputBackend, y.inputBackend) {
            case (nil, nil): break
            case let (p?, q?) where ObjectIdentifier(p) == ObjectIdentifier(q): break
            default: throw fail("argument buffer %b\(k) lives on different devices")
            }
        }
        func sameRefs(_ p: [TensorRef?], _ q: [TensorRef?]) -> Bool {
            p.count == q.count && zip(p, q).allSatisfy { x, y in
                switch (x, y) {
                case (nil, nil): return true
                case let (x?, y?): return x.buffer == y.buffer && x.shape.count == y.shape.count && x.strides.count == y.strides.count
                default: return false
                }
            }
        }
        guard sameRefs(a.inputs, b.inputs), sameRefs(a.outputs, b.outputs) else { throw fail("the arguments or outputs are different views") }
        guard a.gradSinks.count == b.gradSinks.count,
              zip(a.gradSinks, b.gradSinks).allSatisfy({ $0.leaf === $1.leaf && $0.inputIndex == $1.inputIndex && $0.ref.buffer == $1.ref.buffer })
        else { throw fail("the traces set the gradients of different tensors") }
        guard a.ruleSources.count == b.ruleSources.count, zip(a.ruleSources, b.ruleSources).allSatisfy({ $0 === $1 }), a.ruleCounts == b.ruleCounts
        else { throw fail("the traces update different optimizers or parameters") }
        for (i, (x, y)) in zip(a.nodes, b.nodes).enumerated() {
            guard x.contextFrom == y.contextFrom, x.rule?.source == y.rule?.source, x.rule?.index == y.rule?.index,
                  ObjectIdentifier(x.backend) == ObjectIdentifier(y.backend),
                  sameRefs(x.reads, y.reads), sameRefs(x.writes.map { $0 }, y.writes.map { $0 }), sameRefs(x.returned, y.returned)
            else { throw fail("node \(i) `\(x.kind)` vs `\(y.kind)`: different operands") }
        }
    }

    /// The raw graph at symbol size `s`: every size evaluated, and every node whose attributes changed given its
    /// call rebuilt from its kind. Throws when a size turns negative or a view falls outside its buffer (the
    /// template's guess does not hold at this size).
    func specialise(_ s: Int) throws -> RawGraph {
        var i = 0, j = 0
        var g = try raw.mapSizes({ _, place in
            let v = ints[i](s)
            i += 1
            guard v >= 0 else { throw UnifyFailure(reason: "a size turns negative at s = \(s) (\(ints[i - 1]) at \(place))") }
            return v
        }, { _, _ in
            let v = doubles[j](s)
            j += 1
            return v
        })
        for k in g.nodes.indices where g.nodes[k].kind != raw.nodes[k].kind {
            guard let call = g.nodes[k].kind.sizedCall else {
                throw UnifyFailure(reason: "node \(k) `\(raw.nodes[k].kind)` has no call to rebuild for a new size")
            }
            let n = g.nodes[k]
            g.nodes[k] = TracedNode(kind: n.kind, reads: n.reads, writes: n.writes, returned: n.returned, contextFrom: n.contextFrom,
                                    location: n.location, backend: n.backend, call: call, rule: n.rule)
        }
        func fits(_ r: TensorRef) -> Bool {
            if r.shape.contains(0) { return true }
            var last = r.offset
            for (n, st) in zip(r.shape, r.strides) { last += (n - 1) * st }
            return r.offset >= 0 && last < Swift.max(g.buffers[r.buffer].count, 1)
        }
        // Buffers a backend returns hold whatever it allocates; every other view must fit its buffer.
        var returned = Set<Int>()
        for n in g.nodes { for r in n.returned { if let r { returned.insert(r.buffer) } } }
        let all = g.inputs + g.outputs + g.gradSinks.map(\.ref) + g.nodes.flatMap { $0.reads.compactMap { $0 } + $0.writes }
        for r in all where !returned.contains(r.buffer) && !fits(r) {
            throw UnifyFailure(reason: "at s = \(s) the view \(r.shape){\(r.strides)}+\(r.offset) falls outside buffer %b\(r.buffer) of \(g.buffers[r.buffer].count) elements")
        }
        return g
    }

    /// `s = dim 0 of argument 0`.
    var symbolDescription: String {
        "s = " + symbolDims.map { "dim \($0.dim) of argument \($0.arg)" }.joined(separator: " = ")
    }
}
