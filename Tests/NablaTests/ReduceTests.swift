import Testing
import Foundation
import Nabla
import NablaTestSupport

/// A fixture case's op: inputs in, outputs out.
typealias ReduceFixtureOp = @Sendable ([Tensor]) -> [Tensor]

/// The PyTorch fixture shared by the reduction, softmax and sort suites (Scripts/fixtures/reduce.py).
let reduceFixture = loadFixture("reduce")

/// Runs fixture case `name` through `f`: compares every output with PyTorch's, then the gradients of
/// `sum(outputs[0] * upstream)` when the fixture has them.
func expectMatchesReduceFixture(_ name: String, _ f: ([Tensor]) -> [Tensor]) {
    let c = reduceFixture[name]
    let inputs = c.inputs.map { t -> Tensor in
        let x = t.tensor
        return x.dtype.isFloatingPoint && c.grads != nil ? x.requiresGrad_() : x
    }
    let outs = f(inputs)
    #expect(outs.count == c.outputs.count, "\(name): \(outs.count) outputs, expected \(c.outputs.count)")
    let isF32 = inputs[0].dtype == .float32
    let (rtol, atol) = isF32 ? (1e-4, 1e-5) : (1e-9, 1e-11)
    for (i, (o, e)) in zip(outs, c.outputs).enumerated() {
        let expected = e.tensor
        #expect(o.dtype == expected.dtype, "\(name) output \(i): dtype \(o.dtype), expected \(expected.dtype)")
        let r = allClose(o, expected, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name) output \(i): \(r.failure)")
    }
    expectCompiledMatchesEager(name, inputs.map { $0.detached() }, f)
    guard let grads = c.grads, let up = c.upstream else { return }
    let diff = inputs.filter { $0.dtype.isFloatingPoint }
    guard outs[0].requiresGrad else {
        // Not differentiable here (e.g. the 0-norm): PyTorch's gradients must be zero.
        for e in grads { #expect(e.tensor.toDoubleArray().allSatisfy { $0 == 0 }, "\(name): expected zero gradients") }
        return
    }
    let gs = gradients(of: [(outs[0] * up.tensor).sum()], wrt: diff, allowUnused: true)
    for (g, e) in zip(gs, grads) {
        let got = g ?? Tensor.zeros(e.shape, dtype: diff[0].dtype)
        let r = allClose(got, e.tensor, rtol: rtol * 10, atol: atol * 10)
        #expect(r.ok, "\(name) grad: \(r.failure)")
    }
}

/// The fixture case names whose base name (without the dtype suffix) is a key of `table`.
func reduceCaseNames(_ table: [String: ReduceFixtureOp]) -> [String] {
    reduceFixture.cases.map(\.name).filter { table[baseCaseName($0)] != nil }
}

/// `"max_dim_f32"` → `"max_dim"`.
func baseCaseName(_ name: String) -> String {
    for suffix in ["_f64", "_f32", "_int64", "_bool"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
    return name
}

@Suite struct ReduceTests {
    static let ops: [String: ReduceFixtureOp] = [
        "prod_all": { [$0[0].prod()] },
        "prod_dim1_keepdim": { [$0[0].prod(dim: 1, keepDim: true)] },
        "prod_dim_neg": { [$0[0].prod(dim: -1)] },
        "prod_one_zero": { [$0[0].prod()] },
        "prod_dim_zeros": { [$0[0].prod(dim: 1)] },
        "prod": { [$0[0].prod()] },
        "prod_dim": { [$0[0].prod(dim: 0)] },
        "sum": { [$0[0].sum(dim: 1)] },
        "max_all": { [$0[0].max()] },
        "max_dim": { let r = $0[0].max(dim: 1); return [r.values, r.indices] },
        "max_dim_keepdim": { let r = $0[0].max(dim: 0, keepDim: true); return [r.values, r.indices] },
        "min_dim_neg": { let r = $0[0].min(dim: -1); return [r.values, r.indices] },
        "min_all": { [$0[0].min()] },
        "max_all_ties": { [$0[0].max()] },
        "max_dim_ties": { let r = $0[0].max(dim: 1); return [r.values, r.indices] },
        "min_dim_ties": { let r = $0[0].min(dim: 1); return [r.values, r.indices] },
        "amax_ties": { [$0[0].amax(dim: 1)] },
        "amin_ties": { [$0[0].amin(dim: 1)] },
        "amax_all_ties": { [$0[0].amax()] },
        "max_all_nan": { [$0[0].max()] },
        "max_dim_nan": { let r = $0[0].max(dim: 1); return [r.values, r.indices] },
        "amax_nan": { [$0[0].amax(dim: 1)] },
        "argmax_nan": { [$0[0].argmax(dim: 1)] },
        "amax_dims_keepdim": { [$0[0].amax(dims: [0, 2], keepDim: true)] },
        "amin_dims_neg": { [$0[0].amin(dims: [-1, 0])] },
        "argmax": { [$0[0].argmax()] },
        "argmax_dim": { [$0[0].argmax(dim: 1)] },
        "argmin_dim_keepdim": { [$0[0].argmin(dim: 0, keepDim: true)] },
        "argmax_flat": { [$0[0].argmax()] },
        "argmin_dim": { [$0[0].argmin(dim: -1)] },
        "argmax_ties": { [$0[0].argmax(dim: 1)] },
        "all": { [$0[0].all()] },
        "all_dim": { [$0[0].all(dim: 1)] },
        "any_dim": { [$0[0].any(dim: 0)] },
        "count_nonzero_dim": { [$0[0].countNonzero(dim: 1)] },
        "var_all": { [$0[0].var()] },
        "var_dim_biased": { [$0[0].var(dim: 1, unbiased: false)] },
        "var_dims_correction2_keepdim": { [$0[0].var(dims: [0, 2], correction: 2, keepDim: true)] },
        "std_all": { [$0[0].std()] },
        "std_dim_neg_keepdim": { [$0[0].std(dim: -1, keepDim: true)] },
        "std_constant_row": { [$0[0].std(dim: 1)] },
        "norm_2_all": { [$0[0].norm()] },
        "norm_1_dim": { [$0[0].norm(p: 1, dim: 1)] },
        "norm_inf_dim": { [$0[0].norm(p: .infinity, dim: 0)] },
        "norm_neginf_dim": { [$0[0].norm(p: -.infinity, dim: 1)] },
        "norm_3_dims_keepdim": { [$0[0].norm(p: 3, dims: [0, 1], keepDim: true)] },
        "norm_half_dim": { [$0[0].norm(p: 0.5, dim: 1)] },
        "norm_2_zero_row": { [$0[0].norm(dim: 1)] },
        "norm_3_zero_row": { [$0[0].norm(p: 3, dim: 1)] },
        "norm_0_dim": { [$0[0].norm(p: 0, dim: 1)] },
        "logsumexp_dim": { [$0[0].logsumexp(dim: 1)] },
        "logsumexp_dims_keepdim": { [$0[0].logsumexp(dims: [0, 2], keepDim: true)] },
        "logsumexp_large": { [$0[0].logsumexp(dim: 1)] },
        "logsumexp_neginf": { [$0[0].logsumexp(dim: 1)] },
        "cumsum_dim0": { [$0[0].cumsum(dim: 0)] },
        "cumsum_dim_neg": { [$0[0].cumsum(dim: -1)] },
        "cumprod_dim1": { [$0[0].cumprod(dim: 1)] },
        "cumprod_zeros": { [$0[0].cumprod(dim: 1)] },
        "cumsum": { [$0[0].cumsum(dim: 1)] },
        "mean_dims_keepdim": { [$0[0].mean(dims: [0, 2], keepDim: true)] },
    ]

    @Test(arguments: reduceCaseNames(ops)) func matchesTorch(_ name: String) {
        expectMatchesReduceFixture(name, Self.ops[baseCaseName(name)]!)
    }

    @Test func everyReductionCaseIsTested() {
        let mine = reduceCaseNames(Self.ops).count + reduceCaseNames(SoftmaxTests.ops).count + reduceCaseNames(SortTests.ops).count
        #expect(mine == reduceFixture.cases.count)
    }

    // MARK: gradcheck (float64 central differences)

    static var x34: Tensor { Tensor.randn([3, 4], dtype: .float64, generator: Generator(seed: 7)) }   // made per use: on the default device of the caller
    static var x232: Tensor { Tensor.randn([2, 3, 2], dtype: .float64, generator: Generator(seed: 8)) }   // made per use: on the default device of the caller
    static var x43: Tensor { Tensor.randn([4, 3], dtype: .float64, generator: Generator(seed: 9)) }   // made per use: on the default device of the caller

    @Test func gradcheckProd() {
        #expect(gradcheck({ $0[0].prod() }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].prod(dim: 1, keepDim: true) }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].prod(dim: -2) }, inputs: [Self.x232]).passed)
        #expect(gradcheck({ $0[0].t().prod(dim: 0) }, inputs: [Self.x43]).passed)
        let zeros = Tensor([[1.5, 0, 2], [0, 3, 0], [1, 2, 3]], dtype: .float64)
        #expect(gradcheck({ $0[0].prod(dim: 1) }, inputs: [zeros]).passed)
        #expect(gradgradcheck({ $0[0].prod(dim: 1) }, inputs: [zeros]).passed)
        #expect(gradgradcheck({ $0[0].prod() }, inputs: [Self.x34]).passed)
    }

    @Test func gradcheckMaxMin() {
        // Distinct values away from ties.
        #expect(gradcheck({ $0[0].max() }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].min() }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].max(dim: 1).values }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].min(dim: -1, keepDim: true).values }, inputs: [Self.x232]).passed)
        #expect(gradcheck({ $0[0].t().max(dim: 0, keepDim: true).values }, inputs: [Self.x43]).passed)
        #expect(gradcheck({ $0[0].amax(dims: [0, 2], keepDim: true) }, inputs: [Self.x232]).passed)
        #expect(gradcheck({ $0[0].amin(dims: [-1, 0]) }, inputs: [Self.x232]).passed)
        #expect(gradcheck({ $0[0].t().amax(dim: 1) }, inputs: [Self.x43]).passed)
        #expect(gradgradcheck({ $0[0].max(dim: 1).values * $0[0].amax(dim: 1) }, inputs: [Self.x34]).passed)
    }

    @Test func gradcheckStatistics() {
        #expect(gradcheck({ $0[0].var() }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].var(dims: [0, 2], correction: 2, keepDim: true) }, inputs: [Self.x232]).passed)
        #expect(gradcheck({ $0[0].std(dim: -1, unbiased: false) }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].t().std(dim: 0, keepDim: true) }, inputs: [Self.x43]).passed)
        #expect(gradgradcheck({ $0[0].std(dim: 1) }, inputs: [Self.x34]).passed)
        let (v, m) = varMean(Self.x34, dims: [1])
        #expect(allClose(v, Self.x34.var(dim: 1)).ok && allClose(m, Self.x34.mean(dim: 1)).ok)
    }

    @Test func gradcheckNorm() {
        for p in [1.0, 2, 3, 0.5, .infinity, -.infinity] {
            #expect(gradcheck({ $0[0].norm(p: p, dim: 1) }, inputs: [Self.x34]).passed, "p = \(p)")
            #expect(gradcheck({ $0[0].norm(p: p, dims: [0, 2], keepDim: true) }, inputs: [Self.x232]).passed, "p = \(p)")
        }
        #expect(gradcheck({ $0[0].t().norm() }, inputs: [Self.x43]).passed)
        #expect(gradgradcheck({ $0[0].norm(dim: 1) }, inputs: [Self.x34]).passed)
        #expect(gradgradcheck({ $0[0].norm(p: 3, dim: 1) }, inputs: [Self.x34]).passed)
    }

    @Test func normGradientIsZeroAtZero() {
        let x = Tensor.zeros([3], dtype: .float64, requiresGrad: true)
        let g = gradients(of: [x.norm()], wrt: [x])[0]!
        #expect(g.toDoubleArray() == [0, 0, 0])
        let gs = gradients(of: [x.std()], wrt: [x])[0]!
        #expect(gs.toDoubleArray() == [0, 0, 0])
    }

    @Test func gradcheckLogsumexpAndScans() {
        #expect(gradcheck({ $0[0].logsumexp(dim: 1) }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].logsumexp(dims: [0, -1], keepDim: true) }, inputs: [Self.x232]).passed)
        #expect(gradcheck({ $0[0].t().logsumexp(dim: 0) }, inputs: [Self.x43]).passed)
        #expect(gradgradcheck({ $0[0].logsumexp(dim: 1) }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].cumsum(dim: 1) }, inputs: [Self.x34]).passed)
        #expect(gradcheck({ $0[0].t().cumsum(dim: -1) }, inputs: [Self.x43]).passed)
        #expect(gradcheck({ $0[0].cumprod(dim: 0) }, inputs: [Self.x232]).passed)
        #expect(gradgradcheck({ $0[0].cumprod(dim: 1) }, inputs: [Self.x34]).passed)
        let zeros = Tensor([[1.5, 0, 2, -1], [0.5, 2, 0, 0]], dtype: .float64)
        #expect(gradcheck({ $0[0].cumprod(dim: 1) }, inputs: [zeros]).passed)
    }

    @Test func shapesAndDtypes() {
        let x = Tensor.randn([2, 3, 4])
        #expect(x.max().shape == [])
        #expect(x.max(dim: 1).values.shape == [2, 4] && x.max(dim: 1).indices.dtype == .int64)
        #expect(x.amax(dims: [0, 2], keepDim: true).shape == [1, 3, 1])
        #expect(x.argmax(keepDim: true).shape == [1, 1, 1])
        #expect(x.all().dtype == .bool && x.any(dim: 0).shape == [3, 4])
        #expect(x.var(dims: [0, 1]).shape == [4])
        #expect(x.norm(p: 1, dims: [-1], keepDim: true).shape == [2, 3, 1])
        #expect(x.cumsum(dim: 2).shape == [2, 3, 4])
        #expect(Tensor([1, 2, 3]).cumsum(dim: 0).dtype == .int64)
        #expect(Tensor([true, true]).prod().dtype == .int64)
        #expect(Tensor(5.0).max(dim: 0).values.item() == 5)
        #expect(Tensor([1.0, 2, 3]).prod().item() == 6)
        #expect(max(Tensor([1.0, 4, 2])).item() == 4)
        #expect(Tensor([1000.0, 1000]).logsumexp(dim: 0).item() > 1000.69)
        #expect(countNonzero(Tensor([[0, 1], [2, 0]])).item() == 2)
    }

    @Test func edgeCases() {
        let empty = Tensor.zeros([0, 3])
        #expect(empty.prod().item() == 1)
        #expect(empty.all().item() == 1 && empty.any().item() == 0)
        #expect(empty.amax(dim: 1).shape == [0])
        #expect(empty.cumsum(dim: 0).shape == [0, 3])
        #expect(Tensor([3, -7, 9]).max().toIntArray() == [9])
        #expect(Tensor([3, -7, 9]).max().dtype == .int64)
        #expect(Tensor([[1.0, .nan], [2, 3]]).max().item().isNaN)
        #expect(Tensor([4.0, 1, 3]).sort().values.toDoubleArray() == [1, 3, 4])
        #expect(Tensor([1.0]).var().item().isNaN)
    }

    static func stderrText(_ r: ExitTest.Result?) -> String {
        String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func badDimIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).max(dim: 2)
        }
        let text = Self.stderrText(r)
        #expect(text.contains("max") && text.contains("dimension 2 out of range"), "stderr: \(text)")
    }

    @Test func emptyMaxIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([0, 3]).max()
        }
        let text = Self.stderrText(r)
        #expect(text.contains("max") && text.contains("[0, 3]"), "stderr: \(text)")
    }

    @Test func largeReductionsSplitAcrossThreadsMatchAPlainLoop() {
        // 300 × 500 = 150 000 elements: above the threading threshold, so rows are reduced in chunks and merged.
        let x = Tensor.randn([300, 500], generator: Generator(seed: 11))
        let v = x.toDoubleArray()
        let byColumn = x.sum(dim: 0).toDoubleArray(), byRow = x.amax(dim: 1).toDoubleArray()
        for j in [0, 1, 250, 499] {
            let expected = (0..<300).reduce(0.0) { $0 + v[$1 * 500 + j] }
            #expect(abs(byColumn[j] - expected) < 1e-3)
        }
        for i in [0, 150, 299] {
            #expect(byRow[i] == (0..<500).map { v[i * 500 + $0] }.max()!)
        }
        // Reducing a transposed (non-contiguous) view and an int tensor take the same path.
        #expect(allClose(x.t().sum(dim: 1), x.sum(dim: 0), atol: 1e-4).ok)
        let ints = Tensor.randint(100, [400, 400], generator: Generator(seed: 3))
        #expect(ints.sum().item() == Double(ints.toIntArray().reduce(0, +)))
        // Deterministic: the split depends on sizes and thread count, not timing.
        #expect(x.sum(dim: 0).equal(x.sum(dim: 0)))
    }

    @Test func columnSumsOfContiguousTensorsMatchTheGenericPath() {
        // Summing the leading dims of a contiguous float tensor takes the column-sum kernel; the transposed
        // copy below takes the generic strided loop. Both accumulate in double, so they agree closely.
        for dtype in [DType.float32, .float64] {
            let x = Tensor.randn([70, 3, 251], dtype: dtype, generator: Generator(seed: 5))
            let generic = x.permute([2, 0, 1]).contiguous().permute([1, 2, 0])
            #expect(!generic.isContiguous)
            #expect(allClose(x.sum(dims: [0, 1]), generic.sum(dims: [0, 1]), rtol: 1e-6, atol: 1e-6).ok)
            #expect(allClose(x.sum(dim: 0, keepDim: true), generic.sum(dim: 0, keepDim: true), rtol: 1e-6, atol: 1e-6).ok)
            #expect(x.sum(dims: [0, 1]).shape == [251] && x.sum(dim: 0, keepDim: true).shape == [1, 3, 251])
            #expect(x.sum(dims: [0, 1], dtype: .float64).dtype == .float64)
        }
    }
}
