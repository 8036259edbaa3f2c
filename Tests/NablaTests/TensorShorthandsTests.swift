import Testing
import Nabla
import NablaTestSupport

/// PyTorch's short spellings: casts, `.T`, `.data`, `size()`, variadic creation, positional dims, nested arrays,
/// compound assignment.
@Suite struct TensorShorthandsTests {
    @Test func dtypeCasts() {
        let x = Tensor([1.7, -2.2, 0])
        #expect(x.double().dtype == .float64 && x.float().dtype == .float32)
        #expect(x.long().dtype == .int64 && x.long().toIntArray() == [1, -2, 0])
        #expect(x.int().dtype == .int32 && x.int().toIntArray() == [1, -2, 0])
        #expect(x.bool().toBoolArray() == [true, true, false])
        #expect(Tensor([1, 2]).float().toFloatArray() == [1, 2])
    }

    @Test func transposeDataAndSize() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(x.T.shape == [3, 2] && x.T.toIntArray() == [1, 4, 2, 5, 3, 6])
        #expect(Tensor.zeros(2, 3, 4).T.shape == [4, 3, 2] && Tensor([1, 2]).T.shape == [2])
        #expect(x.size() == [2, 3] && x.size(1) == 3 && x.size(-2) == 2)

        // w.data -= lr * w.grad.data: an unrecorded write to the parameter itself.
        let w = Tensor([1.0, 2.0], requiresGrad: true)
        (w * w).sum().backward()
        w.data -= 0.5 * w.grad!.data
        #expect(w.toFloatArray() == [0, 0] && w.requiresGrad && w.isLeaf)
        #expect(!w.data.requiresGrad && w.data.sharesStorage(with: w))
    }

    @Test func variadicCreationFlattenAndPositionalCat() {
        #expect(Tensor.randn(2, 3).shape == [2, 3] && Tensor.rand(4).shape == [4])
        #expect(Tensor.zeros(2, 3).shape == [2, 3] && Tensor.ones(1, 2, dtype: .int64).dtype == .int64)
        #expect(zeros(2, 3).shape == [2, 3] && ones(3).toFloatArray() == [1, 1, 1])
        #expect(randn(5, 1).shape == [5, 1] && rand(2, 2).shape == [2, 2])
        let x = Tensor.zeros(2, 3, 4, 5)
        #expect(x.flatten(1).shape == [2, 60] && x.flatten(1, 2).shape == [2, 12, 5] && x.flatten().shape == [120])
        let a = Tensor([[1, 2]]), b = Tensor([[3]])
        #expect(cat([a, b], 1).toIntArray() == [1, 2, 3])
        #expect(stack([Tensor([1, 2]), Tensor([3, 4])], 1).toIntArray() == [1, 3, 2, 4])
    }

    @Test func nestedToArray() {
        let x = Tensor([[1, 2], [3, 4], [5, 6]])
        let rows: [[Float]] = x.toArray()
        #expect(rows == [[1, 2], [3, 4], [5, 6]])
        #expect(x.toArray([[Int64]].self) == [[1, 2], [3, 4], [5, 6]])
        let flat: [Float] = x.toArray()
        #expect(flat == [1, 2, 3, 4, 5, 6])
        let cube: [[[Double]]] = Tensor.arange(0, 8).reshape(2, 2, 2).toArray()
        #expect(cube == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]])
        #expect(x.T.toArray([[Int64]].self) == [[1, 3, 5], [2, 4, 6]])   // non-contiguous
    }

    @Test func compoundAssignmentIsInPlace() {
        let x = Tensor([1.0, 2.0]), alias = x
        x += Tensor([1.0, 1.0]); x *= 2; x -= 1; x /= Tensor([3.0, 5.0]); x += 1
        #expect(alias.toDoubleArray() == [2, 2])
        let v = Tensor.zeros(2, 2)
        let row = v[0]
        row += 5
        #expect(v.toFloatArray() == [5, 5, 0, 0])
    }

    /// `total = torch.tensor(0.); total += loss_i` accumulates a differentiable sum, as in PyTorch.
    @Test func compoundAssignmentAccumulatesALoss() {
        let w = Tensor([1.0, 2.0], requiresGrad: true)
        let total = Tensor(0.0)
        for k in 1...3 { total += (w * Double(k)).sum() }
        total.backward()
        #expect(total.item() == 18 && w.grad!.toDoubleArray() == [6, 6])
    }
}
