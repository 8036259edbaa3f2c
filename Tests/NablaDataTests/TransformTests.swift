import Testing
import NablaData
import NablaTestSupport

@Suite struct TransformTests {
    @Test func toTensorConvertsBytesToCHWFloats() {
        let hwc = Tensor(shape: [2, 3, 2], data: (0..<12).map { Int64($0 * 20) })       // H=2, W=3, C=2
        let x = ToTensor()(hwc)
        #expect(x.shape == [2, 2, 3] && x.dtype == .float32)
        #expect(allClose(x[0], Tensor(shape: [2, 3], data: [0, 40, 80, 120, 160, 200].map { Float($0) / 255 })).ok)
        let chw = ToTensor(layout: .chw)(Tensor(shape: [1, 1, 2], data: [Int64(255), 0]))
        #expect(chw.toDoubleArray() == [1, 0])
        let gray = ToTensor()(Tensor(shape: [2, 2], data: [Int64(0), 51, 102, 255]))
        #expect(gray.shape == [1, 2, 2])
        let raw = ToTensor()(bytes: [255, 0, 0, 255], height: 1, width: 2, channels: 2)
        #expect(raw.shape == [2, 1, 2] && raw.toDoubleArray() == [1, 0, 0, 1])
    }

    @Test func normalizeIsPerChannel() {
        let x = Tensor.ones([2, 2, 2])
        let y = Normalize(mean: [0.5, 1], std: [0.5, 2])(x)
        #expect(y.toDoubleArray() == [1, 1, 1, 1, 0, 0, 0, 0])
        let batch = Normalize(mean: [1], std: [1])(Tensor.ones([3, 2, 2, 2]))
        #expect(batch.shape == [3, 2, 2, 2] && batch.sum().item() == 0)
    }

    @Test func cropsAndPadding() {
        let img = Tensor.arange(1, 17, dtype: .float32).reshape([1, 4, 4])
        #expect(CenterCrop(2)(img).toDoubleArray() == [6, 7, 10, 11])
        // torchvision: top = round(1.5) = 2 and left = round(0.5) = 0 (round half to even).
        #expect(CenterCrop(height: 1, width: 3)(img).toDoubleArray() == [9, 10, 11])
        #expect(CenterCrop(6)(img).shape == [1, 6, 6] && CenterCrop(6)(img).sum().item() == 136)
        // RandomCrop with padding: every crop is a window of the zero-padded image, and seeds reproduce it.
        let crop = RandomCrop(4, padding: 2)
        var seen = Set<[Double]>()
        for s in 0..<40 {
            let a = crop(img, generator: Generator(seed: UInt64(s))), b = crop(img, generator: Generator(seed: UInt64(s)))
            #expect(a.equal(b) && a.shape == [1, 4, 4])
            seen.insert(a.toDoubleArray())
        }
        #expect(seen.count > 5)
        #expect(RandomCrop(4)(img).equal(img))
    }

    @Test func horizontalFlipFollowsP() {
        let img = Tensor([[[1.0, 2.0, 3.0]]])
        #expect(RandomHorizontalFlip(p: 1)(img).toDoubleArray() == [3, 2, 1])
        #expect(RandomHorizontalFlip(p: 0)(img).toDoubleArray() == [1, 2, 3])
        let flips = (0..<200).filter { RandomHorizontalFlip()(img, generator: Generator(seed: UInt64($0))).toDoubleArray()[0] == 3 }.count
        #expect(flips > 60 && flips < 140)
    }

    @Test func rotationByRightAnglesPermutesPixels() {
        let img = Tensor.arange(1, 10, dtype: .float32).reshape([1, 3, 3])
        #expect(RandomRotation.rotate(img, degrees: 90).toDoubleArray() == [3, 6, 9, 2, 5, 8, 1, 4, 7])   // counter-clockwise
        #expect(RandomRotation.rotate(img, degrees: 0).equal(img))
        let r = RandomRotation(30)(img, generator: Generator(seed: 1))
        #expect(r.shape == [1, 3, 3] && r[0, 1, 1].item() == 5)
    }

    @Test func composeAndChainApplyInOrder() {
        let bytes = Tensor(shape: [4, 4, 1], data: (0..<16).map { Int64($0 * 17) })
        let pipeline = ToTensor().then(Compose(CenterCrop(2), Normalize(mean: [0.5], std: [0.5]), RandomHorizontalFlip(p: 1)))
        let y = pipeline(bytes)
        let expected = [85.0, 102, 153, 170].map { ($0 / 255 - 0.5) / 0.5 }
        #expect(allClose(y, Tensor(shape: [1, 2, 2], data: [expected[1], expected[0], expected[3], expected[2]], dtype: .float32)).ok)
        // The same per-sample generator gives the same augmentation.
        let aug = Compose([RandomCrop(3, padding: 1), RandomHorizontalFlip()])
        let img = Tensor.randn([3, 5, 5], generator: Generator(seed: 2))
        #expect(aug(img, generator: Generator(seed: 9)).equal(aug(img, generator: Generator(seed: 9))))
    }
}
