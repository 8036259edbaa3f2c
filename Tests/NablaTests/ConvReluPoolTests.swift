import Testing
import Nabla
import NablaTestSupport

/// The fused convolution block of compiled training graphs: `conv2dReluMaxPool` gives the values and indices of
/// `conv2d`, `relu` and `maxPool2d` bit for bit, `maxPool2dReluBackward` the gradient of the pool and the ReLU bit
/// for bit, and the compiler fuses both in a training step whose losses and weights stay eager's.
@Suite struct ConvReluPoolTests {
    /// One block: input [n, c, h, w], weight [oc, c, k, k], padding `pad`, and whether it has a bias.
    struct Case: CustomStringConvertible {
        var n: Int, c: Int, h: Int, w: Int, oc: Int, k = 3, pad = 1, bias = true
        var description: String { "x[\(n), \(c), \(h), \(w)] * w[\(oc), \(c), \(k), \(k)] pad \(pad)\(bias ? " + b" : "")" }
    }

    static let cases: [Case] = [
        Case(n: 9, c: 1, h: 28, w: 28, oc: 8),                    // W4's first conv: the direct small-K kernel, one block
        Case(n: 37, c: 1, h: 28, w: 28, oc: 32),                  // small K, blocks of 5 images and a remainder per thread
        Case(n: 20, c: 8, h: 14, w: 14, oc: 16),                  // Winograd, one block per thread
        Case(n: 45, c: 8, h: 14, w: 14, oc: 64),                  // Winograd, blocks of 10 images and a remainder
        Case(n: 12, c: 8, h: 15, w: 13, oc: 4, bias: false),      // Winograd, odd output: the pool drops the last row and column
        Case(n: 3, c: 2, h: 9, w: 7, oc: 5, pad: 0),              // small K, odd output without padding
        Case(n: 2, c: 4, h: 10, w: 10, oc: 3, k: 5, pad: 2),      // K = 100, not 3x3: the composite
    ]

    /// The 2x2, stride-2 windows over an `h` x `w` plane (floor mode).
    static func windows(_ h: Int, _ w: Int) -> PoolWindows {
        PoolWindows(height: h, width: w, rowStart: (0..<h / 2).map { 2 * $0 }, rowCount: Array(repeating: 2, count: h / 2),
                    rowDilation: 1, colStart: (0..<w / 2).map { 2 * $0 }, colCount: Array(repeating: 2, count: w / 2), colDilation: 1)
    }

    static func operands(_ t: Case, dtype: DType, seed: UInt64) -> (x: Tensor, w: Tensor, b: Tensor?) {
        let g = Generator(seed: seed)
        let x = Tensor.randn([t.n, t.c, t.h, t.w], generator: g).to(dtype)
        let w = (Tensor.randn([t.oc, t.c, t.k, t.k], generator: g) * 0.3).to(dtype)
        return (x, w, t.bias ? Tensor.randn([t.oc], generator: g).to(dtype) : nil)
    }

    @Test(arguments: cases, [DType.float32, .float64])
    func theFusedBlockGivesTheSeparateOpsValuesAndIndices(_ t: Case, _ dtype: DType) {
        let (x, w, b) = Self.operands(t, dtype: dtype, seed: 3)
        let (expected, expectedIndices) = noGrad {
            maxPool2dWithIndices(relu(conv2d(x, w, bias: b, padding: .explicit(SpatialSize(t.pad)))), kernelSize: 2)
        }
        let oh = t.h + 2 * t.pad - t.k + 1, ow = t.w + 2 * t.pad - t.k + 1
        let geometry = ConvGeometry(batch: t.n, channels: t.c, height: t.h, width: t.w, kernelH: t.k, kernelW: t.k, strideH: 1,
                                    strideW: 1, padH: t.pad, padW: t.pad, dilationH: 1, dilationW: 1, outH: oh, outW: ow)
        let out = Tensor(empty: expected.shape, dtype: dtype), indices = Tensor(empty: expected.shape, dtype: .int64)
        Device.cpu.backend.conv2dReluMaxPool(x, weight: w, bias: b, geometry: geometry, windows: Self.windows(oh, ow),
                                             out: out, indices: indices)
        #expect(out.toArray(Double.self) == expected.toArray(Double.self), "\(t): values differ from conv2d, relu, maxPool2d")
        #expect(indices.toArray(Int64.self) == expectedIndices.toArray(Int64.self), "\(t): indices differ")
    }

    @Test(arguments: [(6, 28, 28), (5, 15, 13), (3, 9, 7), (4, 2, 3)], [DType.float32, .float64])
    func thePoolAndReluGradientIsTheSeparateOpsGradient(_ shape: (Int, Int, Int), _ dtype: DType) {
        let (planes, h, w) = shape
        let g = Generator(seed: 7)
        var values = Tensor.randn([planes, h, w], generator: g).toArray(Double.self)
        // A NaN, a zero and a negative zero: the pool picks them and the ReLU's mask drops them.
        values[0] = .nan; values[1] = 0; values[w] = -0.0
        let a = Tensor(shape: [planes, h, w], data: values, dtype: dtype, requiresGrad: true)
        let (pooled, indices) = maxPool2dWithIndices(relu(a), kernelSize: 2)
        let upstream = Tensor.randn(pooled.shape, generator: g).to(dtype)
        pooled.backward(gradient: upstream)
        let out = Tensor(empty: a.shape, dtype: dtype)
        Device.cpu.backend.maxPool2dReluBackward(upstream, pooled: pooled.detach(), indices: indices, windows: Self.windows(h, w), out: out)
        let expected = a.grad!.toArray(Double.self), actual = out.toArray(Double.self)
        #expect(actual == expected, "[\(planes), \(h), \(w)] \(dtype): the fused gradient differs")
        #expect(zip(actual, expected).allSatisfy { $0.sign == $1.sign }, "signs of zeros differ")
    }

    @Test(arguments: [DType.float32, .float64])
    func aCompiledTrainingStepFusesTheBlockAndKeepsEagersResults(_ dtype: DType) throws {
        func run(compiled: Bool) throws -> ([Double], [Double], CompiledFunction?) {
            let g = Generator(seed: 11)
            let w1 = (Tensor.randn([8, 1, 3, 3], generator: g) * 0.3).to(dtype).requiresGrad_()
            let w2 = (Tensor.randn([16, 8, 3, 3], generator: g) * 0.1).to(dtype).requiresGrad_()
            let b2 = (Tensor.randn([16], generator: g) * 0.1).to(dtype).requiresGrad_()
            let x = Tensor.randn([24, 1, 12, 12], generator: g).to(dtype)
            let step = { (x: Tensor) -> Tensor in
                for p in [w1, w2, b2] { p.grad = nil }
                let h = maxPool2d(relu(conv2d(x, w1, padding: 1)), kernelSize: 2)
                let loss = maxPool2d(relu(conv2d(h, w2, bias: b2, padding: 1)), kernelSize: 2).pow(2).mean()
                loss.backward()
                noGrad { for p in [w1, w2, b2] { p.sub_(p.grad! * 0.1) } }
                return loss
            }
            let c = compiled ? compile(name: "block", step) : nil
            let losses = (0..<4).map { _ in (c.map { $0(x) } ?? step(x)).item() }
            return (losses, [w1, w2, b2].flatMap { $0.detach().toArray(Double.self) }, c)
        }
        let (eagerLosses, eagerWeights, _) = try run(compiled: false)
        let (losses, weights, c) = try run(compiled: true)
        #expect(losses == eagerLosses, "\(dtype): compiled losses \(losses) against eager \(eagerLosses)")
        #expect(weights == eagerWeights, "\(dtype): weights after 4 compiled steps differ from eager's")
        let graph = try #require(c?.graph)
        let kinds = graph.nodes.map { "\($0.kind)" }
        #expect(kinds.filter { $0.hasPrefix("conv2d+relu+maxPool2d(k: 3x3") }.count == 2, "\(graph)")
        #expect(kinds.filter { $0 == "maxPool2d+reluBackward" }.count == 2, "\(graph)")
        #expect(!kinds.contains("relu") && !kinds.contains("maxPool2d") && !kinds.contains("maxPool2dBackward"), "\(graph)")
        #expect(graph.passLog.contains("convolution blocks: 2 conv2d + relu + maxPool2d fused"), "\(graph.passLog)")
        #expect(graph.passLog.contains("max-pool gradients: 2 thresholdBackward + maxPool2dBackward fused"), "\(graph.passLog)")
    }

    /// A training step of one convolution, weight [4, 2, 3, 3] and bias [4] (both requiring gradients): `loss` of
    /// (input, weight, bias), its backward, compiled and run twice on an input [2, 2, 8, 8]. Returns the eager step,
    /// the compiled function, its graph and the input.
    static func compiledConvStep(seed: UInt64, _ loss: @escaping (Tensor, Tensor, Tensor) -> Tensor) throws
        -> (eager: (Tensor) -> Tensor, compiled: CompiledFunction, graph: CompiledGraph, x: Tensor) {
        let g = Generator(seed: seed)
        let w = (Tensor.randn([4, 2, 3, 3], generator: g) * 0.3).requiresGrad_()
        let b = Tensor.randn([4], generator: g).requiresGrad_()
        let f = { (x: Tensor) -> Tensor in
            w.grad = nil; b.grad = nil
            let l = loss(x, w, b)
            l.backward()
            return l
        }
        let c = compile(f)
        let x = Tensor.randn([2, 2, 8, 8], generator: g)
        _ = c(x); _ = c(x)
        return (f, c, try #require(c.graph), x)
    }

    @Test func aReluOutputReadElsewhereKeepsTheOpsApart() throws {
        let (f, c, graph, x) = try Self.compiledConvStep(seed: 13) { x, w, _ in
            let y = relu(conv2d(x, w, padding: 1))
            return maxPool2d(y, kernelSize: 2).sum() + y.mean()
        }
        #expect(!graph.nodes.contains { "\($0.kind)".hasPrefix("conv2d+relu") }, "\(graph)")
        let r = allClose(c(x), f(x))
        #expect(r.ok, "\(r.failure)")
    }
}
