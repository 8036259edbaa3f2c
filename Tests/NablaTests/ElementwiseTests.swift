import Testing
import Nabla
import NablaTestSupport

/// Unary math, binary ops, where/maskedFill/clamp and their in-place forms.
@Suite struct ElementwiseTests {
    static let fixture = loadFixture("elementwise")

    /// Names of the unary fixture cases, each present as `<name>_f64` and `<name>_f32`.
    static let unaryNames = ["abs", "sign", "exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "rsqrt", "square",
                             "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "trunc", "frac",
                             "erfinv"]

    static let unary: [String: @Sendable (Tensor) -> Tensor] = [
        "abs": { $0.abs() }, "sign": { $0.sign() }, "exp": { $0.exp() }, "log": { $0.log() }, "log1p": { $0.log1p() },
        "expm1": { $0.expm1() }, "log2": { $0.log2() }, "log10": { $0.log10() }, "sqrt": { $0.sqrt() },
        "rsqrt": { $0.rsqrt() }, "square": { $0.square() }, "reciprocal": { $0.reciprocal() }, "sin": { $0.sin() },
        "cos": { $0.cos() }, "tan": { $0.tan() }, "tanh": { $0.tanh() }, "sigmoid": { $0.sigmoid() }, "erf": { $0.erf() },
        "floor": { $0.floor() }, "ceil": { $0.ceil() }, "round": { $0.round() }, "trunc": { $0.trunc() }, "frac": { $0.frac() },
        "erfinv": { $0.erfinv() },
    ]

    /// Every non-activation fixture case and the Nabla call it checks.
    static let ops: [String: @Sendable ([Tensor]) -> Tensor] = {
        var m: [String: @Sendable ([Tensor]) -> Tensor] = [
            "round_half_even": { $0[0].round() },
            "round_decimals2": { round($0[0], decimals: 2) },
            "sigmoid_extreme": { sigmoid($0[0]) },
            "exp_special": { exp($0[0]) },
            "log_special": { log($0[0]) },
            "erfinv_special": { erfinv($0[0]) },
            "abs_int": { abs($0[0]) },
            "sign_int": { sign($0[0]) },
            "square_int": { square($0[0]) },
            "exp_int": { exp($0[0]) },
            "sqrt_int32": { sqrt($0[0]) },
            "pow_tensor_f64": { pow($0[0], $0[1]) },
            "pow_tensor_f32": { $0[0].pow($0[1]) },
            "pow_scalar_2.5": { $0[0].pow(2.5) },
            "pow_scalar_3": { $0[0].pow(3) },
            "pow_scalar_2_f32": { $0[0].pow(2) },
            "pow_scalar_0": { pow($0[0], 0) },
            "pow_scalar_neg1.5": { $0[0].pow(-1.5) },
            "pow_rscalar_2": { pow(2, $0[0]) },
            "pow_rscalar_0.5_f32": { pow(0.5, $0[0]) },
            "pow_zero_base": { pow($0[0], $0[1]) },
            "pow_int": { $0[0].pow(3) },
            "atan2_f64": { atan2($0[0], $0[1]) },
            "atan2_f32": { $0[0].atan2($0[1]) },
            "remainder_f64": { remainder($0[0], $0[1]) },
            "remainder_f32": { $0[0].remainder($0[1]) },
            "remainder_scalar": { $0[0].remainder(1.5) },
            "remainder_int": { remainder($0[0], $0[1]) },
            "floor_divide_f64": { floorDivide($0[0], $0[1]) },
            "floor_divide_int": { $0[0].floorDivide($0[1]) },
            "floor_divide_scalar": { $0[0].floorDivide(2) },
            "where_f64": { `where`($0[0], $0[1], $0[2]) },
            "where_f32": { $0[1].where($0[0], $0[2]) },
            "where_scalar": { $0[1].where($0[0], 0.5) },
            "where_int": { `where`($0[0], $0[1], $0[2]) },
            "masked_fill_f64": { $0[0].maskedFill($0[1], value: -1.5) },
            "masked_fill_f32": { maskedFill($0[0], $0[1], value: 2) },
            "masked_fill_ninf": { $0[0].maskedFill($0[1], value: -.infinity) },
            "clamp_both_f64": { $0[0].clamp(min: -0.8, max: 1.1) },
            "clamp_both_f32": { clamp($0[0], min: -0.8, max: 1.1) },
            "clamp_min": { $0[0].clamp(min: 0.3) },
            "clamp_max": { $0[0].clamp(max: -0.2) },
            "clamp_inverted": { $0[0].clamp(min: 1, max: -1) },
            "clamp_nan": { $0[0].clamp(min: -1, max: 1) },
            "clamp_int": { $0[0].clamp(min: -1, max: 4) },
            "clamp_tensor": { $0[0].clamp(min: $0[1], max: $0[2]) },
        ]
        for name in ["maximum_f64", "maximum_f32", "maximum_ties", "maximum_nan", "maximum_int"] { m[name] = { maximum($0[0], $0[1]) } }
        for name in ["minimum_f64", "minimum_f32", "minimum_ties", "minimum_nan", "minimum_int"] { m[name] = { $0[0].minimum($0[1]) } }
        for name in unaryNames {
            let f = unary[name]!
            m[name + "_f64"] = { f($0[0]) }
            m[name + "_f32"] = { f($0[0]) }
        }
        return m
    }()

    /// Runs fixture case `name` through `f`: output dtype and values, then the gradients of `sum(out * upstream)`.
    static func checkFixture(_ file: FixtureFile, _ name: String, _ f: ([Tensor]) -> Tensor) {
        let c = file[name]
        let wantsGrad = c.grads != nil
        let inputs = c.inputs.map { t -> Tensor in
            let x = t.tensor
            return wantsGrad && x.dtype.isFloatingPoint ? x.requiresGrad_() : x
        }
        let out = f(inputs)
        let expected = c.outputs[0].tensor
        #expect(out.dtype == expected.dtype, "\(name): dtype \(out.dtype), expected \(expected.dtype)")
        let single = expected.dtype == .float32
        let r = allClose(out, expected, rtol: single ? 2e-5 : 1e-9, atol: single ? 1e-6 : 1e-12)
        #expect(r.ok, "\(name): \(r.failure)")
        expectCompiledMatchesEager(name, inputs.map { $0.detached() }) { [f($0)] }
        guard let grads = c.grads, let upstream = c.upstream else { return }
        let leaves = inputs.filter { $0.requiresGrad }
        let gs = gradients(of: [(out * upstream.tensor).sum()], wrt: leaves, allowUnused: true)
        for (i, (g, e)) in zip(gs, grads).enumerated() {
            // float64 gradients: 1e-7, since PyTorch's hardsigmoid/elu backward use float32 constants.
            let want = e.tensor
            let rg = allClose(g ?? Tensor.zerosLike(want), want, rtol: single ? 1e-4 : 1e-7, atol: single ? 1e-5 : 1e-9)
            #expect(rg.ok, "\(name): gradient of input \(i): \(rg.failure)")
        }
    }

    @Test func fixtureCoversEveryCase() {
        for c in Self.fixture.cases {
            #expect(Self.ops[c.name] != nil || ActivationTests.ops[c.name] != nil, "no test for fixture case \(c.name)")
        }
    }

    @Test(arguments: ElementwiseTests.ops.keys.sorted())
    func matchesPyTorch(_ name: String) {
        Self.checkFixture(Self.fixture, name, Self.ops[name]!)
    }

    // MARK: gradcheck

    static func randn(_ shape: [Int], seed: UInt64) -> Tensor { Tensor.randn(shape, dtype: .float64, generator: Generator(seed: seed)) }
    static func positive(_ shape: [Int], seed: UInt64) -> Tensor { randn(shape, seed: seed).abs() + 0.3 }

    @Test(arguments: ElementwiseTests.unaryNames)
    func unaryGradcheck(_ name: String) {
        let f = Self.unary[name]!
        let needsPositive = ["log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal"].contains(name)
        // erfinv is defined on (-1, 1).
        func input(_ shape: [Int], _ seed: UInt64) -> Tensor {
            needsPositive ? Self.positive(shape, seed: seed) : name == "erfinv" ? Self.randn(shape, seed: seed).tanh() * 0.9 : Self.randn(shape, seed: seed)
        }
        let x = input([3, 4], 1)
        let r = gradcheck({ f($0[0]) }, inputs: [x])
        #expect(r.passed, "\(name): \(r)")
        // Non-contiguous input: the op sees a transposed view.
        let xt = input([4, 3], 2)
        let rt = gradcheck({ f($0[0].t()) }, inputs: [xt])
        #expect(rt.passed, "\(name) (transposed): \(rt)")
    }

    @Test func binaryGradcheck() {
        let a = Self.positive([3, 1], seed: 3), b = Self.randn([4], seed: 4)
        let checks: [(String, ([Tensor]) -> Tensor, [Tensor])] = [
            ("pow", { pow($0[0], $0[1]) }, [a, b]),
            ("pow transposed", { pow($0[0].t(), $0[1]) }, [Self.positive([4, 3], seed: 5), Self.randn([4], seed: 6)]),
            ("pow scalar", { $0[0].pow(2.5) }, [Self.positive([3, 4], seed: 7)]),
            ("pow scalar int exponent", { $0[0].pow(3) }, [Self.randn([3, 4], seed: 8)]),
            ("rpow", { pow(1.7, $0[0]) }, [Self.randn([3, 4], seed: 9)]),
            ("maximum", { maximum($0[0], $0[1]) }, [Self.randn([3, 1], seed: 10), Self.randn([4], seed: 11)]),
            ("minimum", { minimum($0[0].t(), $0[1]) }, [Self.randn([4, 3], seed: 12), Self.randn([3, 1], seed: 13)]),
            ("atan2", { atan2($0[0], $0[1]) }, [Self.randn([3, 1], seed: 14), Self.randn([4], seed: 15)]),
            ("remainder", { remainder($0[0], $0[1]) }, [Self.randn([3, 4], seed: 16) * 3, Tensor([1.3, -2.1, 0.9, -0.7], dtype: .float64)]),
            ("remainder scalar", { $0[0].remainder(1.5) }, [Self.randn([3, 4], seed: 17)]),
        ]
        for (name, f, inputs) in checks {
            let r = gradcheck(f, inputs: inputs)
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func selectionGradcheck() {
        let cond = Tensor([[true], [false], [true]])
        let mask = Tensor([true, false, true, false])
        let x = Self.randn([3, 4], seed: 20) * 2
        let checks: [(String, ([Tensor]) -> Tensor, [Tensor])] = [
            ("where", { `where`(cond, $0[0], $0[1]) }, [Self.randn([3, 4], seed: 21), Self.randn([4], seed: 22)]),
            ("where transposed", { $0[0].t().where(cond, $0[1]) }, [Self.randn([4, 3], seed: 23), Self.randn([1], seed: 24)]),
            ("where scalar", { `where`(cond, 0.5, $0[0]) }, [Self.randn([3, 4], seed: 25)]),
            ("maskedFill", { $0[0].maskedFill(mask, value: 3) }, [Self.randn([3, 4], seed: 26)]),
            ("maskedFill tensor value", { $0[0].maskedFill(mask, value: $0[1]) }, [Self.randn([3, 4], seed: 27), Self.randn([], seed: 28)]),
            ("clamp", { $0[0].clamp(min: -0.55, max: 0.65) }, [x]),
            ("clamp min", { $0[0].t().clamp(min: 0.15) }, [Self.randn([4, 3], seed: 29)]),
            ("clamp tensors", { $0[0].clamp(min: $0[1], max: $0[2]) }, [x, Self.randn([4], seed: 30) - 0.5, Self.randn([3, 1], seed: 31) + 0.5]),
        ]
        for (name, f, inputs) in checks {
            let r = gradcheck(f, inputs: inputs)
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func secondOrder() {
        let x = Self.randn([2, 3], seed: 40), p = Self.positive([2, 3], seed: 41)
        let checks: [(String, @Sendable ([Tensor]) -> Tensor, [Tensor])] = [
            ("tanh", { $0[0].tanh() }, [x]),
            ("sigmoid", { $0[0].sigmoid() }, [x]),
            ("exp", { $0[0].exp() }, [x]),
            ("pow", { pow($0[0], $0[1]) }, [p, Self.randn([3], seed: 42)]),
            ("pow scalar", { $0[0].pow(3.5) }, [p]),
            ("rpow", { pow(2.5, $0[0]) }, [x]),
            ("log", { $0[0].log() }, [p]),
            ("sqrt", { $0[0].sqrt() }, [p]),
            ("sin", { $0[0].sin() }, [x]),
            ("maximum", { maximum($0[0], $0[1]) * $0[0] }, [x, Self.randn([3], seed: 43)]),
            ("where", { `where`(x.gt(0), $0[0] * $0[0], $0[0].exp()) }, [x]),
        ]
        for (name, f, inputs) in checks {
            let r = gradgradcheck(f, inputs: inputs)
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func forwardModeMatchesDerivative() {
        let x = Self.randn([5], seed: 50), t = Self.randn([5], seed: 51)
        let (y, dy) = jvp({ $0[0].tanh() }, primals: [x], tangents: [t])
        #expect(allClose(dy, t * (1 - y * y), rtol: 1e-12, atol: 1e-12).ok)
        let (_, ds) = jvp({ $0[0].sigmoid().exp() }, primals: [x], tangents: [t])
        let s = x.sigmoid()
        #expect(allClose(ds, t * s * (1 - s) * s.exp(), rtol: 1e-10, atol: 1e-12).ok)
    }

    // MARK: dtypes and special values

    @Test func integerDTypesAreKept() {
        let i = Tensor([[-3, 0, 2], [7, -1, 5]])
        #expect(i.abs().dtype == .int64)
        #expect(i.sign().dtype == .int64)
        #expect((-i).dtype == .int64)
        #expect(i.clamp(min: 0, max: 3).toIntArray() == [0, 0, 2, 3, 0, 3])
        #expect(i.clamp(min: 0.5).dtype == .float32)
        #expect(maximum(i, Tensor([1, 1, 1])).dtype == .int64)
        #expect(minimum(i, Tensor([1, 1, 1])).toIntArray() == [-3, 0, 1, 1, -1, 1])
        #expect(i.exp().dtype == .float32)
        #expect(i.sigmoid().dtype == .float32)
        #expect(Tensor([1, 2], dtype: .int32).abs().dtype == .int32)
    }

    @Test func nanAndInfinityPropagate() {
        let x = Tensor([Double.nan, -.infinity, .infinity, -2, 3], dtype: .float32)
        let relu = x.relu().toDoubleArray()
        #expect(relu[0].isNaN && relu[1] == 0 && relu[2] == .infinity && relu[3] == 0 && relu[4] == 3)
        let c = x.clamp(min: -1, max: 1).toDoubleArray()
        #expect(c[0].isNaN && c[1] == -1 && c[2] == 1 && c[3] == -1 && c[4] == 1)
        let m = maximum(x, Tensor([0, .nan, 0, 0, 0], dtype: .float32)).toDoubleArray()
        #expect(m[0].isNaN && m[1].isNaN && m[2] == .infinity && m[3] == 0 && m[4] == 3)
        let s = x.sigmoid().toDoubleArray()
        #expect(s[0].isNaN && s[1] == 0 && s[2] == 1)
        #expect(x.sign().toDoubleArray()[0].isNaN)
        #expect(x.clamp(min: .nan).toDoubleArray().allSatisfy { $0.isNaN })
    }

    @Test func whereChecksItsCondition() {
        let a = Tensor([1.0, 2.0]), b = Tensor([[3.0], [4.0]])
        let y = `where`(Tensor([true, false]), a, b)
        #expect(y.shape == [2, 2])
        #expect(y.toDoubleArray() == [1, 3, 1, 4])
        #expect(`where`(Tensor([true, false]), Tensor([1.0, 2.0], dtype: .float64), Tensor([1, 2])).dtype == .float64)
    }

    // MARK: in place

    @Test func inPlaceOpsWriteAndBumpVersion() {
        let x = Tensor([-1.5, 0.5, 2.0, -0.2])
        var v = x.version
        x.relu_()
        #expect(x.toDoubleArray() == [0, 0.5, 2, 0])
        #expect(x.version > v)
        v = x.version
        x.clamp_(max: 1)
        #expect(x.toDoubleArray() == [0, 0.5, 1, 0])
        #expect(x.version > v)
        v = x.version
        x.maskedFill_(Tensor([true, false, false, true]), value: 7)
        #expect(x.toDoubleArray() == [7, 0.5, 1, 7])
        #expect(x.version > v)
        v = x.version
        x.pow_(2)
        #expect(x.toDoubleArray() == [49, 0.25, 1, 49])
        #expect(x.version > v)
        let e = Tensor([0.0, 1.0], dtype: .float64)
        e.exp_()
        #expect(allClose(e, Tensor([1.0, 2.718281828459045], dtype: .float64)).ok)
        let i = Tensor([-3, 5, 9])
        i.clamp_(min: 0, max: 6)
        #expect(i.toIntArray() == [0, 5, 6] && i.dtype == .int64)
        i.abs_()
        #expect(i.toIntArray() == [0, 5, 6])
    }

    @Test func inPlaceOnStridedView() {
        let base = Tensor.zeros([3, 4])
        let view = base.t()
        view.maskedFill_(Tensor([true, false, true]), value: 1)
        #expect(base.toDoubleArray() == [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1])
        view.clamp_(min: 0.5, max: 0.75)
        #expect(base.toDoubleArray() == [0.75, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75])
        let u = Tensor.zeros([4, 5])
        u.t().uniform_(from: 2, to: 3, generator: Generator(seed: 3))
        #expect(u.toDoubleArray().allSatisfy { $0 >= 2 && $0 < 3 })
    }

    @Test func inPlaceOnNonLeafKeepsGradients() {
        let x = Tensor([-1.5, 0.5, 2.0, -0.2], dtype: .float64).requiresGrad_()
        let y = x * 2
        y.relu_()
        y.sum().backward()
        #expect(x.grad?.toDoubleArray() == [0, 2, 2, 0])

        // clamp_ saves its input: the in-place write must not invalidate the backward.
        let a = Tensor([-1.5, 0.5, 2.0, -0.2], dtype: .float64).requiresGrad_()
        let b = a * 1
        b.clamp_(min: -1, max: 1)
        (b * b).sum().backward()
        #expect(allClose(a.grad!, Tensor([0, 1, 0, -0.4], dtype: .float64), atol: 1e-12).ok)

        let c = Tensor([1.0, 2.0, 3.0], dtype: .float64).requiresGrad_()
        let d = c * c
        d.maskedFill_(Tensor([false, true, false]), value: 0)
        d.sum().backward()
        #expect(c.grad?.toDoubleArray() == [2, 0, 6])
        #expect(d.gradFn != nil)
    }

    @Test func randomFills() {
        let w = Tensor.zeros([100, 100]).requiresGrad_()
        let v = w.version
        noGrad { w.normal_(mean: 1, std: 2, generator: Generator(seed: 7)) }
        #expect(w.version > v)
        #expect(w.requiresGrad && w.isLeaf)
        let mean = w.mean().item(), std = ((w - mean) * (w - mean)).mean().item().squareRoot()
        #expect(Swift.abs(mean - 1) < 0.1 && Swift.abs(std - 2) < 0.1)
        let again = Tensor.zeros([100, 100]).normal_(mean: 1, std: 2, generator: Generator(seed: 7))
        #expect(noGrad { again.equal(w.detached()) })
        let u = Tensor.zeros([1000], dtype: .float64).uniform_(from: -2, to: 5)
        let vals = u.toDoubleArray()
        #expect(vals.allSatisfy { $0 >= -2 && $0 < 5 } && Swift.abs(u.mean().item() - 1.5) < 0.3)
        let bern = Tensor.zeros([1000]).bernoulli_(p: 0.25, generator: Generator(seed: 1))
        #expect(bern.toDoubleArray().allSatisfy { $0 == 0 || $0 == 1 })
        #expect(Swift.abs(bern.mean().item() - 0.25) < 0.06)
    }
}
