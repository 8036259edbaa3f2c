import Foundation
import Testing
import Nabla
import NablaTestSupport

/// Runs fixture case `name` through `f` (inputs loaded from the file, floating ones requiring grad),
/// comparing every output and the gradients of `sum(outputs[0] * upstream)` with PyTorch's.
func checkIndexingFixture(_ name: String, file: FixtureFile, _ f: ([Tensor]) -> [Tensor]) {
    let c = file[name]
    let inputs = c.inputs.map { fx -> Tensor in
        let t = fx.tensor
        return t.dtype.isFloatingPoint ? t.requiresGrad_() : t
    }
    let outs = f(inputs)
    #expect(outs.count == c.outputs.count, "\(name): \(outs.count) outputs, expected \(c.outputs.count)")
    for (o, e) in zip(outs, c.outputs) {
        let r = allClose(o, e.tensor)
        #expect(r.ok, "\(name): \(r.failure)")
        #expect(o.dtype == e.tensor.dtype, "\(name): dtype \(o.dtype), expected \(e.tensor.dtype)")
    }
    expectCompiledMatchesEager(name, inputs.map { $0.detached() }, f)
    guard let grads = c.grads, let up = c.upstream else { return }
    let diff = inputs.filter { $0.dtype.isFloatingPoint }
    let gs = gradients(of: [(outs[0] * up.tensor).sum()], wrt: diff, allowUnused: true)
    for (i, (g, e)) in zip(gs, grads).enumerated() {
        let r = allClose(g ?? Tensor.zerosLike(diff[i]), e.tensor)
        #expect(r.ok, "\(name) grad \(i): \(r.failure)")
    }
}

/// Subscripts, index assignment, and the index ops (indexSelect, gather, scatter, take, oneHot, maskedSelect, nonzero).
@Suite struct IndexingTests {
    let fx = loadFixture("indexing")
    func one(_ name: String, _ f: @escaping ([Tensor]) -> Tensor) { checkIndexingFixture(name, file: fx) { [f($0)] } }

    // MARK: subscript semantics

    @Test func basicSubscriptsAreViews() {
        let x = Tensor.arange(12).reshape(3, 4)
        let row = x[1]
        #expect(row.shape == [4] && row.sharesStorage(with: x))
        #expect(row.toIntArray() == [4, 5, 6, 7])
        #expect(x[1..<3].sharesStorage(with: x) && x[1..<3].shape == [2, 4])
        #expect(x[0, 2].item() == 2 && x[0, 2].shape == [])
        #expect(x[1...].shape == [2, 4] && x[..<2].shape == [2, 4] && x[...1].shape == [2, 4])
        #expect(x[.all, 1].toIntArray() == [1, 5, 9])
        #expect(x[.range(0, 4, step: 2)].shape == [2, 4])
        #expect(x[.all, .range(1, nil, step: 2)].toIntArray() == [1, 3, 5, 7, 9, 11])
        #expect(x[..., 0].toIntArray() == [0, 4, 8])
        #expect(x[1, ...].toIntArray() == [4, 5, 6, 7])
        #expect(x[...].shape == [3, 4] && x[...].sharesStorage(with: x))
        #expect(x[.newAxis].shape == [1, 3, 4] && x[.all, .newAxis, 1].shape == [3, 1])
        #expect(x[0, .ellipsis, .newAxis].shape == [4, 1])
        // Writing through a view changes the base.
        x[0][1] = 100.0
        #expect(x[0, 1].item() == 100)
        row.fill_(-1)
        #expect(x[1].toIntArray() == [-1, -1, -1, -1])
        let d: Double = x[2, 3]
        #expect(d == 11)
    }

    @Test func negativeIndicesAndRanges() {
        let x = Tensor.arange(10)
        #expect(x[-1].item() == 9 && x[-10].item() == 0)
        #expect(x[(-3)...].toIntArray() == [7, 8, 9])
        #expect(x[(-4)..<(-1)].toIntArray() == [6, 7, 8])
        #expect(x[(-3)...(-1)].toIntArray() == [7, 8, 9] && x[(-3)...(-2)].toIntArray() == [7, 8])
        #expect(x[5..<100].toIntArray() == [5, 6, 7, 8, 9])  // clamped, as Python slices
        #expect(x[.range(8, 3)].count == 0)
        #expect(x[.range(nil, nil, step: 3)].toIntArray() == [0, 3, 6, 9])
        let y = Tensor.arange(24).reshape(2, 3, 4)
        #expect(y[-1, -1, -1].item() == 23)
        #expect(y[..., -1].shape == [2, 3])
        #expect(y[0, ..., 1].toIntArray() == [1, 5, 9])
        #expect(y[1, 0..<2, ...].shape == [2, 4])
    }

    @Test func advancedIndexing() {
        let x = Tensor.arange(12).reshape(3, 4)
        #expect(x[Tensor([2, 0])].toIntArray() == [8, 9, 10, 11, 0, 1, 2, 3])
        #expect(x[Tensor([0, 2]), Tensor([1, 3])].toIntArray() == [1, 11])
        #expect(x[.all, Tensor([-1])].toIntArray() == [3, 7, 11])
        let mask = x.gt(6.0)
        #expect(x[mask].toIntArray() == [7, 8, 9, 10, 11])
        #expect(!x[Tensor([0])].sharesStorage(with: x))
    }

    @Test func maskAndIndexAssignment() {
        let x = Tensor([[1.0, -2.0], [-3.0, 4.0]])
        x[x.lt(0.0)] = 0.0
        #expect(x.toDoubleArray() == [1, 0, 0, 4])
        x[x.gt(2.0)] = Tensor(7.0)
        #expect(x.toDoubleArray() == [1, 0, 0, 7])
        x[0] = Tensor([5.0, 6.0])
        #expect(x.toDoubleArray() == [5, 6, 0, 7])
        x[.all, 1] = 9.0
        #expect(x.toDoubleArray() == [5, 9, 0, 9])
        x[Tensor([1])] = Tensor([[3.0, 3.0]])
        #expect(x.toDoubleArray() == [5, 9, 3, 3])
        let y = Tensor.zeros([3, 4])
        y[1..<3, 0] = Tensor([1.0, 2.0])
        y[..., 3] = 4
        #expect(y.toDoubleArray() == [0, 0, 0, 4, 1, 0, 0, 4, 2, 0, 0, 4])
        // Integer tensors, non-contiguous targets.
        let z = Tensor.arange(6).reshape(2, 3).t()
        z[Tensor([true, false, true])] = -1.0
        #expect(z.toIntArray() == [-1, -1, 1, 4, -1, -1])
        let v = z.version
        z[0, 0] = 8
        #expect(z.version > v)
    }

    @Test func indexAssignmentIsDifferentiable() {
        // The assigned region gets the value's gradient; the rest keeps the original's.
        let a = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let v = Tensor(10.0, requiresGrad: true)
        let y = a * 2
        y[1] = v * 1
        let s = (y * Tensor([1.0, 2.0, 3.0])).sum()
        let g = gradients(of: [s], wrt: [a, v])
        #expect(g[0]!.toDoubleArray() == [2, 0, 6])
        #expect(g[1]!.item() == 2)
        #expect(gradcheck({ xs in let t = xs[0] * 1; t[0..<2, 1] = xs[1]; return t }, inputs: [Tensor.randn([3, 3], dtype: .float64), Tensor.randn([2], dtype: .float64)]).passed)
        #expect(gradcheck({ xs in let t = xs[0] * 1; t[t.gt(0.0)] = xs[1]; return t }, inputs: [Tensor.randn([3, 3], dtype: .float64), Tensor.randn([], dtype: .float64)]).passed)
        #expect(gradcheck({ xs in let t = xs[0] * 1; t[Tensor([2, 0])] = xs[1]; return t }, inputs: [Tensor.randn([2, 4], dtype: .float64).t(), Tensor.randn([2], dtype: .float64)]).passed)
    }

    @Test func subscriptGradients() {
        let x = Tensor.randn([3, 4], dtype: .float64)
        #expect(gradcheck({ $0[0][0][1..<3, .range(0, 4, step: 2)] }, inputs: [Tensor.randn([2, 3, 4], dtype: .float64)]).passed)
        #expect(gradcheck({ $0[0][.all, Tensor([0, 2, 0])] }, inputs: [x.t()]).passed)
        #expect(gradcheck({ $0[0][Tensor([0, 1, 1]), .all, Tensor([2, 0, 2])] }, inputs: [Tensor.randn([2, 3, 3], dtype: .float64)]).passed)
        #expect(gradcheck({ $0[0][$0[0].gt(0.0)] }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0][..., .newAxis, -1] }, inputs: [x.t()]).passed)
    }

    @Test func fixtureSubscripts() {
        one("sub_int") { $0[0][1] }
        one("sub_int_int") { $0[0][0, 2] }
        one("sub_neg") { $0[0][-1, (-2)...] }
        one("sub_range") { $0[0][1..<3] }
        one("sub_from") { $0[0][1...] }
        one("sub_upto") { $0[0][..<2] }
        one("sub_step") { $0[0][.all, .range(0, 4, step: 2)] }
        one("sub_step3") { $0[0][.range(nil, nil, step: 2), .range(1, nil, step: 3)] }
        one("sub_all_int") { $0[0][.all, 1] }
        one("sub_ellipsis") { $0[0][..., 0] }
        one("sub_ellipsis_mid") { $0[0][0, ..., 1] }
        one("sub_newaxis") { $0[0][.all, .newAxis, 1] }
        one("sub_mixed3") { $0[0][1, 0..<2, -1] }
        one("sub_closed") { $0[0][0...2, 1...2] }
        one("adv_single") { $0[0][Tensor([2, 0, 2])] }
        one("adv_neg") { $0[0][.all, Tensor([-1, 0])] }
        one("adv_2d") { $0[0][Tensor([[0, 1], [2, 2]])] }
        one("adv_pair") { $0[0][Tensor([0, 2, 1]), Tensor([3, 3, 0])] }
        one("adv_adjacent") { $0[0][.all, Tensor([0, 2]), Tensor([1, 3])] }
        one("adv_separated") { $0[0][Tensor([1, 0]), .all, Tensor([3, 2])] }
        one("adv_broadcast") { $0[0][Tensor([[0], [2]]), Tensor([1, 3])] }
        one("adv_with_slice") { $0[0][1..., Tensor([0, 0, 3])] }
        one("mask_get") { $0[0][$0[0].gt(0.0)] }
        one("mask_rows") { $0[0][Tensor([true, false, true])] }
    }

    @Test func fixtureAssignment() {
        one("set_basic") { let y = $0[0].clone(); y[0] = $0[1]; return y }
        one("set_slice") { let y = $0[0].clone(); y[1..<3, 0] = $0[1]; return y }
        one("set_adv") { let y = $0[0].clone(); y[Tensor([0, 2])] = $0[1]; return y }
        one("set_mask") { let y = $0[0].clone(); y[y.gt(0.0)] = $0[1]; return y }
        one("set_ellipsis") { let y = $0[0].clone(); y[..., 1] = $0[1]; return y }
    }

    @Test func fixtureIndexOps() {
        one("index_select0") { indexSelect($0[0], dim: 0, index: Tensor([2, 0, 2, 1])) }
        one("index_select1") { $0[0].indexSelect(dim: 1, index: Tensor([3, 1])) }
        one("gather1") { gather($0[0], dim: 1, index: $0[1]) }
        one("gather0") { $0[0].gather(dim: 0, index: $0[1]) }
        one("scatter1") { scatter($0[0], dim: 1, index: $0[1], src: $0[2]) }
        one("scatter_value") { $0[0].scatter(dim: 0, index: $0[1], value: 2.5) }
        one("scatter_add0") { scatterAdd($0[0], dim: 0, index: $0[1], src: $0[2]) }
        one("take") { $0[0].take(Tensor([[0, 11], [5, -1]])) }
        one("one_hot") { oneHot($0[0]) }
        one("one_hot_n") { oneHot($0[0], numClasses: 5) }
        one("masked_select") { $0[0].maskedSelect($0[0].gt(0.2)) }
        one("masked_select_bcast") { maskedSelect($0[0], Tensor([true, false, false, true])) }
        one("nonzero") { $0[0].nonzero() }
        one("index_add") { indexAdd($0[0], dim: 1, index: Tensor([0, 3, 0]), source: $0[1], alpha: 2) }
    }

    @Test func indexOpGradients() {
        let x = Tensor.randn([4, 3], dtype: .float64).t()   // non-contiguous [3, 4]
        let idx = Tensor([[0, 3, 3], [2, 1, 0], [1, 1, 2]])
        #expect(gradcheck({ $0[0].indexSelect(dim: 1, index: Tensor([3, 0, 3])) }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0].gather(dim: 1, index: idx) }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0].scatter(dim: 1, index: Tensor([[0, 2], [3, 1], [1, 0]]), src: $0[1]) },
                          inputs: [x, Tensor.randn([3, 3], dtype: .float64)]).passed)
        #expect(gradcheck({ $0[0].scatterAdd(dim: 1, index: idx, src: $0[1]) }, inputs: [x, Tensor.randn([3, 3], dtype: .float64)]).passed)
        #expect(gradcheck({ $0[0].scatter(dim: 0, index: Tensor([[1, 0, 2, 2]]), value: 1.5) }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0].take(Tensor([[1, 7], [7, 0]])) }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0].maskedSelect(Tensor([true, false, true, true])) }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0].indexAdd(dim: 0, index: Tensor([2, 2]), source: $0[1]) }, inputs: [x, Tensor.randn([2, 4], dtype: .float64)]).passed)
        // Second order through gather/scatterAdd.
        #expect(gradgradcheck({ ($0[0].gather(dim: 1, index: idx) * $0[0][.all, 0..<3]).sum() }, inputs: [x.detached()]).passed)
    }

    @Test func inPlaceScatter() {
        let x = Tensor.zeros([2, 3])
        x.scatter_(dim: 1, index: Tensor([[2], [0]]), value: 1)
        #expect(x.toDoubleArray() == [0, 0, 1, 1, 0, 0])
        x.scatterAdd_(dim: 1, index: Tensor([[2, 2], [1, 0]]), src: Tensor([[1.0, 2.0], [3.0, 4.0]]))
        #expect(x.toDoubleArray() == [0, 0, 4, 5, 3, 0])
        let n = Tensor([[0, 2], [3, 0]]).nonzero()
        #expect(n.shape == [2, 2] && n.dtype == .int64 && n.toIntArray() == [0, 1, 1, 0])
        #expect(oneHot(Tensor([1, 0])).toIntArray() == [0, 1, 1, 0])
    }

    // MARK: error messages (exit tests)

    static func stderrText(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func outOfRangeIndexNamesDimIndexAndSize() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3])[0, 5]
        }
        let text = Self.stderrText(r)
        #expect(["index", "5", "dimension 1", "size 3"].allSatisfy { text.contains($0) }, "stderr: \(text)")
    }

    @Test func badAssignmentShapeNamesShapes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor.zeros([2, 3])
            x[0] = Tensor.zeros([2])
        }
        let text = Self.stderrText(r)
        #expect(["index assignment", "[2]", "[3]"].allSatisfy { text.contains($0) }, "stderr: \(text)")
    }

    @Test func tooManyIndicesAndBadGatherIndex() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2])[0, 0]
        }
        #expect(Self.stderrText(r).contains("too many indices"))
        let g = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).indexSelect(dim: 1, index: Tensor([0, -4]))
        }
        #expect(["indexSelect", "-4", "dimension 1", "size 3"].allSatisfy { Self.stderrText(g).contains($0) })
    }
}
