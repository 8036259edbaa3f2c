// The seed articles' PyTorch examples, ported line by line as a PyTorch user writes them, each checked against
// PyTorch's numbers (Tests/Fixtures/ported.json, from Scripts/fixtures/ported.py) from the same data and weights.
import Testing
import NablaNN
import NablaOptim
import NablaData
import NablaTestSupport

private let fixtures = loadFixture("ported")

/// `expected` within `rtol` (float32 training: rounding order differs from PyTorch's).
private func close(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-4, atol: Double = 1e-5,
                   _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let r = allClose(actual.float(), expected.float(), rtol: rtol, atol: atol)
    #expect(r.ok, "\(what): \(r.failure)", sourceLocation: sourceLocation)
}

/// Article 004's model: the weights as parameters, `x @ w + b`.
final class LinearRegressionPyTorch: Module {
    var w: Tensor
    var b: Tensor
    init(w: Tensor, b: Tensor) {
        self.w = Parameter(w.clone())      // torch.nn.Parameter(torch.Tensor(1, 1).uniform_(-0.1, 0.1))
        self.b = Parameter(b.clone())
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { matmul(x, w) + b }
}

/// Article 004, second model: `self.linear = torch.nn.Linear(1, 1)`.
final class LinearRegressionLayer: Module {
    let linear = Linear(1, 1)
    override func forward(_ x: Tensor) -> Tensor { linear(x) }
}

@Suite struct TorchExamplesTests {
    /// Article 004: raw autograd, the update by hand under no_grad, `w.grad.zero_()`; loss per epoch as PyTorch's.
    @Test func linearRegressionWithRawAutograd() {
        let c = fixtures["linear_regression_autograd"]
        let (x, y) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let model = LinearRegressionPyTorch(w: c.inputs[2].tensor, b: c.inputs[3].tensor)
        let params = model.parameters()
        let (w, b) = (params[0], params[1])                       // [w, b] = torch_model.parameters()
        let learningRate = 0.01
        var losses: [Double] = []
        for _ in 0..<60 {
            let yPred = model(x)
            let loss = (yPred - y).pow(2).mean()                   // torch.mean(torch.square(y_pred - labels))
            loss.backward()
            noGrad {
                w -= w.grad! * learningRate
                b -= b.grad! * learningRate
                w.grad!.zero_()
                b.grad!.zero_()
            }
            losses.append(loss.item())
        }
        close(Tensor(losses).float(), c.outputs[0].tensor, "losses")
        close(w, c.outputs[1].tensor, "w")
        close(b, c.outputs[2].tensor, "b")
        #expect(abs(w.item() - 0.1) < 0.02 && abs(b.item() - 0.3) < 0.2)
    }

    /// Article 004: `nn.Linear`, `nn.MSELoss(reduction='mean')`, `optim.SGD`; 180 epochs as PyTorch.
    @Test func linearRegressionWithLayerLossAndOptimizer() throws {
        let c = fixtures["linear_regression_module"]
        let (x, y) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let model = LinearRegressionLayer()
        try model.loadStateDict(StateDict([("linear.weight", c.inputs[2].tensor), ("linear.bias", c.inputs[3].tensor)]), strict: true)
        let criterion = MSELoss(reduction: .mean)
        let optimizer = SGD(model.parameters(), lr: 0.01)
        var losses: [Double] = []
        for _ in 0..<180 {
            let yPred = model(x)
            let loss = criterion(yPred, y)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        }
        close(Tensor(losses).float(), c.outputs[0].tensor, "losses")
        close(model.linear.weight, c.outputs[1].tensor, "weight")
        close(model.linear.bias!, c.outputs[2].tensor, "bias")
    }

    /// Article 002: `w.data -= 0.01 * w.grad.data; w.grad.data.zero_()`.
    @Test func updateThroughDotData() {
        let c = fixtures["tensor_data_update"]
        let (x, y) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let w = c.inputs[2].tensor.clone().requiresGrad_()
        #expect(w.grad == nil)                                      // print(w.grad)  # None
        var losses: [Double] = []
        for _ in 0..<10 {
            let loss = (y - x.matmul(w)).pow(2).mean()              // torch.mean((y - x @ w) ** 2)
            loss.backward()
            w.data -= 0.01 * w.grad!.data
            w.grad!.data.zero_()
            losses.append(loss.item())
        }
        close(Tensor(losses).float(), c.outputs[0].tensor, "losses")
        close(w, c.outputs[1].tensor, "w")
        #expect(w.isLeaf && w.requiresGrad)
    }

    /// Article 002: two sigmoid layers trained with `optim.SGD([w1, w2], lr=0.1)` and `nn.MSELoss()`.
    @Test func twoLayersWithOptimizerOverTensors() {
        let c = fixtures["two_layer_sgd"]
        let (x, y) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let w1 = c.inputs[2].tensor.clone().requiresGrad_(), w2 = c.inputs[3].tensor.clone().requiresGrad_()
        let lossFn = MSELoss()
        let optimizer = SGD([w1, w2], lr: 0.1)
        var losses: [Double] = []
        for _ in 0..<5 {
            var pred = sigmoid(x.matmul(w1))
            pred = sigmoid(pred.matmul(w2))
            let loss = lossFn(pred, y)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        }
        close(Tensor(losses).float(), c.outputs[0].tensor, "losses")
        close(w1, c.outputs[1].tensor, "w1")
        close(w2, c.outputs[2].tensor, "w2")
    }

    /// Article 002: a model whose feature extractor is a Sequential of `Conv2d(3, 12, kernel_size=3, padding=1,
    /// stride=1)`-style layers, keyword order as PyTorch's.
    @Test func featureExtractorInPyTorchArgumentOrder() throws {
        final class Model: Module {
            let featureExtractor = Sequential(
                Conv2d(3, 12, kernelSize: 3, padding: 1, stride: 1),
                Conv2d(12, 24, kernelSize: 3, padding: 1, stride: 1))
            let secondExtractor = Conv2d(24, 36, kernelSize: 3, padding: 1, stride: 1)
            override func forward(_ x: Tensor) -> Tensor {
                var x = featureExtractor(x)
                x = secondExtractor(x)
                return x
            }
        }
        let c = fixtures["feature_extractor"]
        let model = Model()
        // Swift's camelCase properties get PyTorch's snake_case names, so a PyTorch state_dict loads as it is.
        let names = ["feature_extractor.0.weight", "feature_extractor.0.bias", "feature_extractor.1.weight",
                     "feature_extractor.1.bias", "second_extractor.weight", "second_extractor.bias"]
        #expect(model.namedParameters().map(\.0) == names)
        try model.loadStateDict(StateDict(zip(names, c.inputs.dropFirst().map(\.tensor)).map { ($0, $1) }), strict: true)
        let out = model(c.inputs[0].tensor)
        #expect(out.size() == [1, 36, 5, 5])
        close(out, c.outputs[0].tensor, "output")
        var count = 0
        for layer in model.featureExtractor { count += (layer as? Conv2d).map { _ in 1 } ?? 0 }   // for layer in seq
        #expect(count == 2)
    }

    /// Article 002: `nn.Sequential(OrderedDict([('conv1', nn.Conv2d(1, 20, 5)), ('relu1', nn.ReLU()), ...]))`,
    /// printed with its layer names.
    @Test func namedSequential() throws {
        let model = Sequential([
            "conv1": Conv2d(1, 6, 5),
            "relu1": ReLU(),
            "conv2": Conv2d(6, 16, 5),
            "relu2": ReLU(),
        ])
        let c = fixtures["named_sequential"]
        let keys = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]
        try model.loadStateDict(StateDict(zip(keys, c.inputs.dropFirst().map(\.tensor)).map { ($0, $1) }), strict: true)
        close(model(c.inputs[0].tensor), c.outputs[0].tensor, "output")
        let text = "\(model)"
        #expect(text.contains("(conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))") && text.contains("(relu2): ReLU()"), "\(text)")
    }

    /// Article 003: the usual loop, `for x, y in loader`, over a TensorDataset; loss per step as PyTorch's.
    @Test func dataLoaderLoop() throws {
        let c = fixtures["dataloader_loop"]
        let (xs, ys) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let model = Sequential(Linear(6, 16), ReLU(), Linear(16, 3))
        try model.loadStateDict(StateDict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], c.inputs[2...].map(\.tensor)).map { ($0, $1) }),
                                strict: true)
        let optimizer = Adam(model.parameters(), lr: 0.01)
        let loader = DataLoader(TensorDataset(xs, ys), batchSize: 8)
        var losses: [Double] = []
        for _ in 0..<2 {
            for (x, y) in loader {
                optimizer.zeroGrad()
                let loss = crossEntropy(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            }
        }
        close(Tensor(losses).float(), c.outputs[0].tensor, "losses")
    }

    /// Article 000: `y = A(x); z = B(y.detach()); z.backward()`: only B gets gradients, PyTorch's.
    @Test func detachBetweenTwoNetworks() throws {
        let c = fixtures["detach_two_networks"]
        let A = Linear(4, 3), B = Linear(3, 2)
        try A.loadStateDict(StateDict([("weight", c.inputs[1].tensor), ("bias", c.inputs[2].tensor)]), strict: true)
        try B.loadStateDict(StateDict([("weight", c.inputs[3].tensor), ("bias", c.inputs[4].tensor)]), strict: true)
        let y = A(c.inputs[0].tensor)
        let z = B(y.detach())
        z.sum().backward()
        #expect(A.weight.grad == nil && A.bias!.grad == nil)
        close(B.weight.grad!, c.outputs[0].tensor, "B.weight.grad")
        close(B.bias!.grad!, c.outputs[1].tensor, "B.bias.grad")
    }

    /// Article 000: finetuning with a smaller learning rate for the pretrained layers than for the new head.
    @Test func finetuneWithPerLayerLearningRates() throws {
        let c = fixtures["finetune_param_groups"]
        let data = fixtures["dataloader_loop"]
        let (xs, ys) = (data.inputs[0].tensor, data.inputs[1].tensor)
        let backbone = Linear(6, 8), head = Linear(8, 3)
        try backbone.loadStateDict(StateDict([("weight", c.inputs[0].tensor), ("bias", c.inputs[1].tensor)]), strict: true)
        try head.loadStateDict(StateDict([("weight", c.inputs[2].tensor), ("bias", c.inputs[3].tensor)]), strict: true)
        let optimizer = SGD(groups: [ParamGroup(params: backbone.parameters(), lr: 1e-3), ParamGroup(params: head.parameters())],
                            lr: 1e-2, momentum: 0.9)
        var losses: [Double] = []
        for _ in 0..<5 {
            optimizer.zeroGrad()
            let loss = crossEntropy(head(relu(backbone(xs))), ys)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        }
        close(Tensor(losses).float(), c.outputs[0].tensor, "losses")
        #expect(optimizer.paramGroups.map(\.lr) == [1e-3, 1e-2])
    }

    /// Article 002: the shorthands of its tensor examples (`torch.randn(10, 20)`, `x @ y`, `.shape`, `.float()`),
    /// and a CIFAR-style transform on the input of each sample.
    @Test(.seeded(0)) func tensorShorthandsAndTransforms() {
        let x = Tensor.randn(10, 20)
        let y = Tensor.ones(20, 5)
        let res = x.matmul(y)
        #expect(res.shape == [10, 5] && res.size(1) == 5 && res.T.shape == [5, 10])
        let rows: [[Float]] = res.toArray()
        #expect(rows.count == 10 && abs(Double(rows[3][0]) - x[3].sum().item()) < 1e-4)
        let images = Tensor.rand(6, 3, 8, 8), labels = Tensor.arange(6)
        let train = TensorDataset(images, labels).map(input: Compose(RandomCrop(8, padding: 2), RandomHorizontalFlip()))
        let (train8, val8) = randomSplit(train, lengths: [4, 2], generator: Generator(seed: 1))
        var seen = 0
        for (xb, yb) in DataLoader(train8, batchSize: 2, shuffle: true, generator: Generator(seed: 2)) {
            #expect(xb.shape == [2, 3, 8, 8] && yb.dtype == .int64)
            seen += xb.size(0)
        }
        #expect(seen == 4 && val8.count == 2)
        #expect(cat([labels.float(), labels.float()], 0).shape == [12] && images.flatten(1).shape == [6, 192])
    }

    /// docs/usage.md: dual numbers (`fwAD.make_dual`, `unpack_dual(...).tangent`) and forward hooks.
    @Test func dualNumbersAndForwardHooks() {
        let dy = dualLevel { () -> Tensor in
            let x = Tensor([1.0, 2, 3]).makeDual(tangent: Tensor([1.0, 1, 1]))
            let y = x * x + x.sin()
            return y.forwardGrad!
        }
        let x0 = Tensor([1.0, 2, 3])
        close(dy, x0 * 2 + x0.cos(), "2x + cos x")

        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
        var shapes: [[Int]] = []
        let handle = model[0].registerForwardHook { _, _, output in shapes.append(output.shape); return nil }
        _ = model(Tensor.randn(3, 4))
        handle.remove()
        _ = model(Tensor.randn(3, 4))
        #expect(shapes == [[3, 8]])
        let doubled = model.registerForwardHook { _, _, output in output * 2 }
        let x = Tensor.randn(2, 4)
        let y2 = model(x)
        doubled.remove()
        close(y2, model(x) * 2, "hook replaces the output")
    }

    /// The README's porting snippet, verbatim, with its numbers checked.
    @Test func readmePortingSnippet() {
        let x = Tensor.randn(64, 20), y = Tensor.randn(64, 5)     // torch.randn(64, 20)
        let w = Tensor.randn(20, 5, requiresGrad: true)
        (y - x.matmul(w)).pow(2).mean().backward()
        w.data -= 0.01 * w.grad!.data                             // also .float() .long() .T .size() .flatten(1) cat(xs, 1)
        let rows: [[Float]] = w.T.toArray()                       // x.tolist()

        let conv = Conv2d(3, 12, kernelSize: 3, padding: 1, stride: 1)     // PyTorch's keyword order; Conv2d(1, 20, 5) too
        let net = Sequential(["conv1": Conv2d(1, 20, 5), "relu1": ReLU()]) // nn.Sequential(OrderedDict(...))
        for layer in net { _ = layer }                                      // ModuleList, Sequential, ModuleDict iterate
        let hook = net.registerForwardHook { module, input, output in nil } // return a tensor to replace the output
        for (xb, yb) in DataLoader(TensorDataset(x, y), batchSize: 8) { _ = (xb, yb) }   // [Tensor] batches for 1 or 3+ tensors
        let (train, val) = randomSplit(TensorDataset(x, y), [48, 16])
        let (t0, d0) = dualLevel { () -> (Tensor, Tensor) in               // fwAD.make_dual / unpack_dual
            let d = x.makeDual(tangent: Tensor.onesLike(x)); let out = d.sin(); return (out, out.forwardGrad!) }

        #expect(rows.count == 5 && rows[0].count == 20 && conv.stride == [1, 1] && train.count == 48 && val.count == 16)
        #expect(net(Tensor.randn(1, 1, 6, 6)).shape == [1, 20, 2, 2])
        hook.remove()
        close(t0, x.sin(), "sin")
        close(d0, x.cos(), "d sin = cos")
    }
}
