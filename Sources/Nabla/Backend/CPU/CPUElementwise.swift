import CNablaKernels
import RealModule

/// The C kernel that runs one strided run of a broadcasting add, sub, mul or div (`nabla_f32_binary_run`).
typealias BinaryRunKernel<T> = (Int32, UnsafePointer<T>?, Int64, UnsafePointer<T>?, Int64, UnsafeMutablePointer<T>?, Int64,
                                Int64) -> Void

/// Floating element types the transcendental kernels are generic over.
protocol FloatElement: Real, BinaryFloatingPoint, TensorScalar, LibmPow {
    /// This type's broadcasting add/sub/mul/div run kernel.
    static var binaryRun: BinaryRunKernel<Self> { get }
}
extension Float: FloatElement { static var binaryRun: BinaryRunKernel<Float> { nabla_f32_binary_run } }
extension Double: FloatElement { static var binaryRun: BinaryRunKernel<Double> { nabla_f64_binary_run } }

/// Integer element types.
protocol IntElement: FixedWidthInteger, SignedInteger, TensorScalar {}
extension Int32: IntElement {}
extension Int64: IntElement {}

extension CPUBackend {
    // MARK: generic maps

    /// `out[i] = f(x[i])` over any strides; parallel above the grain.
    @inline(__always)
    func map1<T, O>(_ x: Tensor, _ out: Tensor, _ f: (T) -> O) {
        let xp = x.storage.pointer(T.self), op = out.storage.pointer(O.self)
        if x.isContiguous && out.isContiguous && x.shape == out.shape {
            let n = out.count
            let xs = xp + x.offset, os = op + out.offset
            let chunks = Parallel.chunks(work: n, items: n)
            if chunks <= 1 {
                for i in 0..<n { os[i] = f(xs[i]) }
            } else {
                withoutActuallyEscaping(f) { f in
                    Parallel.forEach(chunks) { c in
                        for i in (n * c / chunks)..<(n * (c + 1) / chunks) { os[i] = f(xs[i]) }
                    }
                }
            }
            return
        }
        let loop = StridedLoop(shape: out.shape, strides: [out.strides, Shape.broadcastStrides(x.shape, x.strides, to: out.shape)],
                               offsets: [out.offset, x.offset])
        loop.run { off, inc, n in
            var o = off[0], i = off[1]
            let io = inc[0], ii = inc[1]
            if io == 1 && ii == 1 { for k in 0..<n { op[o + k] = f(xp[i + k]) }; return }   // vectorisable run
            for _ in 0..<n { op[o] = f(xp[i]); o += io; i += ii }
        }
    }

    /// `out[i] = f(a[i], b[i])` over any strides (a, b broadcast to out's shape); parallel above the grain.
    @inline(__always)
    func map2<T, O>(_ a: Tensor, _ b: Tensor, _ out: Tensor, _ f: (T, T) -> O) {
        let ap = a.storage.pointer(T.self), bp = b.storage.pointer(T.self), op = out.storage.pointer(O.self)
        let aStr = Shape.broadcastStrides(a.shape, a.strides, to: out.shape)
        let bStr = Shape.broadcastStrides(b.shape, b.strides, to: out.shape)
        let n = out.count
        if out.isContiguous {
            let aFlat = a.shape == out.shape && a.isContiguous, bFlat = b.shape == out.shape && b.isContiguous
            let aScalar = a.count == 1, bScalar = b.count == 1
            if (aFlat || aScalar) && (bFlat || bScalar) {
                let asp = ap + a.offset, bsp = bp + b.offset, os = op + out.offset
                let chunks = Parallel.chunks(work: n, items: n)
                withoutActuallyEscaping(f) { f in
                    let body: (Int) -> Void = { c in
                        let lo = n * c / chunks, hi = n * (c + 1) / chunks
                        if aFlat && bFlat { for i in lo..<hi { os[i] = f(asp[i], bsp[i]) } }
                        else if aFlat { let s = bsp[0]; for i in lo..<hi { os[i] = f(asp[i], s) } }
                        else if bFlat { let s = asp[0]; for i in lo..<hi { os[i] = f(s, bsp[i]) } }
                        else { let s = asp[0], t = bsp[0]; for i in lo..<hi { os[i] = f(s, t) } }
                    }
                    if chunks <= 1 { body(0) } else { Parallel.forEach(chunks, body) }
                }
                return
            }
        }
        let loop = StridedLoop(shape: out.shape, strides: [out.strides, aStr, bStr], offsets: [out.offset, a.offset, b.offset])
        loop.run { off, inc, n in
            var o = off[0], i = off[1], j = off[2]
            let io = inc[0], ii = inc[1], ij = inc[2]
            // Unit-stride runs, and runs against one broadcast element, in loops the compiler vectorises.
            if io == 1 && ii == 1 && ij == 1 { for k in 0..<n { op[o + k] = f(ap[i + k], bp[j + k]) }; return }
            if n > 0 && io == 1 && ii == 1 && ij == 0 { let y = bp[j]; for k in 0..<n { op[o + k] = f(ap[i + k], y) }; return }
            if n > 0 && io == 1 && ii == 0 && ij == 1 { let x = ap[i]; for k in 0..<n { op[o + k] = f(x, bp[j + k]) }; return }
            for _ in 0..<n { op[o] = f(ap[i], bp[j]); o += io; i += ii; j += ij }
        }
    }

    // MARK: unary

    /// Runs a C float32 kernel `kernel(x, out, n)` over contiguous `x` and `out` of one shape, in ranges on the
    /// kernel threads above the grain; false (nothing done) when the layouts do not allow it.
    private func contiguousF32(_ x: Tensor, _ out: Tensor,
                               _ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64) -> Void) -> Bool {
        guard x.isContiguous && out.isContiguous && x.shape == out.shape else { return false }
        let n = out.count
        let xs = UnsafePointer(x.storage.pointer(Float.self) + x.offset), os = out.storage.pointer(Float.self) + out.offset
        Parallel.forRanges(n) { r in kernel(xs + r.lowerBound, os + r.lowerBound, Int64(r.count)) }
        return true
    }

    /// `out = op(x)`; `x` already has the op's compute dtype.
    public func unary(_ op: UnaryOp, _ x: Tensor, out: Tensor) {
        switch x.dtype {
        case .float32:
            switch op {
            case .relu where contiguousF32(x, out, nabla_f32_relu): return
            case .neg where contiguousF32(x, out, nabla_f32_neg): return
            case .abs where contiguousF32(x, out, nabla_f32_abs): return
            case .square where contiguousF32(x, out, nabla_f32_square): return
            case .sqrt where contiguousF32(x, out, nabla_f32_sqrt): return
            case .reciprocal where contiguousF32(x, out, nabla_f32_reciprocal): return
            case .gelu where contiguousF32(x, out, nabla_gelu_f32): return
            case .erf where contiguousF32(x, out, nabla_erf_f32): return
            case .exp where contiguousF32(x, out, nabla_f32_exp): return
            case .log where contiguousF32(x, out, nabla_f32_log): return
            case .tanh where contiguousF32(x, out, nabla_f32_tanh): return
            case .sigmoid where contiguousF32(x, out, nabla_f32_sigmoid): return
            case .silu where contiguousF32(x, out, nabla_f32_silu): return
            default: unaryFloat(op, x, out, Float.self)
            }
        case .float64: unaryFloat(op, x, out, Double.self)
        case .int32: unaryInt(op, x, out, Int32.self)
        case .int64: unaryInt(op, x, out, Int64.self)
        case .bool:
            switch op {
            case .logicalNot: map1(x, out) { (v: Bool) in !v }
            case .isnan, .isinf: map1(x, out) { (_: Bool) in false }
            default: nablaFail("\(op): not supported for bool tensors")
            }
        }
    }

    private func unaryFloat<T: FloatElement>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .neg: map1(x, out) { (v: T) in -v }
        case .abs: map1(x, out) { (v: T) in Swift.abs(v) }
        case .sign: map1(x, out) { (v: T) in v > 0 ? 1 : (v < 0 ? -1 : (v.isNaN ? v : 0)) }
        case .exp: map1(x, out) { (v: T) in T.exp(v) }
        case .log: map1(x, out) { (v: T) in T.log(v) }
        case .log1p: map1(x, out) { (v: T) in T.log(onePlus: v) }
        case .expm1: map1(x, out) { (v: T) in T.expMinusOne(v) }
        case .sqrt: map1(x, out) { (v: T) in v.squareRoot() }
        case .rsqrt: map1(x, out) { (v: T) in 1 / v.squareRoot() }
        case .square: map1(x, out) { (v: T) in v * v }
        case .reciprocal: map1(x, out) { (v: T) in 1 / v }
        case .sin: map1(x, out) { (v: T) in T.sin(v) }
        case .cos: map1(x, out) { (v: T) in T.cos(v) }
        case .tan: map1(x, out) { (v: T) in T.tan(v) }
        case .tanh: map1(x, out) { (v: T) in T.tanh(v) }
        case .sigmoid: map1(x, out) { (v: T) in v >= 0 ? 1 / (1 + T.exp(-v)) : T.exp(v) / (1 + T.exp(v)) }
        case .relu: map1(x, out) { (v: T) in v > 0 ? v : (v.isNaN ? v : 0) }
        case .floor: map1(x, out) { (v: T) in v.rounded(.down) }
        case .ceil: map1(x, out) { (v: T) in v.rounded(.up) }
        case .round: map1(x, out) { (v: T) in v.rounded(.toNearestOrEven) }
        case .trunc: map1(x, out) { (v: T) in v.rounded(.towardZero) }
        case .erf: map1(x, out) { (v: T) in T.erf(v) }
        case .erfinv: map1(x, out) { (v: T) in T(inverseErf(Double(v))) }
        case .gelu: map1(x, out) { (v: T) in v * (1 + T.erf(v * T(0.70710678118654752440))) / 2 }
        case .geluTanh:
            map1(x, out) { (v: T) in
                let inner = T(0.79788456080286535588) * (v + T(0.044715) * v * v * v)
                return v * (1 + T.tanh(inner)) / 2
            }
        case .silu: map1(x, out) { (v: T) in v / (1 + T.exp(-v)) }
        case .leakyRelu(let s): let s = T(s); map1(x, out) { (v: T) in v > 0 ? v : v * s }
        case .elu(let a): let a = T(a); map1(x, out) { (v: T) in v > 0 ? v : a * T.expMinusOne(v) }
        case .softplus(let beta, let threshold):
            let b = T(beta), th = T(threshold)
            map1(x, out) { (v: T) in v * b > th ? v : T.log(onePlus: T.exp(v * b)) / b }
        case .clamp(let lo, let hi):
            let l = T(lo), h = T(hi)
            map1(x, out) { (v: T) in v.isNaN ? v : Swift.min(Swift.max(v, l), h) }
        case .powScalar(let e):
            if e == 2 { map1(x, out) { (v: T) in v * v } }
            else if e == 0.5 { map1(x, out) { (v: T) in v.squareRoot() } }
            else { let e = T(e); map1(x, out) { (v: T) in T.libmPow(v, e) } }
        case .rpowScalar(let base): let b = T(base); map1(x, out) { (v: T) in T.libmPow(b, v) }
        case .isnan: map1(x, out) { (v: T) in v.isNaN }
        case .isinf: map1(x, out) { (v: T) in v.isInfinite }
        case .logicalNot: map1(x, out) { (v: T) in v == 0 }
        }
    }

    private func unaryInt<T: IntElement>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .neg: map1(x, out) { (v: T) in 0 &- v }
        case .abs: map1(x, out) { (v: T) in v < 0 ? 0 &- v : v }
        case .sign: map1(x, out) { (v: T) in v > 0 ? 1 : (v < 0 ? -1 : 0) }
        case .square: map1(x, out) { (v: T) in v &* v }
        case .relu: map1(x, out) { (v: T) in v > 0 ? v : 0 }
        case .floor, .ceil, .round, .trunc: map1(x, out) { (v: T) in v }
        case .clamp(let lo, let hi):
            let l = lo.isInfinite ? T.min : T(fromDouble: lo.rounded(.up)), h = hi.isInfinite ? T.max : T(fromDouble: hi.rounded(.down))
            map1(x, out) { (v: T) in Swift.min(Swift.max(v, l), h) }
        case .logicalNot: map1(x, out) { (v: T) in v == 0 }
        case .isnan, .isinf: map1(x, out) { (_: T) in false }
        default: nablaFail("\(op): not supported for integer tensors (convert with .to(.float32) first)")
        }
    }

    // MARK: binary

    /// Elements from which a same-shape float32 add, sub, mul, div or ReLU backward splits over the kernel threads.
    static let splitElementwise: Int64 = 1 << 20

    /// `out = op(a, b)`; `a` and `b` share the compute dtype.
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, out: Tensor) {
        switch a.dtype {
        case .float32:
            if a.isContiguous && b.isContiguous && out.isContiguous && Shape.same(a.shape, b.shape) && Shape.same(a.shape, out.shape) {
                let ap = a.storage.pointer(Float.self) + a.offset, bp = b.storage.pointer(Float.self) + b.offset
                let op_ = out.storage.pointer(Float.self) + out.offset, n = Int64(out.count)
                if n == 1 {
                    // One element (0-d tensors, scalar graphs): no call into the vector kernels.
                    switch op {
                    case .add: op_[0] = ap[0] + bp[0]; return
                    case .sub: op_[0] = ap[0] - bp[0]; return
                    case .mul: op_[0] = ap[0] * bp[0]; return
                    case .div: op_[0] = ap[0] / bp[0]; return
                    default: break
                    }
                }
                let kernel: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64) -> Void
                switch op {
                case .add: kernel = nabla_f32_add
                case .sub: kernel = nabla_f32_sub
                case .mul: kernel = nabla_f32_mul
                case .div: kernel = nabla_f32_div
                case .thresholdBackward: kernel = nabla_f32_relu_backward
                default: binaryFloat(op, a, b, out, Float.self); return
                }
                if n < Self.splitElementwise { kernel(ap, bp, op_, n); return }
                Parallel.forRanges(Int(n), minChunk: Int(Self.splitElementwise) / 2) { r in
                    kernel(ap + r.lowerBound, bp + r.lowerBound, op_ + r.lowerBound, Int64(r.count))
                }
                return
            }
            binaryFloat(op, a, b, out, Float.self)
        case .float64: binaryFloat(op, a, b, out, Double.self)
        case .int32: binaryInt(op, a, b, out, Int32.self)
        case .int64: binaryInt(op, a, b, out, Int64.self)
        case .bool: binaryBool(op, a, b, out)
        }
    }

    /// `out = a ∘ b` (add, sub, mul, div) under any broadcast and strides, one call of the C run kernel per run of
    /// the innermost dim: a bias row, a column's entry, a scalar or a transposed operand run in vectors, where the
    /// generic `map2` called the op's closure once per element (1.0–1.7 against 0.08 ns per element). The same
    /// IEEE operation per element, so the same values. Runs split over the kernel threads above the grain.
    private func binaryRuns<T: FloatElement>(_ code: Int32, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        let kernel = T.binaryRun
        let ap = UnsafePointer(a.storage.pointer(T.self)), bp = UnsafePointer(b.storage.pointer(T.self))
        let op = out.storage.pointer(T.self), n = out.count
        let aFlat = a.isContiguous && Shape.same(a.shape, out.shape), bFlat = b.isContiguous && Shape.same(b.shape, out.shape)
        if out.isContiguous && (aFlat || a.count == 1) && (bFlat || b.count == 1) {
            // One flat run (split over the threads): each operand the output's layout or a single element.
            let sa = aFlat ? 1 : 0, sb = bFlat ? 1 : 0
            let asp = ap + a.offset, bsp = bp + b.offset, os = op + out.offset
            Parallel.forRanges(n) { r in
                kernel(code, asp + sa * r.lowerBound, Int64(sa), bsp + sb * r.lowerBound, Int64(sb), os + r.lowerBound, 1,
                       Int64(r.count))
            }
            return
        }
        let loop = StridedLoop(shape: out.shape,
                               strides: [out.strides, Shape.broadcastStrides(a.shape, a.strides, to: out.shape),
                                         Shape.broadcastStrides(b.shape, b.strides, to: out.shape)],
                               offsets: [out.offset, a.offset, b.offset])
        loop.run { off, inc, count in
            kernel(code, ap + off[1], Int64(inc[1]), bp + off[2], Int64(inc[2]), op + off[0], Int64(inc[0]), Int64(count))
        }
    }

    private func binaryFloat<T: FloatElement>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .add: binaryRuns(Int32(NABLA_BINARY_ADD), a, b, out, T.self)
        case .sub: binaryRuns(Int32(NABLA_BINARY_SUB), a, b, out, T.self)
        case .mul: binaryRuns(Int32(NABLA_BINARY_MUL), a, b, out, T.self)
        case .div: binaryRuns(Int32(NABLA_BINARY_DIV), a, b, out, T.self)
        case .pow: map2(a, b, out) { (x: T, y: T) in T.libmPow(x, y) }
        case .maximum: map2(a, b, out) { (x: T, y: T) in x.isNaN || y.isNaN ? T.nan : Swift.max(x, y) }
        case .minimum: map2(a, b, out) { (x: T, y: T) in x.isNaN || y.isNaN ? T.nan : Swift.min(x, y) }
        case .atan2: map2(a, b, out) { (x: T, y: T) in T.atan2(y: x, x: y) }
        case .remainder: map2(a, b, out) { (x: T, y: T) in let r = x.truncatingRemainder(dividingBy: y); return (r != 0 && (r < 0) != (y < 0)) ? r + y : r }
        case .floorDivide: map2(a, b, out) { (x: T, y: T) in (x / y).rounded(.down) }
        case .eq: map2(a, b, out) { (x: T, y: T) in x == y }
        case .ne: map2(a, b, out) { (x: T, y: T) in x != y }
        case .lt: map2(a, b, out) { (x: T, y: T) in x < y }
        case .le: map2(a, b, out) { (x: T, y: T) in x <= y }
        case .gt: map2(a, b, out) { (x: T, y: T) in x > y }
        case .ge: map2(a, b, out) { (x: T, y: T) in x >= y }
        case .logicalAnd: map2(a, b, out) { (x: T, y: T) in x != 0 && y != 0 }
        case .logicalOr: map2(a, b, out) { (x: T, y: T) in x != 0 || y != 0 }
        case .logicalXor: map2(a, b, out) { (x: T, y: T) in (x != 0) != (y != 0) }
        case .thresholdBackward: map2(a, b, out) { (g: T, y: T) in y > 0 ? g : 0 }
        }
    }

    private func binaryInt<T: IntElement>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .add: map2(a, b, out) { (x: T, y: T) in x &+ y }
        case .sub: map2(a, b, out) { (x: T, y: T) in x &- y }
        case .mul: map2(a, b, out) { (x: T, y: T) in x &* y }
        case .div, .floorDivide:
            map2(a, b, out) { (x: T, y: T) -> T in
                check(y != 0, "floorDivide: integer division by zero")
                let q = x / y
                return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q
            }
        case .remainder:
            map2(a, b, out) { (x: T, y: T) -> T in
                check(y != 0, "remainder: integer division by zero")
                let r = x % y
                return (r != 0 && (r < 0) != (y < 0)) ? r + y : r
            }
        case .pow:
            map2(a, b, out) { (x: T, y: T) -> T in
                var r: T = 1, base = x, e = y
                if e < 0 { return x == 1 ? 1 : (x == -1 ? (e & 1 == 0 ? 1 : -1) : 0) }
                while e > 0 { if e & 1 == 1 { r = r &* base }; base = base &* base; e >>= 1 }
                return r
            }
        case .maximum: map2(a, b, out) { (x: T, y: T) in Swift.max(x, y) }
        case .minimum: map2(a, b, out) { (x: T, y: T) in Swift.min(x, y) }
        case .atan2: nablaFail("atan2: not supported for integer tensors")
        case .thresholdBackward: map2(a, b, out) { (g: T, y: T) in y > 0 ? g : 0 }
        case .eq: map2(a, b, out) { (x: T, y: T) in x == y }
        case .ne: map2(a, b, out) { (x: T, y: T) in x != y }
        case .lt: map2(a, b, out) { (x: T, y: T) in x < y }
        case .le: map2(a, b, out) { (x: T, y: T) in x <= y }
        case .gt: map2(a, b, out) { (x: T, y: T) in x > y }
        case .ge: map2(a, b, out) { (x: T, y: T) in x >= y }
        case .logicalAnd: map2(a, b, out) { (x: T, y: T) in x != 0 && y != 0 }
        case .logicalOr: map2(a, b, out) { (x: T, y: T) in x != 0 || y != 0 }
        case .logicalXor: map2(a, b, out) { (x: T, y: T) in (x != 0) != (y != 0) }
        }
    }

    private func binaryBool(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) {
        switch op {
        case .add, .logicalOr, .maximum: map2(a, b, out) { (x: Bool, y: Bool) in x || y }
        case .mul, .logicalAnd, .minimum: map2(a, b, out) { (x: Bool, y: Bool) in x && y }
        case .logicalXor, .ne: map2(a, b, out) { (x: Bool, y: Bool) in x != y }
        case .eq: map2(a, b, out) { (x: Bool, y: Bool) in x == y }
        case .lt: map2(a, b, out) { (x: Bool, y: Bool) in !x && y }
        case .le: map2(a, b, out) { (x: Bool, y: Bool) in !x || y }
        case .gt: map2(a, b, out) { (x: Bool, y: Bool) in x && !y }
        case .ge: map2(a, b, out) { (x: Bool, y: Bool) in x || !y }
        default: nablaFail("\(op): not supported for bool tensors")
        }
    }

    /// `out += a * b` in one pass (a gradient times an operand, added into the gradient autograd gathers), for
    /// float32 and float64; other dtypes take the composite (product into a temporary, then added). A product then a
    /// sum, as two kernels would round it: Swift does not contract `x + y * z` into a fused multiply-add.
    public func mulAccumulate(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let dense = a.dtype == out.dtype && b.dtype == out.dtype && Shape.same(a.shape, out.shape) && Shape.same(b.shape, out.shape)
            && a.isContiguous && b.isContiguous && out.isContiguous
        switch out.dtype {
        case .float32 where dense: mulAccumulate(a, b, out, Float.self)
        case .float64 where dense: mulAccumulate(a, b, out, Double.self)
        default:
            let product = Tensor(empty: out.shape, dtype: out.dtype, device: out.device)
            binary(.mul, a, b, out: product)
            binary(.add, out, product, out: out)
        }
    }

    private func mulAccumulate<T: FloatElement>(_ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        let n = out.count
        let ap = a.storage.pointer(T.self) + a.offset, bp = b.storage.pointer(T.self) + b.offset
        let op = out.storage.pointer(T.self) + out.offset
        if n == 1 { op[0] = op[0] + ap[0] * bp[0]; return }  // one element (scalar graphs): no loop set-up
        Parallel.forRanges(n) { r in
            for i in r { op[i] = op[i] + ap[i] * bp[i] }
        }
    }

    /// `out = op(a, s)` (or `op(s, a)` when `reversed`) without materialising the scalar.
    public func binaryScalar(_ op: BinaryOp, _ a: Tensor, _ scalar: Double, reversed: Bool, out: Tensor) {
        if a.dtype == .float32 && a.isContiguous && out.isContiguous && !reversed {
            let ap = a.storage.pointer(Float.self) + a.offset, op_ = out.storage.pointer(Float.self) + out.offset
            let n = a.count
            if n == 1 {
                switch op {
                case .add: op_[0] = ap[0] + Float(scalar); return
                case .mul: op_[0] = ap[0] * Float(scalar); return
                case .sub: op_[0] = ap[0] - Float(scalar); return
                default: break
                }
            }
            switch op {
            case .add: nabla_f32_add_scalar(ap, Float(scalar), op_, Int64(n)); return
            case .sub: nabla_f32_add_scalar(ap, -Float(scalar), op_, Int64(n)); return
            case .mul: nabla_f32_mul_scalar(ap, Float(scalar), op_, Int64(n)); return
            default: break
            }
        }
        let s = Tensor.scalarStorageView(scalar, dtype: a.dtype, shape: out.shape)
        if reversed { binary(op, s, a, out: out) } else { binary(op, a, s, out: out) }
    }

    /// `out = cond ? a : b`.
    public func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor, out: Tensor) {
        switch a.dtype {
        case .float32: select3(cond, a, b, out, Float.self)
        case .float64: select3(cond, a, b, out, Double.self)
        case .int32: select3(cond, a, b, out, Int32.self)
        case .int64: select3(cond, a, b, out, Int64.self)
        case .bool: select3(cond, a, b, out, Bool.self)
        }
    }

    private func select3<T>(_ c: Tensor, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        let cp = c.storage.pointer(Bool.self), ap = a.storage.pointer(T.self), bp = b.storage.pointer(T.self)
        let op = out.storage.pointer(T.self)
        let loop = StridedLoop(shape: out.shape, strides: [out.strides, Shape.broadcastStrides(c.shape, c.strides, to: out.shape),
                                                           Shape.broadcastStrides(a.shape, a.strides, to: out.shape),
                                                           Shape.broadcastStrides(b.shape, b.strides, to: out.shape)],
                               offsets: [out.offset, c.offset, a.offset, b.offset])
        loop.run { off, inc, n in
            var o = off[0], ci = off[1], ai = off[2], bi = off[3]
            for _ in 0..<n {
                op[o] = cp[ci] ? ap[ai] : bp[bi]
                o += inc[0]; ci += inc[1]; ai += inc[2]; bi += inc[3]
            }
        }
    }
}

extension Tensor {
    /// A 0-stride view of one freshly stored scalar, broadcast to `shape` (no per-element memory).
    static func scalarStorageView(_ value: Double, dtype: DType, shape: [Int]) -> Tensor {
        let s = Storage.allocate(count: 1, dtype: dtype, backend: CPUBackend.shared)
        switch dtype {
        case .float32: s.pointer(Float.self)[0] = Float(value)
        case .float64: s.pointer(Double.self)[0] = value
        case .int32: s.pointer(Int32.self)[0] = Int32(fromDouble: value)
        case .int64: s.pointer(Int64.self)[0] = Int64(fromDouble: value)
        case .bool: s.pointer(Bool.self)[0] = value != 0
        }
        return Tensor(storage: s, shape: shape, strides: [Int](repeating: 0, count: shape.count))
    }
}
