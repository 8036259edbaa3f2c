#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tensor's elements seen by the reference backend: read and written one at a time as `Double` (or `Int64` for
/// integer arithmetic), at the storage index of a row-major position. Slow and obviously right.
struct RefElements {
    let base: UnsafeMutableRawPointer
    let dtype: DType
    let shape: [Int]
    let strides: [Int]
    let offset: Int

    init(_ t: Tensor) {
        base = t.storage.data; dtype = t.dtype; shape = t.shape; strides = t.strides; offset = t.offset
    }

    /// `t` read as `target`'s shape: NumPy broadcasting (stride 0 along expanded dims) when the element counts differ,
    /// else `t`'s own row-major order.
    init(_ t: Tensor, as target: [Int]) {
        self.init(t)
        if t.shape != target && t.shape.reduce(1, *) != target.reduce(1, *) {
            let st = Shape.broadcastStrides(t.shape, t.strides, to: target)
            self = RefElements(base: base, dtype: dtype, shape: target, strides: st, offset: offset)
        }
    }

    private init(base: UnsafeMutableRawPointer, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.base = base; self.dtype = dtype; self.shape = shape; self.strides = strides; self.offset = offset
    }

    /// Number of elements.
    var count: Int { shape.reduce(1, *) }

    /// The storage index of row-major position `k`.
    func index(_ k: Int) -> Int {
        var rest = k, i = offset
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            let n = shape[d]
            if n == 0 { return offset }
            i += (rest % n) * strides[d]
            rest /= n
        }
        return i
    }

    /// The storage index of the multi-index `pos`.
    func index(at pos: [Int]) -> Int {
        var i = offset
        for d in 0..<pos.count { i += pos[d] * strides[d] }
        return i
    }

    /// Element at storage index `i` as a Double.
    func load(_ i: Int) -> Double {
        switch dtype {
        case .float32: return Double(base.assumingMemoryBound(to: Float.self)[i])
        case .float64: return base.assumingMemoryBound(to: Double.self)[i]
        case .int32: return Double(base.assumingMemoryBound(to: Int32.self)[i])
        case .int64: return Double(base.assumingMemoryBound(to: Int64.self)[i])
        case .bool: return base.assumingMemoryBound(to: Bool.self)[i] ? 1 : 0
        }
    }

    /// Element at storage index `i` as an Int64 (integers exactly; floats truncated toward zero).
    func loadInt(_ i: Int) -> Int64 {
        switch dtype {
        case .int32: return Int64(base.assumingMemoryBound(to: Int32.self)[i])
        case .int64: return base.assumingMemoryBound(to: Int64.self)[i]
        case .bool: return base.assumingMemoryBound(to: Bool.self)[i] ? 1 : 0
        case .float32, .float64:
            let v = load(i)
            return v.isFinite ? Int64(v.rounded(.towardZero)) : 0
        }
    }

    /// Writes `v` (converted to the dtype: floats rounded, integers truncated toward zero, bools `v != 0`).
    func store(_ i: Int, _ v: Double) {
        switch dtype {
        case .float32: base.assumingMemoryBound(to: Float.self)[i] = Float(v)
        case .float64: base.assumingMemoryBound(to: Double.self)[i] = v
        case .int32: base.assumingMemoryBound(to: Int32.self)[i] = v.isFinite ? Int32(truncatingIfNeeded: Int64(v.rounded(.towardZero))) : 0
        case .int64: base.assumingMemoryBound(to: Int64.self)[i] = v.isFinite ? Int64(v.rounded(.towardZero)) : 0
        case .bool: base.assumingMemoryBound(to: Bool.self)[i] = v != 0
        }
    }

    /// Writes the integer `v`.
    func storeInt(_ i: Int, _ v: Int64) {
        switch dtype {
        case .int32: base.assumingMemoryBound(to: Int32.self)[i] = Int32(truncatingIfNeeded: v)
        case .int64: base.assumingMemoryBound(to: Int64.self)[i] = v
        case .bool: base.assumingMemoryBound(to: Bool.self)[i] = v != 0
        case .float32, .float64: store(i, Double(v))
        }
    }

    /// Whether integer arithmetic applies (int32, int64, bool).
    var isInteger: Bool { !dtype.isFloatingPoint }
}

/// The scalar functions of `UnaryOp` on doubles.
func refUnary(_ op: UnaryOp, _ v: Double) -> Double {
    switch op {
    case .neg: return -v
    case .abs: return Swift.abs(v)
    case .sign: return v > 0 ? 1 : (v < 0 ? -1 : (v.isNaN ? v : 0))
    case .exp: return exp(v)
    case .log: return log(v)
    case .log1p: return log1p(v)
    case .expm1: return expm1(v)
    case .sqrt: return v.squareRoot()
    case .rsqrt: return 1 / v.squareRoot()
    case .square: return v * v
    case .reciprocal: return 1 / v
    case .sin: return sin(v)
    case .cos: return cos(v)
    case .tan: return tan(v)
    case .tanh: return tanh(v)
    case .sigmoid: return 1 / (1 + exp(-v))
    case .relu: return v > 0 ? v : (v.isNaN ? v : 0)
    case .floor: return v.rounded(.down)
    case .ceil: return v.rounded(.up)
    case .round: return v.rounded(.toNearestOrEven)
    case .trunc: return v.rounded(.towardZero)
    case .erf: return erf(v)
    case .erfinv: return inverseErf(v)
    case .gelu: return v * (1 + erf(v / 2.0.squareRoot())) / 2
    case .geluTanh: return v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))) / 2
    case .silu: return v / (1 + exp(-v))
    case .logicalNot: return v == 0 ? 1 : 0
    case .isnan: return v.isNaN ? 1 : 0
    case .isinf: return v.isInfinite ? 1 : 0
    case .leakyRelu(let s): return v > 0 ? v : v * s
    case .elu(let a): return v > 0 ? v : a * expm1(v)
    case .softplus(let b, let th): return v * b > th ? v : log1p(exp(v * b)) / b
    case .clamp(let lo, let hi): return v.isNaN ? v : Swift.min(Swift.max(v, lo), hi)
    case .powScalar(let e): return pow(v, e)
    case .rpowScalar(let b): return pow(b, v)
    }
}

/// The scalar functions of `BinaryOp` on doubles (floating semantics).
func refBinary(_ op: BinaryOp, _ x: Double, _ y: Double) -> Double {
    switch op {
    case .add: return x + y
    case .sub: return x - y
    case .mul: return x * y
    case .div: return x / y
    case .pow: return pow(x, y)
    case .maximum: return x.isNaN || y.isNaN ? .nan : Swift.max(x, y)
    case .minimum: return x.isNaN || y.isNaN ? .nan : Swift.min(x, y)
    case .atan2: return atan2(x, y)
    case .remainder: let r = fmod(x, y); return (r != 0 && (r < 0) != (y < 0)) ? r + y : r
    case .floorDivide: return (x / y).rounded(.down)
    case .eq: return x == y ? 1 : 0
    case .ne: return x != y ? 1 : 0
    case .lt: return x < y ? 1 : 0
    case .le: return x <= y ? 1 : 0
    case .gt: return x > y ? 1 : 0
    case .ge: return x >= y ? 1 : 0
    case .logicalAnd: return x != 0 && y != 0 ? 1 : 0
    case .logicalOr: return x != 0 || y != 0 ? 1 : 0
    case .logicalXor: return (x != 0) != (y != 0) ? 1 : 0
    case .thresholdBackward: return y > 0 ? x : 0
    }
}

/// The scalar functions of `BinaryOp` on integers (wrapping arithmetic, floor division as PyTorch).
func refBinaryInt(_ op: BinaryOp, _ x: Int64, _ y: Int64) -> Int64 {
    switch op {
    case .add: return x &+ y
    case .sub: return x &- y
    case .mul: return x &* y
    case .div, .floorDivide:
        check(y != 0, "floorDivide: integer division by zero")
        let q = x / y
        return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q
    case .remainder:
        check(y != 0, "remainder: integer division by zero")
        let r = x % y
        return (r != 0 && (r < 0) != (y < 0)) ? r + y : r
    case .pow:
        if y < 0 { return x == 1 ? 1 : (x == -1 ? (y & 1 == 0 ? 1 : -1) : 0) }
        var r: Int64 = 1, b = x, e = y
        while e > 0 { if e & 1 == 1 { r = r &* b }; b = b &* b; e >>= 1 }
        return r
    case .maximum: return Swift.max(x, y)
    case .minimum: return Swift.min(x, y)
    case .atan2: nablaFail("atan2: not supported for integer tensors")
    case .eq: return x == y ? 1 : 0
    case .ne: return x != y ? 1 : 0
    case .lt: return x < y ? 1 : 0
    case .le: return x <= y ? 1 : 0
    case .gt: return x > y ? 1 : 0
    case .ge: return x >= y ? 1 : 0
    case .logicalAnd: return x != 0 && y != 0 ? 1 : 0
    case .logicalOr: return x != 0 || y != 0 ? 1 : 0
    case .logicalXor: return (x != 0) != (y != 0) ? 1 : 0
    case .thresholdBackward: return y > 0 ? x : 0
    }
}
