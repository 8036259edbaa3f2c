import Testing
import Nabla

/// Broadcasting add, sub, mul and div on the CPU run one C call per innermost run (`nabla_f32_binary_run`): a column's
/// entry or a scalar against a row in vectors, other strides one element at a time. Every layout must give, bit for
/// bit, what the same op gives on contiguous copies of the broadcast operands (the plain same-shape kernel), in float32
/// and float64, out of place and written over an operand.
@Suite struct BroadcastBinaryKernelTests {
    static let ops: [BinaryOp] = [.add, .sub, .mul, .div]

    static func bits(_ t: Tensor) -> [UInt64] {
        t.dtype == .float32 ? t.toArray(Float.self).map { UInt64($0.bitPattern) } : t.toArray(Double.self).map(\.bitPattern)
    }

    /// `op(a, b)` through the backend into a new contiguous tensor of `shape`.
    static func run(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ shape: [Int]) -> Tensor {
        let out = Tensor(empty: shape, dtype: a.dtype)
        Device.cpu.backend.binary(op, a, b, out: out)
        return out
    }

    /// Pairs of operands broadcast to [37, 70]: a column, a row, a scalar tensor, a transposed matrix, a strided
    /// slice, each on either side.
    static func layouts(_ dtype: DType) -> [(String, Tensor, Tensor)] {
        let shape = [37, 70]
        let x = Tensor.randn(shape, dtype: dtype, generator: Generator(seed: 1))
        let col = Tensor.randn([37, 1], dtype: dtype, generator: Generator(seed: 2)) + 3
        let row = Tensor.randn([70], dtype: dtype, generator: Generator(seed: 3)) + 3
        let scalar = Tensor.randn([1], dtype: dtype, generator: Generator(seed: 4)) + 3
        let xt = Tensor.randn([70, 37], dtype: dtype, generator: Generator(seed: 5)).t()
        let every2 = Tensor.randn([37, 140], dtype: dtype, generator: Generator(seed: 6))[.all, .range(nil, nil, step: 2)]
        return [("x∘col", x, col), ("col∘x", col, x), ("x∘row", x, row), ("row∘x", row, x), ("x∘scalar", x, scalar),
                ("scalar∘x", scalar, x), ("xt∘x", xt, x), ("x∘xt", x, xt), ("every2∘col", every2, col),
                ("col∘row", col, row)]
    }

    @Test(arguments: [DType.float32, .float64])
    func everyLayoutMatchesContiguousCopies(_ dtype: DType) {
        for (name, a, b) in Self.layouts(dtype) {
            let shape = [37, 70]
            for op in Self.ops {
                let want = Self.run(op, a.expand(shape).contiguous(), b.expand(shape).contiguous(), shape)
                #expect(Self.bits(Self.run(op, a, b, shape)) == Self.bits(want), "\(dtype) \(op) \(name)")
            }
        }
    }

    @Test(arguments: [DType.float32, .float64])
    func writtenOverTheFirstOperand(_ dtype: DType) {
        let shape = [300, 257]
        let col = Tensor.randn([300, 1], dtype: dtype, generator: Generator(seed: 7)) + 3
        for op in Self.ops {
            let x = Tensor.randn(shape, dtype: dtype, generator: Generator(seed: 8))
            let want = Self.run(op, x, col.expand(shape).contiguous(), shape)
            Device.cpu.backend.binary(op, x, col, out: x)
            #expect(Self.bits(x) == Self.bits(want), "\(dtype) \(op) in place")
        }
    }

    @Test func oneLongStridedRowSplitsOverThreadsAndMeetsEachElementOnce() {
        // A scalar expanded to a large shape (the backward of `mean()`) and a step-2 slice each merge into one row of
        // 1 M + 19 elements, which the strided loop cuts into pieces for the threads: every element as the op on it
        // alone, at the seams too, and the slice's skipped elements untouched.
        let n = (1 << 20) + 19
        let g = Tensor.full([1], 0.25).expand([n])
        let base = Tensor.randn([2 * n], generator: Generator(seed: 12))
        let every2 = base[.range(nil, nil, step: 2)]
        let x = every2.toArray(Float.self)
        let got = Self.run(.mul, g, every2, [n]).toArray(Float.self)
        let bad = (0..<n).first { got[$0].bitPattern != (0.25 * x[$0]).bitPattern }
        #expect(bad == nil, "element \(bad ?? -1) of \(n)")
        let before = base.toArray(Float.self)
        Device.cpu.backend.binary(.add, every2, g, out: every2)
        let after = base.toArray(Float.self)
        let wrong = (0..<(2 * n)).first { after[$0].bitPattern != ($0 % 2 == 0 ? before[$0] + 0.25 : before[$0]).bitPattern }
        #expect(wrong == nil, "in place: element \(wrong ?? -1) of the slice's \(2 * n)-element base")
    }

    @Test func sameShapeSplitOverThreadsMatchesEachElement() {
        // From 1 M elements the same-shape float32 kernels split over the threads: every element, at the seams and
        // from operands that start inside their storage, as the op on that element alone (float32 add, sub, mul and
        // div are Double's rounded once).
        let n = (1 << 20) + 37
        let a = Tensor.randn([n + 3], generator: Generator(seed: 9))[.range(3, nil)]
        let b = Tensor.randn([n + 1], generator: Generator(seed: 10))[.range(1, nil)] + 3
        let mask = Tensor.randn([n], generator: Generator(seed: 11))
        let x = a.toArray(Float.self), y = b.toArray(Float.self), z = mask.toArray(Float.self)
        let refs: [(BinaryOp, (Float, Float) -> Float)] = [
            (.add, { Float(Double($0) + Double($1)) }), (.sub, { Float(Double($0) - Double($1)) }),
            (.mul, { Float(Double($0) * Double($1)) }), (.div, { Float(Double($0) / Double($1)) }),
            (.thresholdBackward, { $1 > 0 ? $0 : 0 }),
        ]
        for (op, ref) in refs {
            let got = Self.run(op, a, op == .thresholdBackward ? mask : b, [n]).toArray(Float.self)
            let other = op == .thresholdBackward ? z : y
            let bad = (0..<n).first { got[$0].bitPattern != ref(x[$0], other[$0]).bitPattern }
            #expect(bad == nil, "\(op): element \(bad ?? -1) of \(n)")
        }
    }
}
