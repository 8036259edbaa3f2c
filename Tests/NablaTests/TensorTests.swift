import Testing
import Nabla
import NablaTestSupport

/// Creation, dtypes, casts, printing, random numbers, views and the version counter.
@Suite struct TensorTests {
    // MARK: creation

    @Test func literalsInferPyTorchDTypes() {
        let a = Tensor([[1, 2], [3, 4]])
        #expect(a.dtype == .int64 && a.shape == [2, 2])
        #expect(a.toIntArray() == [1, 2, 3, 4])
        let f = Tensor([1.5])
        #expect(f.dtype == .float32 && f.shape == [1])
        #expect(Tensor([true, false]).dtype == .bool)
        #expect(Tensor([[[1.0]]]).shape == [1, 1, 1])
        #expect(Tensor([1, 2], dtype: .float64).dtype == .float64)
        let s = Tensor.scalar(3.5)
        #expect(s.shape == [] && s.rank == 0 && s.count == 1 && s.item() == 3.5)
    }

    @Test func shapeAndData() {
        let t = Tensor(shape: [2, 3], data: [Float](arrayLiteral: 1, 2, 3, 4, 5, 6))
        #expect(t.dtype == .float32 && t.shape == [2, 3] && t.strides == [3, 1] && t.isContiguous)
        #expect(t.size(-1) == 3 && t.stride(0) == 3 && t.dim() == 2 && t.numel() == 6)
        let d = Tensor(shape: [3], data: [1.0, 2.0, 3.0])
        #expect(d.dtype == .float64)
        let i = Tensor(shape: [2], data: [Int64(7), 8])
        #expect(i.dtype == .int64 && i.toIntArray() == [7, 8])
        let c = Tensor(shape: [2], data: [1.7, -1.7], dtype: .int32)
        #expect(c.dtype == .int32 && c.toIntArray() == [1, -1])
        let g = Tensor(shape: [1], data: [2.0], requiresGrad: true)
        #expect(g.requiresGrad)
    }

    @Test func factories() {
        #expect(Tensor.zeros([2, 3]).toDoubleArray() == Array(repeating: 0, count: 6))
        #expect(Tensor.ones([2], dtype: .int64).toIntArray() == [1, 1])
        #expect(Tensor.full([2], 7.5).toDoubleArray() == [7.5, 7.5])
        #expect(zeros([1]).dtype == .float32 && ones([1]).item() == 1)
        let a = Tensor.arange(5)
        #expect(a.dtype == .int64 && a.toIntArray() == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(2, 10, step: 3).toIntArray() == [2, 5, 8])
        let af = Tensor.arange(0, 1, step: 0.25)
        #expect(af.dtype == .float32 && af.toDoubleArray() == [0, 0.25, 0.5, 0.75])
        #expect(Tensor.arange(0).shape == [0])
        let l = Tensor.linspace(0, 1, steps: 5)
        #expect(l.toDoubleArray() == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.linspace(3, 3, steps: 1).toDoubleArray() == [3])
        #expect(Tensor.eye(2).toDoubleArray() == [1, 0, 0, 1])
        #expect(Tensor.eye(2, 3).shape == [2, 3] && Tensor.eye(2, 3).toDoubleArray() == [1, 0, 0, 0, 1, 0])
        #expect(Tensor.empty([3, 2]).shape == [3, 2])
    }

    @Test func likeFactories() {
        let x = Tensor([[1.0, 2.0]], dtype: .float64)
        #expect(Tensor.zerosLike(x).dtype == .float64 && Tensor.zerosLike(x).shape == [1, 2])
        #expect(Tensor.onesLike(x).toDoubleArray() == [1, 1])
        #expect(Tensor.fullLike(x, 4).toDoubleArray() == [4, 4])
        #expect(Tensor.onesLike(x, dtype: .int64).dtype == .int64)
        #expect(Tensor.randLike(x).shape == [1, 2] && Tensor.randLike(x).dtype == .float64)
        #expect(Tensor.randnLike(Tensor([1, 2])).dtype == .float32)
    }

    // MARK: random

    @Test func explicitGeneratorsAreReproducible() {
        let a = Tensor.randn([5], generator: Generator(seed: 3))
        let b = Tensor.randn([5], generator: Generator(seed: 3))
        let c = Tensor.randn([5], generator: Generator(seed: 4))
        #expect(a.toDoubleArray() == b.toDoubleArray())
        #expect(a.toDoubleArray() != c.toDoubleArray())
        // Successive draws differ; reseeding restarts the stream.
        let g = Generator(seed: 9)
        let r1 = Tensor.rand([4], generator: g), r2 = Tensor.rand([4], generator: g)
        #expect(r1.toDoubleArray() != r2.toDoubleArray())
        g.manualSeed(9)
        #expect(Tensor.rand([4], generator: g).toDoubleArray() == r1.toDoubleArray())
        #expect(g.initialSeed == 9)
        // State save and restore.
        let state = g.stateValue
        let next = Tensor.randint(0, 100, [6], generator: g).toIntArray()
        g.setState(state)
        #expect(Tensor.randint(0, 100, [6], generator: g).toIntArray() == next)
    }

    @Test func manualSeedReseedsTheDefaultGenerator() {
        // A default generator of this test's own (other suites draw from the process-wide one concurrently).
        Generator.withDefault(Generator(seed: 0)) {
            manualSeed(1234)
            let a = Tensor.randn([8]).toDoubleArray()
            manualSeed(1234)
            let b = Tensor.randn([8]).toDoubleArray()
            #expect(a == b)
            #expect(Generator.default.initialSeed == 1234)
        }
    }

    @Test func distributions() {
        let g = Generator(seed: 11)
        let u = Tensor.rand([2000], generator: g).toDoubleArray()
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = u.reduce(0, +) / Double(u.count)
        #expect(abs(mean - 0.5) < 0.05)
        let n = Tensor.randn([2000], dtype: .float64, generator: g).toDoubleArray()
        let nm = n.reduce(0, +) / Double(n.count)
        let nv = n.map { ($0 - nm) * ($0 - nm) }.reduce(0, +) / Double(n.count)
        #expect(abs(nm) < 0.1 && abs(nv - 1) < 0.1)
        let r = Tensor.randint(3, 7, [500], generator: g)
        #expect(r.dtype == .int64 && r.toIntArray().allSatisfy { (3..<7).contains($0) })
        #expect(Set(r.toIntArray()) == [3, 4, 5, 6])
        #expect(Tensor.randint(5, [3], generator: g).toIntArray().allSatisfy { (0..<5).contains($0) })
        let p = Tensor.randperm(10, generator: g)
        #expect(p.dtype == .int64 && p.toIntArray().sorted() == Array(0..<10))
        #expect(Tensor.randperm(10, generator: Generator(seed: 1)).toIntArray() == Tensor.randperm(10, generator: Generator(seed: 1)).toIntArray())
        let bern = Tensor.bernoulli([1000], p: 0.3, generator: g).toDoubleArray()
        #expect(bern.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(abs(bern.reduce(0, +) / 1000 - 0.3) < 0.06)
        let bp = Tensor.bernoulli(Tensor([0.0, 1.0, 0.0, 1.0]), generator: g)
        #expect(bp.toDoubleArray() == [0, 1, 0, 1] && bp.dtype == .float32)
        #expect(rand([2], generator: Generator(seed: 2)).toDoubleArray() == Tensor.rand([2], generator: Generator(seed: 2)).toDoubleArray())
        #expect(randn([3], dtype: .float64).dtype == .float64)
    }

    // MARK: dtypes and casts

    @Test func casts() {
        let x = Tensor([1.7, -2.5, 0.0])
        let d = x.to(.float64)
        #expect(d.dtype == .float64 && !d.sharesStorage(with: x))
        #expect(abs(d.toDoubleArray()[0] - 1.7) < 1e-6)
        #expect(x.to(.float32) === x)
        #expect(x.to(.int64).toIntArray() == [1, -2, 0])
        #expect(x.to(.bool).toBoolArray() == [true, true, false])
        #expect(Tensor([true, false]).to(.float32).toDoubleArray() == [1, 0])
        #expect(Tensor([3, 4]).to(.int32).dtype == .int32)
        #expect(x.toFloatArray() == [1.7, -2.5, 0])
        #expect(Tensor([2, 3]).toArray(Int64.self) == [2, 3])
        #expect(Tensor([[5]]).item() == 5)
        #expect(Tensor([2.5]).item(Int.self) == 2)
        // Gradients flow back through a float cast in the source dtype.
        let w = Tensor([1.0, 2.0], requiresGrad: true)
        (w.to(.float64) * 3).sum().backward()
        #expect(w.grad!.dtype == .float32 && w.grad!.toDoubleArray() == [3, 3])
    }

    @Test func typePromotion() {
        let i = Tensor([1, 2]), f = Tensor([0.5, 0.5]), d = Tensor([1.0, 2.0], dtype: .float64)
        #expect((i + f).dtype == .float32)
        #expect((f + d).dtype == .float64)
        // A 0-d tensor does not widen a dimensioned tensor of the same category.
        #expect((f + Tensor.scalar(2, dtype: .float64)).dtype == .float32)
        // ...but raises the category.
        #expect((i + Tensor.scalar(2.5)).dtype == .float32)
        #expect((i + 1).dtype == .int64 && (i + 1).toIntArray() == [2, 3])
        #expect((i * 2.5).dtype == .float32)
        #expect((i / Tensor([2, 4])).dtype == .float32)
        #expect((i / Tensor([2, 4])).toDoubleArray() == [0.5, 0.5])
        #expect((Tensor([1, 2], dtype: .int32) + Tensor([1, 2])).dtype == .int64)
        #expect((Tensor([true]) + Tensor([true])).dtype == .bool)
        #expect(i.gt(1).dtype == .bool)
    }

    @Test func broadcastingShapes() {
        #expect((Tensor.ones([2, 1, 3]) + Tensor.ones([4, 1])).shape == [2, 4, 3])
        #expect((Tensor.ones([3]) * Tensor.ones([2, 3])).shape == [2, 3])
        #expect((Tensor.ones([]) + Tensor.ones([2, 2])).shape == [2, 2])
        #expect((Tensor.ones([1, 0]) + Tensor.ones([3, 1])).shape == [3, 0])
        let r = Tensor([[1], [2]]) + Tensor([10, 20, 30])
        #expect(r.toIntArray() == [11, 21, 31, 12, 22, 32])
    }

    // MARK: printing

    @Test func printingLikePyTorch() {
        #expect("\(Tensor([[1.0, 2.0], [3.0, 4.0]]))" == "tensor([[1., 2.],\n        [3., 4.]])")
        #expect("\(Tensor([[1, 2], [3, 4]]))" == "tensor([[1, 2],\n        [3, 4]])")
        #expect("\(Tensor([1.5]))" == "tensor([1.5000])")
        #expect("\(Tensor([1.5, -2.25, 10.0]))" == "tensor([ 1.5000, -2.2500, 10.0000])")
        #expect("\(Tensor([1, 10, -100]))" == "tensor([   1,   10, -100])")
        #expect("\(Tensor([true, false]))" == "tensor([ True, False])")
        #expect("\(Tensor.scalar(3.5))" == "tensor(3.5000)")
        #expect("\(Tensor([1e-5, 1.0]))" == "tensor([1.0000e-05, 1.0000e+00])")
        #expect("\(Tensor([1.0, 2.0], dtype: .float64))" == "tensor([1., 2.], dtype: torch.float64)")
        #expect("\(Tensor([1, 2], dtype: .int32))" == "tensor([1, 2], dtype: torch.int32)")
        #expect("\(Tensor.zeros([0, 3]))" == "tensor([], size: [0, 3])")
        #expect("\(Tensor.zeros([0], dtype: .int64))" == "tensor([], dtype: torch.int64)")
        #expect("\(Tensor([Double.nan, 1.0, Double.infinity]))" == "tensor([nan, 1., inf])")
        #expect("\(Tensor.arange(8).view([2, 2, 2]))" == "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])")
        #expect("\(Tensor([1.0, 2.0], requiresGrad: true))" == "tensor([1., 2.], requiresGrad: true)")
        let y = Tensor([1.0], requiresGrad: true) * 2
        #expect("\(y)".hasPrefix("tensor([2.], gradFn: <"))
        // Non-contiguous tensors print their logical order.
        #expect("\(Tensor([[1, 2], [3, 4]]).t())" == "tensor([[1, 3],\n        [2, 4]])")
    }

    @Test func printingWrapsAndSummarises() {
        #expect("\(Tensor.arange(30))" == "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])")
        #expect("\(Tensor.arange(1200).view([40, 30]))" == """
            tensor([[   0,    1,    2,  ...,   27,   28,   29],
                    [  30,   31,   32,  ...,   57,   58,   59],
                    [  60,   61,   62,  ...,   87,   88,   89],
                    ...,
                    [1110, 1111, 1112,  ..., 1137, 1138, 1139],
                    [1140, 1141, 1142,  ..., 1167, 1168, 1169],
                    [1170, 1171, 1172,  ..., 1197, 1198, 1199]])
            """)
        #expect("\(Tensor.arange(0, 2000, dtype: .float32).view([2, 1000]))" == """
            tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,
                     9.9900e+02],
                    [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,
                     1.9990e+03]])
            """)
    }

    // MARK: views

    @Test func viewsShareStorage() {
        let x = Tensor.arange(0, 6, dtype: .float32).view([2, 3])
        let views: [Tensor] = [x.view([3, 2]), x.view(6), x.permute(1, 0), x.transpose(0, 1), x.t(),
                               x.unsqueeze(0), x.unsqueeze(0).squeeze(0), x.narrow(1, start: 1, length: 2),
                               x.select(0, 1), x.expand([4, 2, 3]), x.reshape([6]), x.flatten()]
        for v in views { #expect(v.sharesStorage(with: x)) }
        #expect(x.t().shape == [3, 2] && x.t().strides == [1, 3] && !x.t().isContiguous)
        #expect(x.expand([4, 2, 3]).strides == [0, 3, 1])
        #expect(x.narrow(1, start: 1, length: 2).offset == 1)
        #expect(x.unsqueeze(1).shape == [2, 1, 3] && Tensor.ones([1, 3, 1]).squeeze().shape == [3])
        // A write through a view is visible in the base.
        x.t().select(0, 2).fill_(9)
        #expect(x.toDoubleArray() == [0, 1, 9, 3, 4, 9])
    }

    @Test func contiguousCopiesOnlyWhenNeeded() {
        let x = Tensor.ones([2, 3])
        #expect(x.contiguous() === x)
        let t = x.t()
        let c = t.contiguous()
        #expect(!c.sharesStorage(with: x) && c.isContiguous && c.shape == [3, 2])
        #expect(c.toDoubleArray() == t.toDoubleArray())
        // clone always copies.
        #expect(!x.clone().sharesStorage(with: x))
    }

    @Test func reshapeCopiesOnlyWhenNeeded() {
        let x = Tensor.arange(0, 6, dtype: .float32).view([2, 3])
        #expect(x.reshape([3, 2]).sharesStorage(with: x))
        #expect(x.reshape([-1]).shape == [6])
        let t = x.t()
        let flat = t.reshape([6])
        #expect(!flat.sharesStorage(with: x))
        #expect(flat.toDoubleArray() == [0, 3, 1, 4, 2, 5])
        // A transposed tensor whose merged dims stay compatible is still a view.
        #expect(Tensor.ones([2, 3, 4]).permute(1, 0, 2).reshape([3, 2, 2, 2]).sharesStorage(with: Tensor.ones([1])) == false)
        let y = Tensor.ones([2, 3, 4])
        #expect(y.permute(1, 0, 2).reshape([3, 2, 2, 2]).sharesStorage(with: y))
    }

    @Test func versionCounterSharedByViews() {
        let x = Tensor.zeros([4])
        let v = x.view([2, 2])
        let before = x.version
        v.add_(1)
        #expect(x.version == before + 1 && v.version == x.version)
        x.narrow(0, start: 0, length: 2).mul_(3)
        #expect(v.version == before + 2)
        #expect(x.toDoubleArray() == [3, 3, 1, 1])
        let copy = x.clone()
        copy.add_(1)
        #expect(x.version == before + 2)
    }

    // MARK: devices

    @Test func cudaIsNotAvailableOnCPUBuilds() {
        #expect(Tensor.ones([1]).device == .cpu)
        #expect(Tensor.ones([1]).cpu().device == .cpu)
        #expect(Device.cuda(0).description == "cuda:0" && Device.cpu.description == "cpu")
        if !Device.cudaAvailable {
        }
    }
}
