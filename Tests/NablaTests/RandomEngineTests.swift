import Testing
import Nabla
import NablaTestSupport

/// The `.mt19937` engine against PyTorch's CPU generator (`Tests/Fixtures/rng.json`, written by
/// `Scripts/fixtures/rng.py`): the same seed must draw the same numbers.
@Suite struct RandomEngineTests {
    static let fixture = loadFixture("rng")

    /// `torch.manual_seed(seed)`, as a generator of its own so tests running in parallel do not share it.
    func torchSeeded(_ seed: UInt64) -> Generator { Generator(seed: seed, engine: .mt19937) }

    func expectEqual(_ actual: Tensor, _ name: String, output: Int = 0, rtol: Double = 0, atol: Double = 0,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = Self.fixture[name].outputs[output].tensor
        #expect(actual.dtype == expected.dtype, "\(name): dtype \(actual.dtype), expected \(expected.dtype)", sourceLocation: sourceLocation)
        let r = allClose(actual, expected, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name): \(r.failure)", sourceLocation: sourceLocation)
    }

    @Test func twisterMatchesTheStandardStream() {
        // std::mt19937 seeded 5489: the 1st output is 3499211612 and the 10000th 4123659995 (C++ [rand.predef]).
        // `rand` keeps each output's low 24 bits.
        let u = Tensor.rand([10_000], generator: torchSeeded(5489)).toDoubleArray()
        #expect(u[0] == Double(3_499_211_612 & 0xFF_FFFF) / 16_777_216)
        #expect(u[9999] == Double(4_123_659_995 & 0xFF_FFFF) / 16_777_216)
    }

    @Test func uniformDrawsAreExact() {
        expectEqual(Tensor.rand([1000], generator: torchSeeded(0)), "rand_f32")
        expectEqual(Tensor.rand([7], dtype: .float64, generator: torchSeeded(3)), "rand_f64")
        expectEqual(Tensor.empty([100]).uniform_(from: -3.3, to: 7.1, generator: torchSeeded(1)), "uniform_f32")
        expectEqual(Tensor.empty([100], dtype: .float64).uniform_(from: -3.3, to: 7.1, generator: torchSeeded(1)), "uniform_f64")
    }

    @Test func normalDraws() {
        // Float32 fills of 16 or more values go through the polynomial log/sin/cos of PyTorch's AVX2 kernel: equal to 1e-5.
        expectEqual(Tensor.randn([40], generator: torchSeeded(0)), "randn_f32_40", rtol: 1e-5, atol: 1e-6)
        expectEqual(Tensor.empty([33]).normal_(mean: 0.3, std: 2.5, generator: torchSeeded(2)), "normal_f32_33", rtol: 1e-5, atol: 1e-5)
        expectEqual(Tensor.randn([5], generator: torchSeeded(0)), "randn_f32_5")
        expectEqual(Tensor.empty([40], dtype: .float64).normal_(mean: 0.3, std: 2.5, generator: torchSeeded(2)), "normal_f64_40",
                    rtol: 1e-15, atol: 1e-15)
        expectEqual(Tensor.empty([7], dtype: .float64).normal_(mean: 0.3, std: 2.5, generator: torchSeeded(2)), "normal_f64_7",
                    rtol: 1e-15, atol: 1e-15)
    }

    @Test func integerDrawsAndPermutations() {
        expectEqual(Tensor.randint(3, 17, [50], generator: torchSeeded(2)), "randint_small")
        expectEqual(Tensor.randint(0, 1 << 40, [10], generator: torchSeeded(2)), "randint_wide")
        expectEqual(Tensor.randperm(100, generator: torchSeeded(5)), "randperm_100")
        #expect(Tensor.randperm(0, generator: torchSeeded(5)).shape == [0])
        #expect(Tensor.randperm(1, generator: torchSeeded(5)).toIntArray() == [0])
    }

    @Test func bernoulliAndDropoutMasks() {
        expectEqual(Tensor.empty([200]).bernoulli_(p: 0.3, generator: torchSeeded(4)), "bernoulli_f32")
        expectEqual(dropout(Tensor.ones([200]), p: 0.4, generator: torchSeeded(4)), "dropout_f32", rtol: 1e-7)
    }

    @Test func consecutiveCallsShareTheStream() {
        // Includes the second value of a scalar Box–Muller pair, cached from one `randn` call to the next.
        let g = torchSeeded(7)
        expectEqual(Tensor.rand([3], generator: g), "sequence", output: 0)
        expectEqual(Tensor.randn([3], generator: g), "sequence", output: 1)
        expectEqual(Tensor.randn([3], dtype: .float64, generator: g), "sequence", output: 2, rtol: 1e-15)
        expectEqual(Tensor.randn([20], generator: g), "sequence", output: 3, rtol: 1e-5, atol: 1e-6)
        expectEqual(Tensor.randperm(10, generator: g), "sequence", output: 4)
        expectEqual(Tensor.randint(0, 5, [4], generator: g), "sequence", output: 5)
    }

    @Test func stateRoundTripsMidStream() throws {
        let g = torchSeeded(11)
        _ = Tensor.randn([3], dtype: .float64, generator: g)  // leaves a cached normal behind
        _ = Tensor.rand([700], generator: g)                  // crosses a twist of the 624 words
        let saved = g.stateValue, dict = g.stateDict()
        #expect(saved.count == 628 && dict.keys.sorted() == ["mt19937", "seed"])
        let expected = Tensor.randn([5], dtype: .float64, generator: g).toDoubleArray()
        let h = Generator(seed: 99)
        h.setState(saved)
        #expect(h.engine == .mt19937 && Tensor.randn([5], dtype: .float64, generator: h).toDoubleArray() == expected)
        let k = Generator()
        try k.loadStateDict(dict)
        #expect(Tensor.randn([5], dtype: .float64, generator: k).toDoubleArray() == expected)
        var bad = dict
        bad["mt19937"] = Tensor(shape: [3], data: [Int64(1), 0, 0])
        #expect(throws: StateDictError.self) { try Generator().loadStateDict(bad) }
    }

    @Test func reseedingKeepsOrSwitchesTheEngine() {
        let g = torchSeeded(0)
        _ = Tensor.rand([5], generator: g)
        g.manualSeed(0)
        #expect(g.engine == .mt19937)
        expectEqual(Tensor.rand([1000], generator: g), "rand_f32")
        g.manualSeed(0, engine: .philox)
        #expect(g.engine == .philox && g.stateValue == [0, 0])
        #expect(g.derived(1).engine == .philox && torchSeeded(3).derived(1).engine == .mt19937)
    }

    @Test func scopedDefaultGenerator() {
        let before = Generator.default.stateValue
        let a = Generator.withDefault(torchSeeded(0)) { Tensor.rand([1000]) }
        expectEqual(a, "rand_f32")
        #expect(Generator.withDefault(torchSeeded(0)) { Generator.default.engine } == .mt19937)
        _ = before  // the process-wide generator is shared with other tests, so only its engine is checked
        #expect(Generator.default.engine == .philox)
    }
}
