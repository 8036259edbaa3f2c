import Testing
import NablaData
import NablaTestSupport

@Suite struct ResizeTests {
    @Test(arguments: ["resize_up", "resize_down", "resize_mixed", "resize_one_pixel", "resize_to_one"])
    func bilinearMatchesPyTorch(_ name: String) {
        let c = loadFixture("data")[name]
        let x = c.inputs[0].tensor, expected = c.outputs[0].tensor
        let h = expected.shape[1], w = expected.shape[2]
        let y = Resize(height: h, width: w)(x)
        let r = allClose(y, expected, rtol: 1e-10, atol: 1e-12)
        #expect(r.ok, "\(r.failure)")
        let y32 = Resize(height: h, width: w)(x.to(.float32))
        #expect(y32.dtype == .float32 && allClose(y32, expected.to(.float32), rtol: 1e-5, atol: 1e-6).ok)
    }

    @Test func smallerEdgeKeepsTheAspectRatio() {
        let r = Resize(4)
        #expect(r.outputSize(height: 8, width: 13) == (4, 6))
        #expect(r.outputSize(height: 20, width: 10) == (8, 4))
        #expect(Resize(4)(Tensor.ones([3, 8, 13])).shape == [3, 4, 6])
        let same = Tensor.randn([1, 4, 4])
        #expect(Resize(4)(same).equal(same))
        #expect(Resize(height: 2, width: 2)(Tensor.full([2, 5, 5], 3)).toDoubleArray() == Array(repeating: 3, count: 8))
    }
}
