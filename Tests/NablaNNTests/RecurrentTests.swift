import Testing
import NablaNN
import NablaTestSupport

@Suite struct RecurrentTests {
    private func fixture(_ name: String) -> ModuleFixture { ModuleFixture("rnn", name) }

    @Test func rnnCellsMatchPyTorch() {
        for (name, relu) in [("rnn_cell_tanh", false), ("rnn_cell_relu", true)] {
            let f = fixture(name), cell = RNNCell(4, 3, nonlinearity: relu ? .relu : .tanh, dtype: .float64)
            f.load(into: cell)
            let x = f.dataInputs()
            f.verify([cell(x[0], x[1])], inputs: x, module: cell)
        }
        let f = fixture("lstm_cell"), lstm = LSTMCell(4, 3, dtype: .float64)
        f.load(into: lstm)
        let x = f.dataInputs()
        let (h, c) = lstm(x[0], (x[1], x[2]))
        f.verify([h, c], inputs: x, module: lstm)
        let g = fixture("gru_cell"), gru = GRUCell(4, 3, dtype: .float64)
        g.load(into: gru)
        let y = g.dataInputs()
        g.verify([gru(y[0], y[1])], inputs: y, module: gru)
    }

    @Test func rnnMatchesPyTorch() {
        let f = fixture("rnn_tanh_2layer"), rnn = RNN(4, 3, numLayers: 2, dtype: .float64)
        f.load(into: rnn)
        let x = f.dataInputs()
        let (out, h) = rnn(x[0], x[1])
        f.verify([out, h], inputs: x, module: rnn)
        let g = fixture("rnn_relu_batch_first"), relu = RNN(4, 3, nonlinearity: .relu, batchFirst: true, dtype: .float64)
        g.load(into: relu)
        let y = g.dataInputs()
        let (o2, h2) = relu(y[0], nil)
        g.verify([o2, h2], inputs: y, module: relu)
    }

    /// A batch-first layer returns its output as PyTorch does: a [B, T, H] view of the time-major result, not a copy
    /// (strides [H, B·H, 1]), with the same values as the time-major layer transposed, and gradients through it.
    @Test func batchFirstOutputIsATransposedView() {
        manualSeed(3)
        let first = LSTM(6, 5, batchFirst: true), timeMajor = LSTM(6, 5)
        try? timeMajor.loadStateDict(first.stateDict(), strict: true)
        let x = Tensor.randn([4, 7, 6]).requiresGrad_()
        let (out, _) = first(x, nil)
        #expect(out.shape == [4, 7, 5] && !out.isContiguous && out.strides == [5, 20, 1], "\(out.shape) \(out.strides)")
        let (ref, _) = timeMajor(x.detach().transpose(0, 1), nil)
        #expect(allClose(out, ref.transpose(0, 1), rtol: 0, atol: 0).ok)
        out.pow(2).sum().backward()
        #expect(x.grad?.shape == [4, 7, 6])
    }

    @Test func lstmMatchesPyTorch() {
        let cases: [(String, LSTM)] = [
            ("lstm_basic", LSTM(4, 3, dtype: .float64)),
            ("lstm_bi_2layer_batch_first", LSTM(4, 3, numLayers: 2, batchFirst: true, bidirectional: true, dtype: .float64)),
            ("lstm_unbatched", LSTM(4, 3, dtype: .float64)),
        ]
        for (name, lstm) in cases {
            let f = fixture(name)
            f.load(into: lstm)
            let x = f.dataInputs()
            let (out, (h, c)) = lstm(x[0], (x[1], x[2]))
            f.verify([out, h, c], inputs: x, module: lstm)
        }
        let others: [(String, LSTM)] = [
            ("lstm_proj", LSTM(4, 5, projSize: 3, dtype: .float64)),
            ("lstm_no_bias", LSTM(4, 3, bias: false, dtype: .float64)),
        ]
        for (name, lstm) in others {
            let f = fixture(name)
            f.load(into: lstm)
            let x = f.dataInputs()
            let (out, (h, c)) = lstm(x[0], nil)
            f.verify([out, h, c], inputs: x, module: lstm)
        }
    }

    @Test func lstmFloat32FastPathMatchesPyTorch() {
        let f = fixture("lstm_f32"), lstm = LSTM(8, 16, batchFirst: true)
        f.load(into: lstm)
        let x = f.dataInputs()
        let (out, (h, c)) = lstm(x[0], nil)
        f.verify([out, h, c], inputs: x, module: lstm, rtol: 1e-4, atol: 1e-5)
        #expect(allClose(lstm(x[0]), out).ok)
    }

    @Test func gruMatchesPyTorch() {
        let f = fixture("gru_bi_2layer"), gru = GRU(4, 3, numLayers: 2, bidirectional: true, dtype: .float64)
        f.load(into: gru)
        let x = f.dataInputs()
        let (out, h) = gru(x[0], x[1])
        f.verify([out, h], inputs: x, module: gru)
        let g = fixture("gru_batch_first"), bf = GRU(4, 3, batchFirst: true, dtype: .float64)
        g.load(into: bf)
        let y = g.dataInputs()
        let (o2, h2) = bf(y[0], nil)
        g.verify([o2, h2], inputs: y, module: bf)
    }

    @Test func parameterNamesAndShapesFollowPyTorch() {
        let lstm = LSTM(10, 20, numLayers: 2, bidirectional: true, projSize: 5)
        #expect(lstm.namedParameters().map(\.0) == [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_hr_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_hr_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse", "weight_hr_l1_reverse",
        ])
        let shapes = lstm.namedParameters().map(\.1.shape)
        #expect(shapes[0] == [80, 10] && shapes[1] == [80, 5] && shapes[4] == [5, 20] && shapes[10] == [80, 10])
        #expect(GRUCell(3, 4).namedParameters().map(\.0) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        #expect(GRU(3, 4).namedParameters().map(\.1.shape) == [[12, 3], [12, 4], [12], [12]])
        let bound = 1 / 20.0.squareRoot()
        #expect(lstm.parameters().allSatisfy { $0.abs().max().item() <= bound })
        #expect(lstm.description == "LSTM(10, 20, proj_size=5, num_layers=2, bidirectional=True)")
    }

    @Test func cellsPassGradcheck() {
        let lstm = LSTMCell(3, 2, dtype: .float64), gru = GRUCell(3, 2, dtype: .float64), rnn = RNNCell(3, 2, dtype: .float64)
        let x = Tensor.randn([2, 3], dtype: .float64), h = Tensor.randn([2, 2], dtype: .float64), c = Tensor.randn([2, 2], dtype: .float64)
        #expect(gradcheck({ a in let (h1, c1) = lstm(a[0], (a[1], a[2])); return h1 * 2 + c1 }, inputs: [x, h, c]).passed)
        #expect(gradcheck({ a in gru(a[0], a[1]) }, inputs: [x, h]).passed)
        #expect(gradcheck({ a in rnn(a[0], a[1]) }, inputs: [x.t().contiguous().t(), h]).passed)
        // The fused LSTM op's backward is itself differentiable.
        #expect(gradgradcheck({ a in let (h1, c1) = lstm(a[0], (a[1], a[2])); return h1 + c1 * c1 }, inputs: [x, h, c]).passed)
    }

    @Test func sequencesPassGradcheck() {
        let lstm = LSTM(2, 2, numLayers: 2, bidirectional: true, dtype: .float64)
        let gru = GRU(2, 2, batchFirst: true, dtype: .float64)
        let x = Tensor.randn([2, 2, 2], dtype: .float64)
        let h0 = Tensor.randn([4, 2, 2], dtype: .float64), c0 = Tensor.randn([4, 2, 2], dtype: .float64)
        #expect(gradcheck({ a in let (o, (h, c)) = lstm(a[0], (a[1], a[2])); return o.sum() + h.sum() * 0.5 + (c * c).sum() },
                          inputs: [x, h0, c0]).passed)
        #expect(gradcheck({ a in gru(a[0]) }, inputs: [x.transpose(0, 1)]).passed)
    }

    @Test func dropoutBetweenLayersOnlyInTraining() {
        let lstm = LSTM(3, 4, numLayers: 2, dropout: 0.5)
        let x = Tensor.randn([5, 2, 3])
        lstm.eval()
        #expect(allClose(lstm(x), lstm(x)).ok)
        lstm.train()
        #expect(!allClose(lstm(x), lstm(x)).ok)
        #expect(lstm(x).shape == [5, 2, 4])
    }

    @Test func wrongInputShapeNamesTheLayer() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = LSTM(4, 3)(Tensor.zeros([5, 2, 7]))
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("LSTM") && text.contains("[5, 2, 7]") && text.contains("4"), "stderr: \(text)")
    }

    @Test func shapesAndDefaults() {
        let rnn = RNN(3, 4, numLayers: 3, batchFirst: true, bidirectional: true)
        let (out, h) = rnn(Tensor.randn([2, 7, 3]), nil)
        #expect(out.shape == [2, 7, 8] && h.shape == [6, 2, 4])
        let lstm = LSTM(3, 4)
        let (o, (hn, cn)) = lstm(Tensor.randn([6, 3]), nil)
        #expect(o.shape == [6, 4] && hn.shape == [1, 4] && cn.shape == [1, 4])
        #expect(allClose(o[5], hn[0]).ok)
    }
}
