import Testing
import Foundation
import NablaNN
import NablaTestSupport

@Suite struct LossTests {
    static let fixture = loadFixture("losses")
    static let cw = Tensor([0.5, 1.5, 1.0, 2.0], dtype: .float64)
    static let w34 = Tensor(shape: [3, 4], data: (0..<12).map { 0.5 + 0.1 * Double($0) }, dtype: .float64)
    static let posw = Tensor([0.5, 1.0, 2.0, 3.0], dtype: .float64)

    /// Case name → the loss, as in Scripts/fixtures/losses.py.
    nonisolated(unsafe) static let losses: [String: ([Tensor]) -> Tensor] = [
        "mse_mean": { mseLoss($0[0], $0[1]) },
        "mse_none": { mseLoss($0[0], $0[1], reduction: .none) },
        "l1_sum": { l1Loss($0[0], $0[1], reduction: .sum) },
        "smoothl1_beta05": { smoothL1Loss($0[0], $0[1], reduction: .none, beta: 0.5) },
        "smoothl1_beta0": { smoothL1Loss($0[0], $0[1], beta: 0) },
        "huber_delta07": { huberLoss($0[0], $0[1], reduction: .none, delta: 0.7) },
        "ce_mean": { crossEntropy($0[0], $0[1]) },
        "ce_none": { crossEntropy($0[0], $0[1], reduction: .none) },
        "ce_weight_ignore": { crossEntropy($0[0], $0[1], weight: cw) },
        "ce_smooth_weight": { crossEntropy($0[0], $0[1], weight: cw, labelSmoothing: 0.2) },
        "ce_smooth_sum": { crossEntropy($0[0], $0[1], reduction: .sum, labelSmoothing: 0.1) },
        "ce_nd": { crossEntropy($0[0], $0[1]) },
        "ce_nd_none": { crossEntropy($0[0], $0[1], reduction: .none) },
        "ce_probs": { crossEntropy($0[0], $0[1]) },
        "ce_probs_smooth_weight": { crossEntropy($0[0], $0[1], weight: cw, labelSmoothing: 0.3) },
        "ce_unbatched": { crossEntropy($0[0], $0[1]) },
        "nll_weight_ignore": { nllLoss($0[0], $0[1], weight: cw) },
        "nll_sum": { nllLoss($0[0], $0[1], reduction: .sum) },
        "bce_mean": { binaryCrossEntropy($0[0], $0[1]) },
        "bce_weight_none": { binaryCrossEntropy($0[0], $0[1], weight: w34, reduction: .none) },
        "bcel_mean": { binaryCrossEntropyWithLogits($0[0], $0[1]) },
        "bcel_posweight_weight": { binaryCrossEntropyWithLogits($0[0], $0[1], weight: w34, posWeight: posw) },
        "kl_batchmean": { klDiv($0[0], $0[1], reduction: .batchmean) },
        "kl_mean": { klDiv($0[0], $0[1]) },
        "kl_logtarget_none": { klDiv($0[0], $0[1], reduction: .none, logTarget: true) },
        "cosine_embedding": { cosineEmbeddingLoss($0[0], $0[1], $0[2], margin: 0.2) },
        "cosine_embedding_none": { cosineEmbeddingLoss($0[0], $0[1], $0[2], margin: -0.5, reduction: .none) },
    ]

    @Test(arguments: fixture.cases.map(\.name)) func matchesTorch(_ name: String) {
        let c = Self.fixture[name]
        guard let f = Self.losses[name] else { Issue.record("no loss for case \(name)"); return }
        let xs = c.inputs.map { t -> Tensor in
            let x = t.tensor
            return x.dtype.isFloatingPoint ? x.requiresGrad_() : x
        }
        let out = f(xs)
        let r = allClose(out, c.outputs[0].tensor, rtol: 1e-10, atol: 1e-12)
        #expect(r.ok, "\(name): \(r.failure)")
        guard let grads = c.grads, let up = c.upstream else { return }
        let diff = xs.filter(\.dtype.isFloatingPoint)
        let gs = gradients(of: [(out * up.tensor).sum()], wrt: diff, allowUnused: true)
        for (i, (g, e)) in zip(gs, grads).enumerated() {
            let rg = allClose(g ?? Tensor.zerosLike(diff[i]), e.tensor, rtol: 1e-9, atol: 1e-12)
            #expect(rg.ok, "\(name) grad \(i): \(rg.failure)")
        }
    }

    @Test func gradcheckRegression() {
        let x = Tensor.randn([4, 3], dtype: .float64), y = Tensor.randn([3, 4], dtype: .float64).t()
        #expect(gradcheck({ mseLoss($0[0], $0[1]) }, inputs: [x, y]).passed)
        #expect(gradcheck({ l1Loss($0[0], $0[1], reduction: .sum) }, inputs: [x, y]).passed)
        #expect(gradcheck({ smoothL1Loss($0[0], $0[1], beta: 0.5) }, inputs: [x, y]).passed)
        #expect(gradcheck({ huberLoss($0[0], $0[1], reduction: .none, delta: 0.8) }, inputs: [x, y]).passed)
    }

    @Test func gradcheckClassification() {
        let logits = Tensor.randn([3, 5], dtype: .float64).t()   // non-contiguous [5, 3]
        let labels = Tensor([2, 0, -100, 1, 2])
        let w = Tensor([0.3, 1.0, 2.0], dtype: .float64)
        #expect(gradcheck({ crossEntropy($0[0], labels, weight: w, labelSmoothing: 0.1) }, inputs: [logits]).passed)
        let probs = Tensor.rand([5, 3], dtype: .float64)
        #expect(gradcheck({ crossEntropy($0[0], $0[1], labelSmoothing: 0.2) }, inputs: [logits, probs]).passed)
        let nd = Tensor.randn([2, 3, 2], dtype: .float64), ndT = Tensor(shape: [2, 2], data: [0, 2, 1, 1], dtype: .int64)
        #expect(gradcheck({ crossEntropy($0[0], ndT, reduction: .sum) }, inputs: [nd]).passed)
        #expect(gradcheck({ nllLoss($0[0], labels, weight: w) }, inputs: [logits]).passed)
        let p = Tensor.rand([3, 4], dtype: .float64) * 0.8 + 0.1, t = Tensor.rand([3, 4], dtype: .float64)
        #expect(gradcheck({ binaryCrossEntropy($0[0], $0[1]) }, inputs: [p, t]).passed)
        let z = Tensor.randn([3, 4], dtype: .float64), pw = Tensor([1.0, 2.0, 0.5, 3.0], dtype: .float64)
        #expect(gradcheck({ binaryCrossEntropyWithLogits($0[0], $0[1], posWeight: pw) }, inputs: [z, t]).passed)
    }

    @Test func gradcheckDivergenceAndEmbedding() {
        let logq = logSoftmax(Tensor.randn([3, 4], dtype: .float64), dim: 1)
        let pt = softmax(Tensor.randn([3, 4], dtype: .float64), dim: 1)
        #expect(gradcheck({ klDiv($0[0], $0[1], reduction: .batchmean) }, inputs: [logq, pt]).passed)
        #expect(gradcheck({ klDiv($0[0], $0[1], reduction: .sum, logTarget: true) }, inputs: [logq, pt.log()]).passed)
        let a = Tensor.randn([4, 3], dtype: .float64), b = Tensor.randn([3, 4], dtype: .float64).t()
        let y = Tensor([1, -1, -1, 1])
        #expect(gradcheck({ cosineEmbeddingLoss($0[0], $0[1], y, margin: -0.9) }, inputs: [a, b]).passed)
    }

    @Test func modulesMatchFunctions() {
        let x = Tensor.randn([4, 3], dtype: .float64), y = Tensor.randn([4, 3], dtype: .float64)
        let labels = Tensor([0, 2, 1, 1])
        #expect(MSELoss()(x, y).item() == mseLoss(x, y).item())
        #expect(L1Loss(reduction: .sum)(x, y).item() == l1Loss(x, y, reduction: .sum).item())
        #expect(SmoothL1Loss(beta: 0.3)(x, y).item() == smoothL1Loss(x, y, beta: 0.3).item())
        #expect(HuberLoss(delta: 0.3)(x, y).item() == huberLoss(x, y, delta: 0.3).item())
        #expect(CrossEntropyLoss(labelSmoothing: 0.1)(x, labels).item() == crossEntropy(x, labels, labelSmoothing: 0.1).item())
        #expect(NLLLoss()(logSoftmax(x, dim: 1), labels).item() == crossEntropy(x, labels).item())
        let p = x.sigmoid(), t = Tensor.rand([4, 3], dtype: .float64)
        #expect(abs(BCELoss()(p, t).item() - BCEWithLogitsLoss()(x, t).item()) < 1e-12)
        #expect(KLDivLoss(reduction: .batchmean)(logSoftmax(x, dim: 1), softmax(y, dim: 1)).item()
                == klDiv(logSoftmax(x, dim: 1), softmax(y, dim: 1), reduction: .batchmean).item())
        let sign = Tensor([1, -1, 1, -1])
        #expect(CosineEmbeddingLoss(margin: 0.1)(x, y, sign).item() == cosineEmbeddingLoss(x, y, sign, margin: 0.1).item())
        #expect(CrossEntropyLoss().description == "CrossEntropyLoss()")
        #expect(MSELoss(reduction: .sum).description == "MSELoss(reduction=sum)")
    }

    static func stderrText(_ r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func targetOutOfRangeNamesValueAndClasses() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(Tensor.randn([2, 3]), Tensor([0, 5]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("crossEntropy") && text.contains("target class 5") && text.contains("3 classes"), "stderr: \(text)")
    }

    @Test func shapeMismatchIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = mseLoss(Tensor.randn([2, 3]), Tensor.randn([3, 2]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("mseLoss") && text.contains("[2, 3]") && text.contains("[3, 2]"), "stderr: \(text)")
    }

    @Test func floatClassIndicesOfWrongShapeAreReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(Tensor.randn([2, 3]), Tensor([0.0, 1.0]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("crossEntropy") && text.contains("[2, 3]") && text.contains("[2]"), "stderr: \(text)")
    }

    @Test func bceRejectsValuesOutsideUnitInterval() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(Tensor([0.5, 1.5]), Tensor([0.0, 1.0]))
        }
        #expect(Self.stderrText(r).contains("between 0 and 1"))
    }
}
