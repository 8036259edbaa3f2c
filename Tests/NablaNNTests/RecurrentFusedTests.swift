import Testing
import NablaNN
import NablaTestSupport

/// The fused LSTM, GRU and RNN sequence ops (forward kernels + hand-written BPTT) against the layers written step by step
/// in Tensor ops.
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

    /// The reference for the layers with a hidden state only (GRU, RNN): `layer`'s own parameters, one step at a
    /// time, where `step(gi, gh, h)` is the cell given `x_t W_ihᵀ + b_ih` and `h W_hhᵀ + b_hh` (PyTorch's formulas).
    private func hiddenOnlyReference(_ layer: RNNBase, _ input: Tensor, _ h0: Tensor?,
                                     step: (Tensor, Tensor, Tensor) -> Tensor) -> (Tensor, Tensor) {
        let p = Dictionary(uniqueKeysWithValues: layer.namedParameters())
        var x = layer.batchFirst ? input.transpose(0, 1) : input
        let steps = x.shape[0], batch = x.shape[1], dirs = layer.numDirections
        var hN: [Tensor] = []
        for l in 0..<layer.numLayers {
            var outs: [Tensor] = []
            for d in 0..<dirs {
                let sfx = "_l\(l)" + (d == 1 ? "_reverse" : ""), k = l * dirs + d
                var h = h0?[k] ?? Tensor.zeros([batch, layer.hiddenSize], dtype: input.dtype)
                var ys = [Tensor](repeating: h, count: steps)
                for s in 0..<steps {
                    let t = d == 1 ? steps - 1 - s : s
                    var gi = matmul(x[t], p["weight_ih" + sfx]!.t()), gh = matmul(h, p["weight_hh" + sfx]!.t())
                    if layer.bias { gi = gi + p["bias_ih" + sfx]!; gh = gh + p["bias_hh" + sfx]! }
                    h = step(gi, gh, h)
                    ys[t] = h
                }
                outs.append(stack(ys, dim: 0)); hN.append(h)
            }
            x = outs.count == 1 ? outs[0] : cat(outs, dim: -1)
        }
        return (layer.batchFirst ? x.transpose(0, 1) : x, stack(hN, dim: 0))
    }

    /// PyTorch's GRU cell from the two products.
    private func gruStep(_ gi: Tensor, _ gh: Tensor, _ h: Tensor) -> Tensor {
        let i = gi.chunk(3, dim: -1), hh = gh.chunk(3, dim: -1)
        let r = (i[0] + hh[0]).sigmoid(), z = (i[1] + hh[1]).sigmoid(), n = (i[2] + r * hh[2]).tanh()
        return (1 - z) * n + z * h
    }

    /// Runs a layer (`run`) and its reference on a non-contiguous input (and initial states when `states`; `cell`
    /// adds an LSTM's c0), and compares the outputs and the gradients of a random weighting of all outputs for the
    /// input, states and every parameter; then checks that the no-grad forward gives the same outputs.
    private func compare(_ layer: RNNBase, seq: Int, batch: Int, states: Bool, cell: Bool, rtol: Double, atol: Double,
                         run: (Tensor, Tensor?, Tensor?) -> [Tensor], reference: (Tensor, Tensor?, Tensor?) -> [Tensor],
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let dt = layer.parameters()[0].dtype, ld = layer.numLayers * layer.numDirections
        // A leaf whose transpose is the input, so the input is a strided view.
        let leaf = Tensor.randn(layer.batchFirst ? [seq, batch, layer.inputSize] : [batch, seq, layer.inputSize], dtype: dt)
            .requiresGrad_()
        let input = leaf.transpose(0, 1)
        let h0 = states ? Tensor.randn([ld, batch, layer.hiddenSize], dtype: dt).requiresGrad_() : nil
        let c0 = states && cell ? Tensor.randn([ld, batch, layer.hiddenSize], dtype: dt).requiresGrad_() : nil
        let outs = run(input, h0, c0), refs = reference(input, h0, c0)
        for (a, e) in zip(outs, refs) {
            let r = allClose(a, e, rtol: rtol, atol: atol)
            #expect(r.ok, "forward: \(r.failure)", sourceLocation: sourceLocation)
        }
        let weights = outs.map { Tensor.randn($0.shape, dtype: dt) }
        func weighted(_ ys: [Tensor]) -> Tensor { zip(ys, weights).map { ($0 * $1).sum() }.reduce(Tensor.zeros([], dtype: dt), +) }
        let leaves = layer.parameters() + [leaf] + [h0, c0].compactMap { $0 }
        let g = gradients(of: [weighted(outs)], wrt: leaves, retainGraph: true)
        let rg = gradients(of: [weighted(refs)], wrt: leaves)
        for (k, (a, e)) in zip(g, rg).enumerated() {
            let r = allClose(a!, e!, rtol: rtol, atol: atol)
            #expect(r.ok, "gradient \(k) of \(leaves.count): \(r.failure)", sourceLocation: sourceLocation)
        }
        let plain = noGrad { run(input, h0, c0) }
        #expect(allClose(plain[0], outs[0], rtol: 0, atol: 0).ok, "no-grad forward differs", sourceLocation: sourceLocation)
    }

    private func compare(_ lstm: LSTM, seq: Int, batch: Int, states: Bool, rtol: Double, atol: Double,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        compare(lstm, seq: seq, batch: batch, states: states, cell: true, rtol: rtol, atol: atol,
                run: { x, h, c in let (o, (hN, cN)) = lstm(x, h.map { ($0, c!) }); return [o, hN, cN] },
                reference: { x, h, c in let r = reference(lstm, x, h, c); return [r.0, r.1, r.2] },
                sourceLocation: sourceLocation)
    }

    private func compare(_ gru: GRU, seq: Int, batch: Int, states: Bool, rtol: Double, atol: Double,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        compare(gru, seq: seq, batch: batch, states: states, cell: false, rtol: rtol, atol: atol,
                run: { x, h, _ in let (o, hN) = gru(x, h); return [o, hN] },
                reference: { x, h, _ in let r = hiddenOnlyReference(gru, x, h, step: gruStep); return [r.0, r.1] },
                sourceLocation: sourceLocation)
    }

    private func compare(_ rnn: RNN, seq: Int, batch: Int, states: Bool, rtol: Double, atol: Double,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let relu = rnn.mode == .rnnRelu
        compare(rnn, seq: seq, batch: batch, states: states, cell: false, rtol: rtol, atol: atol,
                run: { x, h, _ in let (o, hN) = rnn(x, h); return [o, hN] },
                reference: { x, h, _ in
                    let r = hiddenOnlyReference(rnn, x, h) { gi, gh, _ in relu ? (gi + gh).relu() : (gi + gh).tanh() }
                    return [r.0, r.1]
                },
                sourceLocation: sourceLocation)
    }

    /// `body(layers, bias, batchFirst, bidirectional, states)` over every small layout the float64 tests cover.
    private func forEachSmallLayout(_ body: (Int, Bool, Bool, Bool, Bool) -> Void) {
        for layers in [1, 2] {
            for bidirectional in [false, true] {
                for batchFirst in [false, true] {
                    for (bias, states) in [(true, true), (false, false), (true, false)] {
                        body(layers, bias, batchFirst, bidirectional, states)
                    }
                }
            }
        }
    }

    @Test(.seeded(11)) func float64MatchesStepByStepReference() {
        forEachSmallLayout { layers, bias, batchFirst, bidirectional, states in
            let lstm = LSTM(5, 7, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bidirectional,
                            dtype: .float64)
            compare(lstm, seq: 4, batch: 3, states: states, rtol: 1e-9, atol: 1e-11)
        }
        // Large enough that each direction splits its batch rows (15 and 16) across threads, with and without states.
        for states in [true, false] {
            compare(LSTM(9, 40, bidirectional: true, dtype: .float64), seq: 5, batch: 31, states: states,
                    rtol: 1e-9, atol: 1e-11)
        }
    }

    @Test(.seeded(12)) func float32MatchesReferenceAcrossCoreSplit() {
        // 67 rows of a 128-wide LSTM over 5 steps is worth a fork, so the batch rows run split across threads.
        compare(LSTM(9, 128, batchFirst: true), seq: 5, batch: 67, states: true, rtol: 2e-4, atol: 2e-5)
        compare(LSTM(3, 5, numLayers: 2, bidirectional: true), seq: 6, batch: 1, states: false, rtol: 2e-4, atol: 2e-5)
        compare(LSTM(4, 6, bias: false, bidirectional: true), seq: 1, batch: 2, states: true, rtol: 2e-4, atol: 2e-5)
    }

    @Test(.seeded(13)) func sequenceGradientIsDifferentiable() {
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

    @Test(.seeded(14)) func gruFloat64MatchesStepByStepReference() {
        forEachSmallLayout { layers, bias, batchFirst, bidirectional, states in
            let gru = GRU(5, 7, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bidirectional,
                          dtype: .float64)
            compare(gru, seq: 4, batch: 3, states: states, rtol: 1e-9, atol: 1e-11)
        }
        // Large enough that each direction splits its batch rows across threads.
        for states in [true, false] {
            compare(GRU(9, 40, bidirectional: true, dtype: .float64), seq: 5, batch: 31, states: states,
                    rtol: 1e-9, atol: 1e-11)
        }
    }

    @Test(.seeded(15)) func gruFloat32MatchesReferenceAcrossCoreSplit() {
        compare(GRU(9, 128, batchFirst: true), seq: 5, batch: 67, states: true, rtol: 2e-4, atol: 2e-5)
        compare(GRU(3, 5, numLayers: 2, bidirectional: true), seq: 6, batch: 1, states: false, rtol: 2e-4, atol: 2e-5)
        compare(GRU(4, 6, bias: false, bidirectional: true), seq: 1, batch: 2, states: true, rtol: 2e-4, atol: 2e-5)
    }

    @Test(.seeded(16)) func gruSequenceGradientIsDifferentiable() {
        let gru = GRU(2, 3, bidirectional: true, dtype: .float64)
        let x = Tensor.randn([3, 2, 2], dtype: .float64), h0 = Tensor.randn([2, 2, 3], dtype: .float64)
        #expect(gradgradcheck({ a in let (o, h) = gru(a[0], a[1]); return o.sum() + (h * h).sum() }, inputs: [x, h0]).passed)
    }

    @Test(.seeded(17)) func rnnMatchesReferenceInBothPrecisions() {
        for nonlinearity in [RNNNonlinearity.tanh, .relu] {
            forEachSmallLayout { layers, bias, batchFirst, bidirectional, states in
                let rnn = RNN(5, 7, numLayers: layers, nonlinearity: nonlinearity, bias: bias, batchFirst: batchFirst,
                              bidirectional: bidirectional, dtype: .float64)
                compare(rnn, seq: 4, batch: 3, states: states, rtol: 1e-9, atol: 1e-11)
            }
            // Large enough to split the batch rows across threads, in both precisions.
            compare(RNN(9, 96, nonlinearity: nonlinearity, bidirectional: true, dtype: .float64), seq: 5, batch: 31,
                    states: true, rtol: 1e-9, atol: 1e-11)
            compare(RNN(9, 128, nonlinearity: nonlinearity, batchFirst: true), seq: 5, batch: 67, states: false,
                    rtol: 2e-4, atol: 2e-5)
        }
        let rnn = RNN(2, 3, bidirectional: true, dtype: .float64)
        let x = Tensor.randn([3, 2, 2], dtype: .float64), h0 = Tensor.randn([2, 2, 3], dtype: .float64)
        #expect(gradgradcheck({ a in let (o, h) = rnn(a[0], a[1]); return o.sum() + (h * h).sum() }, inputs: [x, h0]).passed)
    }
}
