import Testing
import NablaNN
import NablaTestSupport

/// With a `.mt19937` default generator seeded like `torch.manual_seed`, layers start from PyTorch's very
/// weights (`Tests/Fixtures/rng.json`): same draws, same order, same bounds.
@Suite struct TorchInitTests {
    static let fixture = loadFixture("rng")

    func seeded<M: Module>(_ seed: UInt64, _ make: () -> M) -> M {
        Generator.withDefault(Generator(seed: seed, engine: .mt19937), make)
    }

    func expectParameters(_ module: Module, _ names: [String], _ caseName: String, rtol: Double = 0,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = Self.fixture[caseName].outputs
        let params = Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.0, $0.1) })
        #expect(names.count == expected.count && params.count == names.count, "\(caseName): parameters \(params.keys.sorted())",
                sourceLocation: sourceLocation)
        for (name, e) in zip(names, expected) {
            guard let p = params[name] else { Issue.record("\(caseName): no parameter \(name)", sourceLocation: sourceLocation); continue }
            let r = allClose(p, e.tensor, rtol: rtol, atol: 0)
            #expect(r.ok, "\(caseName).\(name): \(r.failure)", sourceLocation: sourceLocation)
        }
    }

    @Test func linearConvAndBilinear() {
        expectParameters(seeded(0) { Linear(20, 7) }, ["weight", "bias"], "linear_init")
        expectParameters(seeded(0) { Conv2d(3, 4, kernelSize: 3) }, ["weight", "bias"], "conv2d_init")
        expectParameters(seeded(1) { ConvTranspose2d(4, 6, kernelSize: 3, groups: 2) }, ["weight", "bias"], "conv_transpose2d_init")
        expectParameters(seeded(2) { Bilinear(3, 4, 5) }, ["weight", "bias"], "bilinear_init")
    }

    @Test func recurrentAttentionAndEmbedding() {
        let lstm = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
        expectParameters(seeded(3) { LSTM(5, 4, numLayers: 2) }, lstm, "lstm_init")
        expectParameters(seeded(4) { MultiheadAttention(embedDim: 8, numHeads: 2) },
                         ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], "mha_init")
        expectParameters(seeded(5) { Embedding(10, 6) }, ["weight"], "embedding_init", rtol: 1e-5)
    }
}

/// `truncNormal_` and `orthogonal_` follow PyTorch's algorithms, so on `.mt19937` they give PyTorch's numbers.
@Suite struct TorchInitAlgorithmTests {
    func expectEqual(_ actual: Tensor, _ name: String, rtol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let r = allClose(actual, TorchInitTests.fixture[name].outputs[0].tensor, rtol: rtol, atol: rtol)
        #expect(r.ok, "\(name): \(r.failure)", sourceLocation: sourceLocation)
    }

    @Test func truncNormalIsPyTorchsRejectionSampling() {
        let g = Generator(seed: 6, engine: .mt19937)
        expectEqual(truncNormal_(Tensor.empty([50]), std: 0.5, a: -0.6, b: 1.0, generator: g), "trunc_normal_f32", rtol: 1e-6)
        let h = Generator(seed: 6, engine: .mt19937)
        expectEqual(truncNormal_(Tensor.empty([50], dtype: .float64), mean: 0.2, std: 0.02, generator: h), "trunc_normal_f64", rtol: 1e-14)
        // [1.5, 3] holds 6.5% of the mass: uniform proposals, accepted by density.
        let k = Generator(seed: 8, engine: .mt19937)
        expectEqual(truncNormal_(Tensor.empty([40], dtype: .float64), a: 1.5, b: 3, generator: k), "trunc_normal_tail_f64", rtol: 1e-14)
    }

    @Test func orthogonalIsPyTorchsSignFixedQ() {
        // The float32 normal draws agree with PyTorch's to 1e-5, and Q inherits that.
        expectEqual(orthogonal_(Tensor.empty([3, 5]), gain: 2, generator: Generator(seed: 7, engine: .mt19937)), "orthogonal_wide", rtol: 1e-4)
        expectEqual(orthogonal_(Tensor.empty([6, 2, 2], dtype: .float64), generator: Generator(seed: 7, engine: .mt19937)),
                    "orthogonal_tall_f64", rtol: 1e-12)
    }
}
