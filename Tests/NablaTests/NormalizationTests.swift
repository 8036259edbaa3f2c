import Foundation
import Testing
import Nabla
import NablaTestSupport

/// Runs case `name` of `Tests/Fixtures/norm.json` through `f` (floating inputs require grad), comparing
/// every output and the gradients of `sum(outputs[0] * upstream)` with PyTorch's.
func checkNormFixture(_ name: String, rtol: Double = 1e-7, atol: Double = 1e-9, _ f: ([Tensor]) -> [Tensor]) {
    let c = NormalizationTests.fixture[name]
    let inputs = c.inputs.map { fx -> Tensor in
        let t = fx.tensor
        return t.dtype.isFloatingPoint ? t.requiresGrad_() : t
    }
    let outs = f(inputs)
    #expect(outs.count == c.outputs.count, "\(name): \(outs.count) outputs, expected \(c.outputs.count)")
    for (k, (o, e)) in zip(outs, c.outputs).enumerated() {
        let r = allClose(o, e.tensor, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name) output \(k): \(r.failure)")
    }
    // Last (deferred): the compiled runs update running statistics that are inputs of the case.
    defer { expectCompiledMatchesEager(name, inputs.map { $0.detached() }, f) }
    guard let grads = c.grads, let up = c.upstream else { return }
    let diff = inputs.filter { $0.dtype.isFloatingPoint }
    let gs = gradients(of: [(outs[0] * up.tensor).sum()], wrt: diff, allowUnused: true)
    for (i, (g, e)) in zip(gs, grads).enumerated() {
        let r = allClose(g ?? Tensor.zerosLike(diff[i]), e.tensor, rtol: rtol, atol: atol)
        #expect(r.ok, "\(name) grad \(i): \(r.failure)")
    }
}

/// batchNorm, layerNorm and groupNorm: PyTorch values, running statistics, gradcheck, second order.
@Suite struct NormalizationTests {
    static let fixture = loadFixture("norm")
    /// The running statistics every batch-norm fixture case starts from (as in Scripts/fixtures/norm.py).
    static func initialStats(_ dtype: DType = .float64) -> (Tensor, Tensor) {
        (Tensor([0.1, -0.2, 0.3], dtype: dtype), Tensor([1.0, 0.5, 2.0], dtype: dtype))
    }

    @Test func layerNormMatchesPyTorch() {
        checkNormFixture("layer_norm") { [layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2])] }
        checkNormFixture("layer_norm_2d_nobias") { [layerNorm($0[0], normalizedShape: [3, 4], weight: $0[1])] }
        checkNormFixture("layer_norm_noaffine") { [layerNorm($0[0], normalizedShape: [5], eps: 1e-3)] }
    }

    @Test func groupNormMatchesPyTorch() {
        checkNormFixture("group_norm") { [groupNorm($0[0], numGroups: 3, weight: $0[1], bias: $0[2])] }
        checkNormFixture("group_norm_noaffine") { [groupNorm($0[0], numGroups: 2)] }
    }

    @Test func batchNormTrainingMatchesPyTorchAndUpdatesRunningStats() {
        for (name, momentum) in [("batch_norm_train_2d", 0.1), ("batch_norm_train_1d", 0.3)] {
            checkNormFixture(name) { x in
                let (rm, rv) = Self.initialStats()
                let y = batchNorm(x[0], runningMean: rm, runningVar: rv, weight: x[1], bias: x[2], training: true, momentum: momentum)
                #expect(!rm.requiresGrad && !rv.requiresGrad)
                return [y, rm, rv]
            }
        }
    }

    @Test func batchNormEvalUsesRunningStats() {
        checkNormFixture("batch_norm_eval") { x in
            let (rm, rv) = Self.initialStats()
            let y = batchNorm(x[0], runningMean: rm, runningVar: rv, weight: x[1], bias: x[2], training: false)
            #expect(rm.toDoubleArray() == [0.1, -0.2, 0.3], "eval must not change the running mean")
            return [y]
        }
    }

    @Test func float32AgreesWithFloat64() {
        let x = Tensor.randn([3, 4, 5], dtype: .float64, generator: Generator(seed: 7))
        let w = Tensor.randn([4], dtype: .float64, generator: Generator(seed: 8))
        let b = Tensor.randn([4], dtype: .float64, generator: Generator(seed: 9))
        let pairs: [(Tensor, Tensor)] = [
            (layerNorm(x, normalizedShape: [5]), layerNorm(x.to(.float32), normalizedShape: [5])),
            (groupNorm(x, numGroups: 2, weight: w, bias: b), groupNorm(x.to(.float32), numGroups: 2, weight: w.to(.float32), bias: b.to(.float32))),
            (batchNorm(x, runningMean: nil, runningVar: nil, weight: w, bias: b, training: true),
             batchNorm(x.to(.float32), runningMean: nil, runningVar: nil, weight: w.to(.float32), bias: b.to(.float32), training: true)),
        ]
        for (d, f) in pairs {
            #expect(f.dtype == .float32)
            let r = allClose(f.to(.float64), d, rtol: 1e-4, atol: 1e-5)
            #expect(r.ok, "\(r.failure)")
        }
    }

    @Test func gradcheckLayerNorm() {
        let x = Tensor.randn([3, 2, 4], dtype: .float64), w = Tensor.randn([4], dtype: .float64), b = Tensor.randn([4], dtype: .float64)
        #expect(gradcheck({ layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2]) }, inputs: [x, w, b]).passed)
        // Non-contiguous input, two normalised dims, no affine.
        // gradcheck makes inputs contiguous: transpose inside the function.
        let xt = Tensor.randn([4, 3], dtype: .float64)
        #expect(gradcheck({ layerNorm($0[0].t(), normalizedShape: [3, 4]) }, inputs: [xt]).passed)
        #expect(gradcheck({ layerNorm($0[0].t(), normalizedShape: [4]) }, inputs: [xt]).passed)
    }

    @Test func gradcheckGroupNorm() {
        let x = Tensor.randn([2, 4, 3], dtype: .float64), w = Tensor.randn([4], dtype: .float64), b = Tensor.randn([4], dtype: .float64)
        #expect(gradcheck({ groupNorm($0[0], numGroups: 2, weight: $0[1], bias: $0[2]) }, inputs: [x, w, b]).passed)
        let xp = Tensor.randn([2, 3, 4], dtype: .float64)
        #expect(gradcheck({ groupNorm($0[0].permute(0, 2, 1), numGroups: 4) }, inputs: [xp]).passed)   // non-contiguous (2, 4, 3)
    }

    @Test func gradcheckBatchNorm() {
        let x = Tensor.randn([4, 3, 2], dtype: .float64), w = Tensor.randn([3], dtype: .float64), b = Tensor.randn([3], dtype: .float64)
        #expect(gradcheck({ batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true) },
                          inputs: [x, w, b]).passed)
        let (rm, rv) = Self.initialStats()
        #expect(gradcheck({ batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2], training: false) },
                          inputs: [x, w, b]).passed)
        let x2 = Tensor.randn([3, 5], dtype: .float64)
        #expect(gradcheck({ batchNorm($0[0].t(), runningMean: nil, runningVar: nil, training: true) }, inputs: [x2]).passed)
    }

    @Test func backwardIsDifferentiable() {
        // gradcheck of the gradient itself (createGraph): exercises the recomputed statistics.
        let v = Tensor.randn([2, 3, 4], dtype: .float64, generator: Generator(seed: 3))
        let ops: [(Tensor, Tensor) -> Tensor] = [
            { layerNorm($0, normalizedShape: [4], weight: $1) },
            { groupNorm($0, numGroups: 3, weight: $1.narrow(0, start: 0, length: 3)) },
            { batchNorm($0, runningMean: nil, runningVar: nil, weight: $1.narrow(0, start: 0, length: 3), training: true) },
        ]
        for op in ops {
            let r = gradcheck({ args in
                // gradcheck's numerical pass runs without grad: give it leaves of its own.
                let (x, w) = args[0].requiresGrad ? (args[0], args[1]) : (args[0].detached().requiresGrad_(), args[1].detached().requiresGrad_())
                return enableGrad {
                    let y = op(x, w)
                    let g = gradients(of: [(y * y * v).sum()], wrt: [x, w], createGraph: true)
                    return g[0]! * 1.5 + g[1]!.sum()
                }
            }, inputs: [Tensor.randn([2, 3, 4], dtype: .float64), Tensor.randn([4], dtype: .float64)])
            #expect(r.passed, "\(r)")
        }
    }

    @Test func forwardModeMatchesFiniteDifferences() {
        let x = Tensor.randn([3, 2, 4], dtype: .float64, generator: Generator(seed: 21))
        let t = Tensor.randn([3, 2, 4], dtype: .float64, generator: Generator(seed: 22))
        let fs: [(Tensor) -> Tensor] = [
            { layerNorm($0, normalizedShape: [4]) }, { groupNorm($0, numGroups: 2) },
            { batchNorm($0, runningMean: nil, runningVar: nil, training: true) },
        ]
        for f in fs {
            let (_, tangent) = jvp({ f($0[0]) }, primals: [x], tangents: [t])
            let fd = (f(x + t * 1e-6) - f(x - t * 1e-6)) / 2e-6
            let r = allClose(tangent, fd, rtol: 1e-5, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
    }

    @Test func outputsAreFreedWithTheirGraph() {
        let x = Tensor.randn([4, 3, 2], requiresGrad: true), w = Tensor.ones([3], requiresGrad: true)
        weak var a: Tensor?, b: Tensor?, c: Tensor?
        do {
            let ya = layerNorm(x, normalizedShape: [2]), yb = groupNorm(x, numGroups: 3, weight: w)
            let yc = batchNorm(x, runningMean: Tensor.zeros([3]), runningVar: Tensor.ones([3]), weight: w, training: true)
            a = ya; b = yb; c = yc
            #expect(a != nil && b != nil && c != nil)
        }
        #expect(a == nil && b == nil && c == nil, "the backward closures must not capture the outputs")
    }

    @Test func statisticsAreNormalised() {
        let x = Tensor.randn([64, 128]) * 3 + 5
        let y = layerNorm(x, normalizedShape: [128])
        let m = y.mean(dims: [1]).abs().max().item(), s = y.var(dims: [1], correction: 0)
        #expect(m < 1e-4)
        #expect((s - 1).abs().max().item() < 1e-3)
        let z = batchNorm(x.reshape([64, 8, 16]), runningMean: nil, runningVar: nil, training: true)
        #expect(z.mean(dims: [0, 2]).abs().max().item() < 1e-4)
    }
}
