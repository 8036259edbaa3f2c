import Testing
import Nabla
import NablaNN
import NablaTestSupport

/// `withoutInitialization`: layers built inside get zeros instead of random weights, the random initialisers leave
/// their tensor alone, constant defaults still apply, and the previous state comes back afterwards.
@Suite struct SkipInitializationTests {
    private func allZero(_ m: Module) -> Bool { m.parameters().allSatisfy { $0.abs().max().item() == 0 } }

    @Test(.seeded(4)) func layersBuiltInsideHaveZeroWeights() {
        let layers: [Module] = withoutInitialization {
            [Linear(8, 4), Conv2d(3, 5, kernelSize: 3), Embedding(10, 6, paddingIdx: 0), LSTM(4, 3), Bilinear(2, 3, 4)]
        }
        for l in layers { #expect(allZero(l), "\(l) has non-zero weights") }
        let norm = withoutInitialization { LayerNorm([6]) }
        #expect(norm.weight!.toFloatArray() == [Float](repeating: 1, count: 6), "LayerNorm's constant defaults still apply")
        // Outside the scope, random initialisation again.
        #expect(!allZero(Linear(8, 4)) && !allZero(Embedding(10, 6)))
    }

    @Test(.seeded(5)) func randomInitialisersLeaveTheirTensorAndNestingRestores() {
        let t = Tensor.full([3, 4], 7.0)
        withoutInitialization {
            _ = kaimingUniform_(t); _ = xavierNormal_(t); _ = truncNormal_(t); _ = orthogonal_(t); _ = uniform_(t); _ = normal_(t)
            withoutInitialization { _ = normal_(t) }
            #expect(t.toFloatArray() == [Float](repeating: 7, count: 12))
            _ = zeros_(t)
            #expect(t.toFloatArray() == [Float](repeating: 0, count: 12), "constant initialisers still run")
        }
        _ = normal_(t)
        #expect(t.abs().sum().item() > 0, "initialisers draw again after the scope")
    }
}
