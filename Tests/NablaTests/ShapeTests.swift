import Testing
import Nabla
import NablaTestSupport

/// split, chunk, unbind/unstack, repeat, tile, flip, roll: values against PyTorch and gradients.
@Suite struct ShapeTests {
    let fx = loadFixture("indexing")
    func one(_ name: String, _ f: @escaping ([Tensor]) -> Tensor) { checkIndexingFixture(name, file: fx) { [f($0)] } }

    @Test func splitsAreViews() {
        let x = Tensor.arange(10).reshape(2, 5)
        let parts = x.split(splitSize: 2, dim: 1)
        #expect(parts.map(\.shape) == [[2, 2], [2, 2], [2, 1]])
        #expect(parts.allSatisfy { $0.sharesStorage(with: x) })
        #expect(split(x, sizes: [1, 4], dim: -1).map(\.shape) == [[2, 1], [2, 4]])
        #expect(x.chunk(2, dim: 1).map(\.shape) == [[2, 3], [2, 2]])
        #expect(chunk(Tensor.arange(6), 4).map(\.shape) == [[2], [2], [2]])
        let rows = x.unbind()
        #expect(rows.count == 2 && rows[1].toIntArray() == [5, 6, 7, 8, 9])
        #expect(unstack(x, dim: 1).count == 5 && x.unstack(dim: 1)[4].toIntArray() == [4, 9])
        #expect(stack(x.unbind(dim: 1), dim: 1).equal(x))
    }

    @Test func fixtureSplits() {
        checkIndexingFixture("split2", file: fx) { $0[0].split(splitSize: 2, dim: 1) }
        checkIndexingFixture("split_sizes", file: fx) { split($0[0], sizes: [1, 2], dim: 0) }
        checkIndexingFixture("chunk", file: fx) { $0[0].chunk(3, dim: 1) }
        checkIndexingFixture("unbind1", file: fx) { unbind($0[0], dim: 1) }
    }

    @Test func fixtureRepeatFlipRoll() {
        one("repeat") { $0[0].repeat(2, 1, 2) }
        one("repeat_1d") { $0[0].repeat([2, 3]) }
        one("tile") { tile($0[0], [2]) }
        one("flip0") { $0[0].flip(0) }
        one("flip12") { flip($0[0], dims: [1, 2]) }
        one("roll") { $0[0].roll(shifts: [1, -1], dims: [0, 2]) }
        one("roll_flat") { $0[0].roll(3) }
    }

    @Test func values() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(x.flip(-1).toIntArray() == [3, 2, 1, 6, 5, 4])
        #expect(x.flip(0, 1).toIntArray() == [6, 5, 4, 3, 2, 1])
        #expect(x.t().flip(0).toIntArray() == [3, 6, 2, 5, 1, 4])
        #expect(x.roll(1, dim: 1).toIntArray() == [3, 1, 2, 6, 4, 5])
        #expect(x.roll(-7, dim: 1).toIntArray() == [2, 3, 1, 5, 6, 4])
        #expect(x.roll(2).toIntArray() == [5, 6, 1, 2, 3, 4])
        #expect(Tensor([1, 2]).repeat(2, 2).toIntArray() == [1, 2, 1, 2, 1, 2, 1, 2])
        #expect(x.tile([2]).shape == [2, 6] && x.tile([2, 1, 1]).shape == [2, 2, 3])
        #expect(x.repeat(0, 1).shape == [0, 3])
    }

    @Test func gradients() {
        let nc = Tensor.randn([4, 3], dtype: .float64).t()   // non-contiguous [3, 4]
        #expect(gradcheck({ $0[0].repeat(2, 1, 2) }, inputs: [nc]).passed)
        #expect(gradcheck({ $0[0].tile([2]) }, inputs: [nc]).passed)
        #expect(gradcheck({ $0[0].flip(0, 1) }, inputs: [nc]).passed)
        #expect(gradcheck({ $0[0].roll(shifts: [2, -1], dims: [1, 0]) }, inputs: [nc]).passed)
        #expect(gradcheck({ $0[0].roll(5) }, inputs: [nc]).passed)
        #expect(gradcheck({ xs in let p = xs[0].split(splitSize: 3, dim: 1); return p[0] * 2 + p[1].sum() }, inputs: [nc]).passed)
        #expect(gradcheck({ xs in let p = xs[0].chunk(2, dim: 0); return p[1].sum(dim: 0) - p[0][0] }, inputs: [nc]).passed)
        #expect(gradcheck({ xs in let p = xs[0].unbind(dim: 1); return p[0] * p[3] }, inputs: [nc]).passed)
        #expect(gradgradcheck({ ($0[0].flip(1).roll(1, dim: 0) * $0[0]).sum() }, inputs: [nc]).passed)
    }
}
