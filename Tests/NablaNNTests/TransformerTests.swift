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

    @Test func encoderLayerPassesGradcheck() {
        let layer = TransformerEncoderLayer(dModel: 4, nhead: 2, dimFeedforward: 6, dropout: 0, batchFirst: true, dtype: .float64)
        let x = Tensor.randn([1, 3, 4], dtype: .float64)
        #expect(gradcheck({ a in layer(a[0], isCausal: true) }, inputs: [x]).passed)
    }
}
