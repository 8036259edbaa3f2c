import Testing
import NablaNN
import NablaTestSupport

@Suite struct TransformerTests {
    @Test func encoderLayersMatchPyTorch() {
        let f = ModuleFixture("transformer", "encoder_layer_relu")
        let layer = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dtype: .float64).eval()
        f.load(into: layer)
        let x = f.dataInputs()
        f.verify([layer(x[0], srcKeyPaddingMask: x[1])], inputs: x, module: layer)

        let g = ModuleFixture("transformer", "encoder_layer_gelu_norm_first_batch_first")
        let pre = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, activation: .gelu, batchFirst: true,
                                          normFirst: true, dtype: .float64).eval()
        g.load(into: pre)
        let y = g.dataInputs()
        g.verify([pre(y[0], srcMask: y[1])], inputs: y, module: pre)
    }

    @Test func encoderStackMatchesPyTorch() {
        let f = ModuleFixture("transformer", "encoder_stack_norm")
        let enc = TransformerEncoder(TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, batchFirst: true, dtype: .float64),
                                     numLayers: 2, norm: LayerNorm(8, dtype: .float64)).eval()
        f.load(into: enc)
        let x = f.dataInputs()
        f.verify([enc(x[0])], inputs: x, module: enc)
    }

    @Test func decoderLayersMatchPyTorch() {
        let f = ModuleFixture("transformer", "decoder_layer")
        let layer = TransformerDecoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dtype: .float64).eval()
        f.load(into: layer)
        let x = f.dataInputs()
        f.verify([layer(x[0], memory: x[1], tgtMask: x[2], memoryKeyPaddingMask: x[3])], inputs: x, module: layer)

        let g = ModuleFixture("transformer", "decoder_layer_norm_first_gelu_batch_first")
        let pre = TransformerDecoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, activation: .gelu, batchFirst: true,
                                          normFirst: true, dtype: .float64).eval()
        g.load(into: pre)
        let y = g.dataInputs()
        g.verify([pre(y[0], memory: y[1])], inputs: y, module: pre)

        let h = ModuleFixture("transformer", "decoder_stack")
        let dec = TransformerDecoder(TransformerDecoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dtype: .float64),
                                     numLayers: 2, norm: LayerNorm(8, dtype: .float64)).eval()
        h.load(into: dec)
        let z = h.dataInputs()
        h.verify([dec(z[0], memory: z[1])], inputs: z, module: dec)
    }

    @Test func stackCopiesHaveTheirOwnParameters() {
        let layer = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16)
        let enc = TransformerEncoder(layer, numLayers: 3)
        let names = enc.namedParameters().map(\.0)
        #expect(names.count == 3 * layer.parameters().count)
        #expect(names.prefix(4) == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                                    "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias"])
        #expect(layer.namedParameters().map(\.0) == [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ])
        let p0 = enc.layers[0].linear1.weight, p1 = enc.layers[1].linear1.weight
        #expect(p0 !== p1 && p0 !== layer.linear1.weight)
        #expect(allClose(p0, p1).ok)
        noGrad { _ = p0.add_(Tensor.ones(p0.shape)) }
        #expect(!allClose(p0, p1).ok)
        let dec = TransformerDecoderLayer(dModel: 8, nhead: 2)
        #expect(dec.namedChildren().map(\.0) == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2",
                                                 "norm1", "norm2", "norm3", "dropout1", "dropout2", "dropout3"])
    }

    /// The fused eager path (residual sums in the projections' GEMMs, ReLU over linear1's output) against the
    /// composite path, which a no-op hook on each Linear forces: same values and gradients, in both norm orders and
    /// layouts, for encoder and decoder blocks.
    @Test(arguments: [(false, false), (true, true), (false, true), (true, false)])
    func fusedBlocksEqualTheComposite(_ normFirst: Bool, _ batchFirst: Bool) {
        func hooked(_ m: Module) { for l in m.modules() where l is Linear { _ = l.registerForwardHook { _, _, _ in nil } } }
        func check(_ fused: Module, _ plain: Module, _ run: (Module, Tensor) -> Tensor) {
            hooked(plain)
            let x = Tensor.randn(batchFirst ? [2, 5, 8] : [5, 2, 8], dtype: .float64)
            let xa = x.detached().requiresGrad_(), xb = x.detached().requiresGrad_()
            let ya = run(fused, xa), yb = run(plain, xb)
            #expect(allClose(ya, yb, rtol: 1e-10, atol: 1e-12).ok)
            let up = Tensor.randn(ya.shape, dtype: .float64)
            (ya * up).sum().backward()
            (yb * up).sum().backward()
            #expect(allClose(xa.grad!, xb.grad!, rtol: 1e-10, atol: 1e-12).ok)
            for ((name, p), (_, q)) in zip(fused.namedParameters(), plain.namedParameters()) {
                #expect(allClose(p.grad!, q.grad!, rtol: 1e-10, atol: 1e-12).ok, "\(name)")
            }
        }
        let enc = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0, batchFirst: batchFirst,
                                          normFirst: normFirst, dtype: .float64)
        check(enc, enc.copy()) { m, x in (m as! TransformerEncoderLayer)(x) }
        let dec = TransformerDecoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0, batchFirst: batchFirst,
                                          normFirst: normFirst, dtype: .float64)
        let memory = Tensor.randn(batchFirst ? [2, 3, 8] : [3, 2, 8], dtype: .float64)
        check(dec, dec.copy()) { m, x in (m as! TransformerDecoderLayer)(x, memory: memory, tgtIsCausal: true) }
    }

    /// With dropout active in training mode the blocks keep the composite path (the fused ops hold no dropout).
    @Test func trainingDropoutKeepsTheCompositePath() {
        let layer = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0.5, batchFirst: true)
        var calls = 0
        _ = layer.linear1.registerForwardHook { _, _, _ in calls += 1; return nil }
        _ = layer(Tensor.randn([2, 3, 8]))
        #expect(calls == 1)
        let zero = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0, batchFirst: true)
        let y = zero(Tensor.randn([2, 3, 8]))
        #expect(y.shape == [2, 3, 8])
    }

    @Test func encoderLayerPassesGradcheck() {
        let layer = TransformerEncoderLayer(dModel: 4, nhead: 2, dimFeedforward: 6, dropout: 0, batchFirst: true, dtype: .float64)
        let x = Tensor.randn([1, 3, 4], dtype: .float64)
        #expect(gradcheck({ a in layer(a[0], isCausal: true) }, inputs: [x]).passed)
    }
}
