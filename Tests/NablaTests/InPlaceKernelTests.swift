import Testing
import Nabla
import NablaTestSupport

/// The float32 element-wise kernels written in place (the output is an input: `x.add_(y)`, a compiled node over a
/// dead input) give the out-of-place values bit for bit, at sizes with vector tails and above the thread split.
@Suite struct InPlaceKernelTests {
    static let sizes = [1, 7, 33, 100_003]

    /// `x` with negatives, zeros and a NaN, so ReLU's and GELU's branches all run.
    static func input(_ n: Int, seed: UInt64) -> Tensor {
        var v = Tensor.randn([n], generator: Generator(seed: seed)).toArray(Float.self)
        if n > 2 { v[1] = 0; v[2] = .nan }
        return Tensor(shape: [n], data: v)
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.toArray(Float.self).map(\.bitPattern) }

    @Test(arguments: sizes, [UnaryOp.relu, .gelu, .erf, .exp, .log, .tanh, .sigmoid, .silu])
    func unaryKernels(_ n: Int, _ op: UnaryOp) {
        let backend = Device.cpu.backend
        let x = Self.input(n, seed: 1), expected = Tensor(empty: [n], dtype: .float32)
        backend.unary(op, x, out: expected)
        backend.unary(op, x, out: x)
        #expect(Self.bits(x) == Self.bits(expected), "\(op) at \(n)")
    }

    /// The IEEE-exact unary kernels give Swift's own values bit for bit, out of place and in place.
    @Test(arguments: sizes)
    func exactUnaryKernels(_ n: Int) {
        let backend = Device.cpu.backend
        let cases: [(UnaryOp, (Float) -> Float)] = [(.neg, { -$0 }), (.abs, { Swift.abs($0) }), (.square, { $0 * $0 }),
                                                    (.sqrt, { $0.squareRoot() }), (.reciprocal, { 1 / $0 })]
        for (op, f) in cases {
            let x = Self.input(n, seed: 5), out = Tensor(empty: [n], dtype: .float32)
            let expected = x.toArray(Float.self).map { f($0).bitPattern }
            backend.unary(op, x, out: out)
            backend.unary(op, x, out: x)
            #expect(Self.bits(out) == expected && Self.bits(x) == expected, "\(op) at \(n)")
        }
    }

    @Test(arguments: sizes, [BinaryOp.add, .sub, .mul, .div, .thresholdBackward])
    func binaryKernels(_ n: Int, _ op: BinaryOp) {
        let backend = Device.cpu.backend
        let a = Self.input(n, seed: 2), b = Self.input(n, seed: 3), expected = Tensor(empty: [n], dtype: .float32)
        backend.binary(op, a, b, out: expected)
        let first = a.clone(), second = b.clone()
        backend.binary(op, first, b, out: first)       // over the first operand
        backend.binary(op, a, second, out: second)     // over the second
        #expect(Self.bits(first) == Self.bits(expected) && Self.bits(second) == Self.bits(expected), "\(op) at \(n)")
        let both = a.clone(), square = Tensor(empty: [n], dtype: .float32)
        backend.binary(op, a, a, out: square)
        backend.binary(op, both, both, out: both)       // both operands and the output one buffer
        #expect(Self.bits(both) == Self.bits(square), "\(op)(x, x) at \(n)")
    }

    @Test(arguments: sizes)
    func scalarKernels(_ n: Int) {
        let backend = Device.cpu.backend
        for op in [BinaryOp.add, .sub, .mul] {
            let x = Self.input(n, seed: 4), expected = Tensor(empty: [n], dtype: .float32)
            backend.binaryScalar(op, x, 0.75, reversed: false, out: expected)
            backend.binaryScalar(op, x, 0.75, reversed: false, out: x)
            #expect(Self.bits(x) == Self.bits(expected), "\(op) scalar at \(n)")
        }
    }
}
