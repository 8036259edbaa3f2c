import Testing
import NablaNN
import NablaTestSupport

/// The fused LSTM sequence op (forward kernels + hand-written BPTT) against an LSTM written step by step in Tensor ops.
@Suite struct RecurrentFusedTests {
    /// The reference: `lstm`'s own parameters, one Tensor-op step at a time (what PyTorch's formulas say).
    private func reference(_ lstm: LSTM, _ input: Tensor, _ h0: Tensor?, _ c0: Tensor?) -> (Tensor, Tensor, Tensor) {
        let p = Dictionary(uniqueKeysWithValues: lstm.namedParameters())
        var x = lstm.batchFirst ? input.transpose(0, 1) : input
        let steps = x.shape[0], batch = x.shape[1], dirs = lstm.numDirections
        var hN: [Tensor] = [], cN: [Tensor] = []
        for layer in 0..<lstm.numLayers {
            var outs: [Tensor] = []
            for d in 0..<dirs {
                let sfx = "_l\(layer)" + (d == 1 ? "_reverse" : ""), k = layer * dirs + d
                let wih = p["weight_ih" + sfx]!, whh = p["weight_hh" + sfx]!
                var h = h0?[k] ?? Tensor.zeros([batch, lstm.hiddenSize], dtype: input.dtype)
                var c = c0?[k] ?? Tensor.zeros([batch, lstm.hiddenSize], dtype: input.dtype)
                var ys = [Tensor](repeating: h, count: steps)
                for s in 0..<steps {
                    let t = d == 1 ? steps - 1 - s : s
                    var gates = matmul(x[t], wih.t()) + matmul(h, whh.t())
                    if lstm.bias { gates = gates + p["bias_ih" + sfx]! + p["bias_hh" + sfx]! }
                    let ch = gates.chunk(4, dim: -1)
                    c = ch[1].sigmoid() * c + ch[0].sigmoid() * ch[2].tanh()
                    h = ch[3].sigmoid() * c.tanh()
                    ys[t] = h
                }
                outs.append(stack(ys, dim: 0)); hN.append(h); cN.append(c)
            }
            x = outs.count == 1 ? outs[0] : cat(outs, dim: -1)
        }
        return (lstm.batchFirst ? x.transpose(0, 1) : x, stack(hN, dim: 0), stack(cN, dim: 0))
    }

    /// Runs `lstm` and the reference on a non-contiguous input (and initial states when `states`), and compares the
    /// outputs and the gradients of a random weighting of `(out, hN, cN)` for the input, states and every parameter.
    private func compare(_ lstm: LSTM, seq: Int, batch: Int, states: Bool, rtol: Double, atol: Double,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let dt = lstm.parameters()[0].dtype, ld = lstm.numLayers * lstm.numDirections
        // A leaf whose transpose is the input, so the input is a strided view.
        let leaf = Tensor.randn(lstm.batchFirst ? [seq, batch, lstm.inputSize] : [batch, seq, lstm.inputSize], dtype: dt)
            .requiresGrad_()
        let input = leaf.transpose(0, 1)
        let h0 = states ? Tensor.randn([ld, batch, lstm.hiddenSize], dtype: dt).requiresGrad_() : nil
        let c0 = states ? Tensor.randn([ld, batch, lstm.hiddenSize], dtype: dt).requiresGrad_() : nil
        let (out, (hN, cN)) = lstm(input, h0.map { ($0, c0!) })
        let (rOut, rH, rC) = reference(lstm, input, h0, c0)
        for (a, e) in [(out, rOut), (hN, rH), (cN, rC)] {
            let r = allClose(a, e, rtol: rtol, atol: atol)
            #expect(r.ok, "forward: \(r.failure)", sourceLocation: sourceLocation)
        }
        let wo = Tensor.randn(out.shape, dtype: dt), wh = Tensor.randn(hN.shape, dtype: dt), wc = Tensor.randn(cN.shape, dtype: dt)
        let leaves = lstm.parameters() + [leaf] + (states ? [h0!, c0!] : [])
        let g = gradients(of: [(out * wo).sum() + (hN * wh).sum() + (cN * wc).sum()], wrt: leaves, retainGraph: true)
        let rg = gradients(of: [(rOut * wo).sum() + (rH * wh).sum() + (rC * wc).sum()], wrt: leaves)
        for (k, (a, e)) in zip(g, rg).enumerated() {
            let r = allClose(a!, e!, rtol: rtol, atol: atol)
            #expect(r.ok, "gradient \(k) of \(leaves.count): \(r.failure)", sourceLocation: sourceLocation)
        }
        let plain = noGrad { lstm(input, h0.map { ($0, c0!) }) }
        #expect(allClose(plain.0, out, rtol: 0, atol: 0).ok, "no-grad forward differs", sourceLocation: sourceLocation)
    }

    @Test func float64MatchesStepByStepReference() {
        manualSeed(11)
        for layers in [1, 2] {
            for bidirectional in [false, true] {
                for batchFirst in [false, true] {
                    for (bias, states) in [(true, true), (false, false), (true, false)] {
                        let lstm = LSTM(5, 7, numLayers: layers, bias: bias, batchFirst: batchFirst,
                                        bidirectional: bidirectional, dtype: .float64)
                        compare(lstm, seq: 4, batch: 3, states: states, rtol: 1e-9, atol: 1e-11)
                    }
                }
            }
        }
        // Large enough that each direction splits its batch rows (15 and 16) across threads, with and without states.
        for states in [true, false] {
            compare(LSTM(9, 40, bidirectional: true, dtype: .float64), seq: 5, batch: 31, states: states,
                    rtol: 1e-9, atol: 1e-11)
        }
    }

    @Test func float32MatchesReferenceAcrossCoreSplit() {
        manualSeed(12)
        // 67 rows of a 128-wide LSTM over 5 steps is worth a fork, so the batch rows run split across threads.
        compare(LSTM(9, 128, batchFirst: true), seq: 5, batch: 67, states: true, rtol: 2e-4, atol: 2e-5)
        compare(LSTM(3, 5, numLayers: 2, bidirectional: true), seq: 6, batch: 1, states: false, rtol: 2e-4, atol: 2e-5)
        compare(LSTM(4, 6, bias: false, bidirectional: true), seq: 1, batch: 2, states: true, rtol: 2e-4, atol: 2e-5)
    }

    @Test func sequenceGradientIsDifferentiable() {
        manualSeed(13)
        let lstm = LSTM(2, 3, bidirectional: true, dtype: .float64)
        let x = Tensor.randn([3, 2, 2], dtype: .float64)
        let h0 = Tensor.randn([2, 2, 3], dtype: .float64), c0 = Tensor.randn([2, 2, 3], dtype: .float64)
        #expect(gradgradcheck({ a in let (o, (h, c)) = lstm(a[0], (a[1], a[2])); return o.sum() + (h * c).sum() },
                              inputs: [x, h0, c0]).passed)
        // The weights' gradients are differentiable too (createGraph goes through the Tensor-op BPTT).
        let w = lstm.parameters()[1]
        let loss = lstm(x).pow(2).sum()
        let gw = gradients(of: [loss], wrt: [w], createGraph: true)[0]!
        let gx = gradients(of: [gw.pow(2).sum()], wrt: [w])[0]!
        #expect(gx.shape == w.shape && gx.abs().sum().item() > 0)
    }
}
