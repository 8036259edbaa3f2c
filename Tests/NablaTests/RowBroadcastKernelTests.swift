import Testing
import Nabla
import NablaTestSupport

/// The CPU fast path for a matrix and a broadcast row (`x + bias`, `x * scale`): the contiguous kernel row by row
/// must give what the general strided loop gives (float64 reference), for every layout it accepts and the ones
/// it leaves to the strided loop.
@Suite struct RowBroadcastKernelTests {
    @Test(arguments: [[5, 16], [300, 33], [2, 3, 40], [4096, 8]])
    func matrixAndRowMatchFloat64(_ shape: [Int]) {
        let cols = shape[shape.count - 1]
        let x = Tensor.randn(shape), row = Tensor.randn([cols]), row2 = Tensor.randn([1, cols])
        for (got, want) in [(x + row, x.to(.float64) + row.to(.float64)), (x * row, x.to(.float64) * row.to(.float64)),
                            (x + row2, x.to(.float64) + row2.to(.float64)), (row + x, row.to(.float64) + x.to(.float64))] {
            #expect(got.dtype == .float32 && got.shape == shape)
            let r = allClose(got.to(.float64), want, rtol: 1e-6, atol: 1e-6)
            #expect(r.ok, "\(shape): \(r.failure)")
        }
        // A non-contiguous row (every other element of a longer vector) takes the strided loop.
        let wide = Tensor.randn([2 * cols])
        let strided = wide.slice(0, start: 0, end: 2 * cols, step: 2)
        #expect(allClose((x + strided).to(.float64), x.to(.float64) + strided.to(.float64), rtol: 1e-6, atol: 1e-6).ok)
    }

    @Test func writesInPlaceOverItsMatrix() {
        let x = Tensor.randn([64, 32]), b = Tensor.randn([32])
        let expected = x + b
        noGrad { _ = x.add_(b) }
        #expect(allClose(x, expected, rtol: 0, atol: 0).ok)
    }
}
