import Testing
import NablaNN
import NablaTestSupport

/// Normalisation, dropout, embedding, bilinear and activation layers: parameters, buffers and their
/// PyTorch names, train/eval behaviour, running statistics against PyTorch, printing.
@Suite struct NormLayerTests {
    static let fixture = loadFixture("norm")

    @Test func layerNormTakesAnIntOrAShape() {
        let a = LayerNorm(256), b = LayerNorm([4, 8], elementwiseAffine: false)
        #expect(a.namedParameters().map(\.0) == ["weight", "bias"])
        #expect(a(Tensor.randn([2, 3, 256])).shape == [2, 3, 256])
        #expect(b.parameters().isEmpty && b(Tensor.randn([5, 4, 8])).shape == [5, 4, 8])
        #expect(LayerNorm(16, bias: false).namedParameters().map(\.0) == ["weight"])
        #expect(a.description == "LayerNorm((256,), eps=1e-05, elementwise_affine=True)")
        let y = a(Tensor.randn([10, 256]) * 4 + 2)
        #expect(y.mean(dims: [1]).abs().max().item() < 1e-4)
    }

    @Test func batchNormBuffersHavePyTorchNames() {
        let bn = BatchNorm2d(16)
        #expect(bn.namedParameters().map(\.0) == ["weight", "bias"])
        #expect(bn.namedBuffers().map(\.0) == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(bn.numBatchesTracked!.dtype == .int64 && bn.numBatchesTracked!.shape == [])
        #expect(bn.description == "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)")
        let plain = BatchNorm1d(4, momentum: nil, affine: false, trackRunningStats: false)
        #expect(plain.namedParameters().isEmpty && plain.namedBuffers().isEmpty)
        #expect(plain.description == "BatchNorm1d(4, eps=1e-05, momentum=None, affine=False, track_running_stats=False)")
        let net = Sequential(Linear(3, 4), BatchNorm1d(4))
        #expect(net.namedBuffers().map(\.0) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
    }

    @Test func batchNormTrainingStepMatchesPyTorch() {
        let c = Self.fixture["batch_norm_train_2d"]
        let bn = BatchNorm2d(3, dtype: .float64)
        noGrad {
            bn.weight!.copy_(c.inputs[1].tensor); bn.bias!.copy_(c.inputs[2].tensor)
            bn.runningMean!.copy_(Tensor([0.1, -0.2, 0.3], dtype: .float64))
            bn.runningVar!.copy_(Tensor([1.0, 0.5, 2.0], dtype: .float64))
        }
        let y = bn(c.inputs[0].tensor)
        for (got, want) in [(y, c.outputs[0]), (bn.runningMean!, c.outputs[1]), (bn.runningVar!, c.outputs[2])] {
            let r = allClose(got, want.tensor, rtol: 1e-7, atol: 1e-9)
            #expect(r.ok, "\(r.failure)")
        }
        #expect(bn.numBatchesTracked!.item() == 1)
        // Eval mode: uses the running statistics and leaves them alone.
        bn.eval()
        let before = bn.runningMean!.toDoubleArray()
        let x = c.inputs[0].tensor
        let expected = (x - bn.runningMean!.reshape([1, 3, 1, 1])) / (bn.runningVar!.reshape([1, 3, 1, 1]) + 1e-5).sqrt()
            * bn.weight!.reshape([1, 3, 1, 1]) + bn.bias!.reshape([1, 3, 1, 1])
        let r = allClose(bn(x), expected, rtol: 1e-7, atol: 1e-9)
        #expect(r.ok, "\(r.failure)")
        #expect(bn.runningMean!.toDoubleArray() == before && bn.numBatchesTracked!.item() == 1)
    }

    @Test func cumulativeMomentumMatchesPyTorch() {
        let c = Self.fixture["batch_norm_module_cumulative"]
        let bn = BatchNorm1d(3, momentum: nil, dtype: .float64)
        _ = bn(c.inputs[0].tensor)
        let y = bn(c.inputs[1].tensor)
        bn.eval()
        let z = bn(c.inputs[0].tensor)
        for (got, want) in [(y, c.outputs[0]), (bn.runningMean!, c.outputs[1]), (bn.runningVar!, c.outputs[2]), (z, c.outputs[3])] {
            let r = allClose(got, want.tensor, rtol: 1e-7, atol: 1e-9)
            #expect(r.ok, "\(r.failure)")
        }
        bn.resetRunningStats()
        #expect(bn.runningVar!.toDoubleArray() == [1, 1, 1] && bn.numBatchesTracked!.item() == 0)
    }

    @Test func groupNormLayer() {
        let gn = GroupNorm(2, 6)
        #expect(gn(Tensor.randn([3, 6, 4])).shape == [3, 6, 4])
        #expect(gn.description == "GroupNorm(2, 6, eps=1e-05, affine=True)")
        #expect(gn.namedParameters().map(\.0) == ["weight", "bias"])
    }

    @Test func dropoutRespectsTraining() {
        let drop = Dropout(p: 0.5, generator: Generator(seed: 3))
        let x = Tensor.ones([50, 50])
        let y = drop(x)
        #expect(y.toDoubleArray().contains(0) && y.toDoubleArray().contains(2))
        drop.eval()
        #expect(drop(x) === x)
        #expect(Dropout(p: 0.1).description == "Dropout(p=0.1, inplace=False)")
        let d2 = Dropout2d(p: 0.25)
        #expect(d2(Tensor.ones([2, 3, 4, 4])).shape == [2, 3, 4, 4])
        #expect(d2.description == "Dropout2d(p=0.25, inplace=False)")
    }

    @Test func embeddingLayer() {
        let emb = Embedding(10, 4, paddingIdx: -1)
        #expect(emb.paddingIdx == 9 && emb.weight[9].toDoubleArray() == [0, 0, 0, 0])
        #expect(emb(Tensor([[1, 2, 9]])).shape == [1, 3, 4])
        #expect(emb.description == "Embedding(10, 4, padding_idx=9)")
        let big = Embedding(200, 50)
        #expect(abs(big.weight.mean().item()) < 0.05 && abs(big.weight.std().item() - 1) < 0.05)
        let frozen = Embedding(pretrained: Tensor.eye(3))
        #expect(!frozen.weight.requiresGrad && frozen(Tensor([2])).toDoubleArray() == [0, 0, 1])
    }

    @Test func bilinearLayer() {
        let bl = Bilinear(5, 4, 3)
        #expect(bl(Tensor.randn([7, 5]), Tensor.randn([7, 4])).shape == [7, 3])
        #expect(bl.namedParameters().map(\.0) == ["weight", "bias"])
        #expect(bl.description == "Bilinear(in1_features=5, in2_features=4, out_features=3, bias=True)")
    }

    @Test func activationLayers() {
        let x = Tensor([-2.0, -0.5, 0.5, 3.0])
        #expect(allClose(LeakyReLU(negativeSlope: 0.1)(x), Tensor([-0.2, -0.05, 0.5, 3.0])).ok)
        #expect(allClose(ELU()(x), x.elu()).ok && allClose(SiLU()(x), x.silu()).ok)
        #expect(allClose(GELU(approximate: "tanh")(x), x.gelu(approximate: .tanh)).ok)
        #expect(allClose(Softplus(beta: 2)(x), x.softplus(beta: 2)).ok)
        let m = Tensor.randn([2, 5])
        #expect(allClose(Softmax(dim: 1)(m), m.softmax(dim: 1)).ok && allClose(LogSoftmax(dim: -1)(m), m.logSoftmax(dim: -1)).ok)
        #expect(Unflatten(dim: 1, sizes: [2, -1])(Tensor.zeros([3, 10])).shape == [3, 2, 5])
        let descriptions = [LeakyReLU().description, ELU().description, GELU().description, SiLU().description,
                            Softmax(dim: 1).description, LogSoftmax(dim: 1).description, Softplus().description,
                            Unflatten(dim: 1, sizes: [2, 5]).description]
        #expect(descriptions == ["LeakyReLU(negative_slope=0.01)", "ELU(alpha=1.0)", "GELU(approximate='none')", "SiLU()",
                                 "Softmax(dim=1)", "LogSoftmax(dim=1)", "Softplus(beta=1.0, threshold=20.0)",
                                 "Unflatten(dim=1, unflattened_size=(2, 5))"])
    }
}
