import Testing
import NablaNN
import NablaTestSupport

@Suite struct AttentionTests {
    private func run(_ name: String, _ mha: MultiheadAttention, kind: Int) {
        let f = ModuleFixture("attention", name)
        f.load(into: mha)
        let x = f.dataInputs()
        let out: (Tensor, Tensor?)
        switch kind {
        case 1: out = mha(x[0], x[1], x[2], keyPaddingMask: x[3], attnMask: x[4])
        case 2: out = mha(x[0], x[1], x[2], attnMask: x[3], averageAttnWeights: false)
        case 3: out = mha(x[0], x[1], x[2], attnMask: x[3], isCausal: true)
        case 4: out = mha(x[0], x[1], x[2], attnMask: x[3])
        default: out = mha(x[0], x[1], x[2])
        }
        f.verify([out.0, out.1!], inputs: x, module: mha)
    }

    @Test func multiheadAttentionMatchesPyTorch() {
        run("mha_seq_first", MultiheadAttention(embedDim: 8, numHeads: 2, dtype: .float64), kind: 0)
        run("mha_batch_first_bool_masks", MultiheadAttention(embedDim: 8, numHeads: 2, batchFirst: true, dtype: .float64), kind: 1)
        run("mha_float_mask_per_head", MultiheadAttention(embedDim: 8, numHeads: 2, dtype: .float64), kind: 2)
        run("mha_kdim_vdim", MultiheadAttention(embedDim: 8, numHeads: 2, kdim: 6, vdim: 4, batchFirst: true, dtype: .float64), kind: 0)
        run("mha_causal", MultiheadAttention(embedDim: 8, numHeads: 2, batchFirst: true, dtype: .float64), kind: 3)
        run("mha_3d_bool_mask", MultiheadAttention(embedDim: 8, numHeads: 2, dtype: .float64), kind: 4)
        run("mha_unbatched_no_bias", MultiheadAttention(embedDim: 8, numHeads: 2, bias: false, dtype: .float64), kind: 0)
    }

    @Test func scaledDotProductAttentionMatchesPyTorch() {
        let file = loadFixture("attention")
        for name in ["sdpa_plain", "sdpa_causal_scale", "sdpa_bool_mask", "sdpa_float_mask"] {
            let c = file[name]
            let x = c.inputs.map { f -> Tensor in let t = f.tensor; return t.dtype.isFloatingPoint ? t.requiresGrad_() : t }
            let y: Tensor
            switch name {
            case "sdpa_causal_scale": y = scaledDotProductAttention(x[0], x[1], x[2], isCausal: true, scale: 0.3)
            case "sdpa_bool_mask", "sdpa_float_mask": y = scaledDotProductAttention(x[0], x[1], x[2], attnMask: x[3])
            default: y = scaledDotProductAttention(x[0], x[1], x[2])
            }
            #expect(allClose(y, c.outputs[0].tensor).ok, "\(name): \(allClose(y, c.outputs[0].tensor).failure)")
            let wrt = x.filter { $0.dtype.isFloatingPoint }
            let gs = gradients(of: [(y * c.upstream!.tensor).sum()], wrt: wrt)
            for (g, e) in zip(gs, c.grads!) { #expect(allClose(g!, e.tensor).ok, "\(name): \(allClose(g!, e.tensor).failure)") }
        }
    }

    @Test func attentionPassesGradcheck() {
        let mha = MultiheadAttention(embedDim: 4, numHeads: 2, batchFirst: true, dtype: .float64)
        let q = Tensor.randn([1, 3, 4], dtype: .float64), kv = Tensor.randn([1, 2, 4], dtype: .float64)
        let kpm = Tensor([[false, true]])
        #expect(gradcheck({ a in mha(a[0], a[1], a[1], needWeights: false).0 }, inputs: [q, kv]).passed)
        #expect(gradcheck({ a in mha(a[0], a[1], a[1], keyPaddingMask: kpm).1! }, inputs: [q, Tensor.randn([1, 2, 4], dtype: .float64)]).passed)
        let k = Tensor.randn([2, 3, 2], dtype: .float64)
        #expect(gradcheck({ a in scaledDotProductAttention(a[0], a[1], a[2], isCausal: true) },
                          inputs: [Tensor.randn([2, 3, 2], dtype: .float64), k, k.transpose(0, 1).contiguous().transpose(0, 1)]).passed)
    }

    @Test func parameterNamesShapesAndInit() {
        let mha = MultiheadAttention(embedDim: 8, numHeads: 2)
        #expect(mha.namedParameters().map(\.0) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        #expect(mha.namedParameters().map(\.1.shape) == [[24, 8], [24], [8, 8], [8]])
        #expect(mha.inProjBias!.abs().sum().item() == 0 && mha.outProj.bias!.abs().sum().item() == 0)
        let kv = MultiheadAttention(embedDim: 8, numHeads: 2, kdim: 3, vdim: 5)
        #expect(kv.namedParameters().map(\.0) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
    }

    @Test func weightsShapesAndDropout() {
        let mha = MultiheadAttention(embedDim: 8, numHeads: 4, dropout: 0.5, batchFirst: true)
        let x = Tensor.randn([2, 5, 8])
        mha.eval()
        let (y, w) = mha(x, x, x, averageAttnWeights: false)
        #expect(y.shape == [2, 5, 8] && w!.shape == [2, 4, 5, 5])
        #expect(allClose(w!.sum(dim: -1), Tensor.ones([2, 4, 5])).ok)
        #expect(allClose(mha(x), y).ok)
        mha.train()
        #expect(!allClose(mha(x), y).ok)
    }
}
