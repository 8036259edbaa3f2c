import Testing
import Nabla
import NablaTestSupport

/// The CPU fast paths of conv and pool checked against the general paths they replace.
@Suite struct ConvFastPathTests {
    /// One small-K convolution case: input [n, c, h, w], weight [oc, c, kh, kw], and the conv arguments.
    struct Case {
        var n: Int, c: Int, h: Int, w: Int, oc: Int, kh: Int, kw: Int
        var stride: [Int] = [1, 1], padding: [Int] = [0, 0], dilation: [Int] = [1, 1], bias = true, transposedInput = false
    }

    static let cases: [Case] = [
        // Direct small-K kernel (K = C·kh·kw <= 32).
        Case(n: 3, c: 1, h: 7, w: 9, oc: 5, kh: 3, kw: 3, padding: [1, 1]),                          // channel and column tails
        Case(n: 2, c: 3, h: 11, w: 6, oc: 6, kh: 3, kw: 3, stride: [2, 1], padding: [0, 2], dilation: [1, 2], bias: false),
        Case(n: 1, c: 2, h: 5, w: 5, oc: 4, kh: 4, kw: 4, padding: [2, 1], transposedInput: true),   // K = 32, the largest
        Case(n: 16, c: 1, h: 28, w: 28, oc: 9, kh: 3, kw: 3, padding: [1, 1]),                       // split across threads
        Case(n: 2, c: 1, h: 1, w: 17, oc: 3, kh: 1, kw: 5, stride: [1, 3], padding: [0, 2]),        // conv1d-like
        // Chunked im2col + GEMM (K > 32).
        Case(n: 3, c: 5, h: 6, w: 7, oc: 3, kh: 3, kw: 3, padding: [1, 1], transposedInput: true),
        Case(n: 2, c: 3, h: 9, w: 8, oc: 4, kh: 3, kw: 4, stride: [2, 3], padding: [1, 2], dilation: [2, 1], bias: false),
        Case(n: 20, c: 32, h: 14, w: 14, oc: 6, kh: 3, kw: 3, padding: [1, 1]),                     // two chunks
        Case(n: 2, c: 4, h: 6, w: 9, oc: 3, kh: 3, kw: 3, padding: [2, 2], dilation: [2, 2]),      // "same", dilated
        Case(n: 2, c: 4, h: 5, w: 1, oc: 2, kh: 3, kw: 3, padding: [1, 1], bias: false),           // taps entirely outside
        // Winograd F(2x2, 3x3) in float32 (3x3, stride 1, padding <= 2, at least 256 output tiles over the batch);
        // float64 runs the chunked driver.
        Case(n: 8, c: 32, h: 14, w: 14, oc: 64, kh: 3, kw: 3, padding: [1, 1]),                    // W4's conv2, many blocks
        Case(n: 30, c: 9, h: 7, w: 8, oc: 10, kh: 3, kw: 3),                                     // channel tails, odd OH
        Case(n: 40, c: 17, h: 6, w: 5, oc: 5, kh: 3, kw: 3, padding: [2, 0], transposedInput: true), // panel tail, pad 2
        Case(n: 256, c: 8, h: 1, w: 1, oc: 8, kh: 3, kw: 3, padding: [1, 1], bias: false),         // one pixel per image
        Case(n: 10, c: 4, h: 9, w: 11, oc: 3, kh: 3, kw: 3, padding: [1, 2]),                     // odd sizes, wider output
        Case(n: 1, c: 32, h: 14, w: 14, oc: 16, kh: 3, kw: 3, padding: [1, 1]),                   // too few tiles: chunked
    ]

    /// The cases above reach each algorithm: the direct kernel for K <= 32, Winograd for float32 3x3 stride-1
    /// convolutions with padding <= 2 and at least 256 output tiles, and the chunked driver for the rest (and for
    /// float64).
    @Test func algorithmSelection() {
        func algorithm(_ c: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1, dilation: Int = 1,
                       dtype: DType = .float32, batch: Int = 8) -> ConvAlgorithm {
            let eff = dilation * (kernel - 1) + 1, o = (14 + 2 * padding - eff) / stride + 1
            let g = ConvGeometry(batch: batch, channels: c, height: 14, width: 14, kernelH: kernel, kernelW: kernel,
                                 strideH: stride, strideW: stride, padH: padding, padW: padding,
                                 dilationH: dilation, dilationW: dilation, outH: o, outW: o)
            return ConvAlgorithm(g, dtype: dtype)
        }
        #expect(algorithm(1) == .smallK)
        #expect(algorithm(32) == .winograd)
        #expect(algorithm(32, padding: 2) == .winograd)
        #expect(algorithm(32, padding: 3) == .chunked)
        #expect(algorithm(32, dtype: .float64) == .chunked)
        #expect(algorithm(32, stride: 2) == .chunked)
        #expect(algorithm(32, dilation: 2) == .chunked)
        #expect(algorithm(32, kernel: 5) == .chunked)
        #expect(algorithm(32, batch: 6) == .winograd)       // 6 · 7 · 7 = 294 output tiles
        #expect(algorithm(32, batch: 5) == .chunked)        // 245: too few
    }

    /// `conv2d` (groups 1: the direct kernel, Winograd or the chunked driver) against the same convolution computed by the
    /// grouped im2col / batched-GEMM path: groups 2 over the input twice, the second group with zero weights.
    @Test(arguments: [DType.float32, DType.float64])
    func directConvolutionMatchesGroupedPath(dtype: DType) {
        let tol = dtype == .float32 ? 1e-4 : 1e-10
        for t in Self.cases {
            let x = (t.transposedInput ? Tensor.randn([t.n, t.c, t.w, t.h], dtype: dtype).transpose(2, 3)
                                       : Tensor.randn([t.n, t.c, t.h, t.w], dtype: dtype)).requiresGrad_()
            let w = Tensor.randn([t.oc, t.c, t.kh, t.kw], dtype: dtype).requiresGrad_()
            let b: Tensor? = t.bias ? Tensor.randn([t.oc], dtype: dtype).requiresGrad_() : nil
            func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, groups: Int) -> Tensor {
                conv2d(x, w, bias: b, stride: SpatialSize(t.stride), padding: .explicit(SpatialSize(t.padding)),
                       dilation: SpatialSize(t.dilation), groups: groups)
            }
            let y = conv(x, w, b, groups: 1)
            let bias2 = b.map { cat([$0, Tensor.zeros([t.oc], dtype: dtype)]) }
            let yr = conv(cat([x, x], dim: 1), cat([w, Tensor.zeros(w.shape, dtype: dtype)]), bias2, groups: 2).narrow(1, start: 0, length: t.oc)
            let r = allClose(y, yr, rtol: tol, atol: tol)
            #expect(r.ok, "\(t) \(dtype) output: \(r.failure)")
            let up = Tensor.randn(y.shape, dtype: dtype)
            let wrt = [x, w] + (b.map { [$0] } ?? [])
            let g = gradients(of: [(y * up).sum()], wrt: wrt), gr = gradients(of: [(yr * up).sum()], wrt: wrt)
            for (i, (a, e)) in zip(g, gr).enumerated() {
                let rg = allClose(a!, e!, rtol: tol * 10, atol: tol * 10)
                #expect(rg.ok, "\(t) \(dtype) grad \(i): \(rg.failure)")
            }
        }
    }

    /// Frozen weights or an input that needs no gradient: only the gradients asked for are produced, and they agree
    /// with the grouped path. Both the direct kernel (2 channels, K = 18) and the chunked driver (4 channels, K = 36).
    @Test(arguments: [2, 4])
    func directConvolutionPartialGradients(channels c: Int) {
        let x = Tensor.randn([4, c, 6, 5], dtype: .float64), w = Tensor.randn([3, c, 3, 3], dtype: .float64)
        let b = Tensor.randn([3], dtype: .float64)
        let w2 = cat([w, Tensor.zeros(w.shape, dtype: .float64)])
        func loss(_ x: Tensor, _ b: Tensor, grouped: Bool) -> Tensor {
            grouped ? conv2d(cat([x, x], dim: 1), w2, bias: cat([b, Tensor.zeros([3], dtype: .float64)]), padding: 1, groups: 2)
                .narrow(1, start: 0, length: 3).square().sum()
                    : conv2d(x, w, bias: b, padding: 1).square().sum()
        }
        let xg = x.detached().requiresGrad_()
        let gx = gradients(of: [loss(xg, b, grouped: false)], wrt: [xg])[0]!
        let gxr = gradients(of: [loss(xg, b, grouped: true)], wrt: [xg])[0]!
        #expect(allClose(gx, gxr, rtol: 1e-10, atol: 1e-10).ok)
        let bg = b.detached().requiresGrad_()
        let gb = gradients(of: [loss(x, bg, grouped: false)], wrt: [bg])[0]!
        let gbr = gradients(of: [loss(x, bg, grouped: true)], wrt: [bg])[0]!
        #expect(allClose(gb, gbr, rtol: 1e-10, atol: 1e-10).ok)
    }

    /// Gradient checks and second-order gradients through the direct op (its backward under createGraph is the
    /// differentiable composition), on the small-K kernel (1 channel) and the chunked driver (7 channels, K = 42).
    @Test(arguments: [1, 7])
    func directConvolutionGradcheck(channels c: Int) {
        let x = Tensor.randn([2, c, 5, 4], dtype: .float64), w = Tensor.randn([3, c, 3, 2], dtype: .float64)
        let b = Tensor.randn([3], dtype: .float64)
        #expect(gradcheck({ conv2d($0[0], $0[1], bias: $0[2], stride: [2, 1], padding: 1) }, inputs: [x, w, b]).passed)
        #expect(gradgradcheck({ conv2d($0[0], $0[1], bias: $0[2], padding: [1, 0], dilation: [1, 2]) }, inputs: [x, w, b]).passed)
    }

    /// The float32 2x2 / stride-2 max pool kernel against the general kernel (float64): odd sizes, ties, NaN, -inf.
    @Test func maxPool2x2MatchesGeneralKernel() {
        var values = (0..<(3 * 4 * 7 * 9)).map { _ in Double(Int.random(in: -3...3)) }   // many ties
        values[5] = .nan; values[70] = .nan; values[71] = .nan; values[200] = -.infinity; values[300] = .infinity
        for i in stride(from: 400, to: 420, by: 1) { values[i] = -.infinity }
        let x64 = Tensor(shape: [3, 4, 7, 9], data: values, dtype: .float64)
        let x32 = x64.to(.float32)
        let (v32, i32) = maxPool2dWithIndices(x32, kernelSize: 2)
        let (v64, i64) = maxPool2dWithIndices(x64, kernelSize: 2)
        #expect(v32.shape == [3, 4, 3, 4])
        #expect(allClose(v32.to(.float64), v64, rtol: 0, atol: 0).ok)
        #expect(i32.toArray(Int64.self) == i64.toArray(Int64.self))
        // Rows of 4-7 outputs (4-wide vectors), 8 and more (8-wide), with an overlapping last vector, and 1-3 (scalar).
        for shape in [[2, 3, 14, 28], [2, 3, 28, 14], [2, 3, 6, 22], [2, 3, 4, 16], [1, 2, 5, 6], [1, 2, 3, 17]] {
            var vs = (0..<shape.reduce(1, *)).map { _ in Double(Int.random(in: -3...3)) }
            for k in stride(from: 3, to: vs.count, by: 37) { vs[k] = .nan }
            let a64 = Tensor(shape: shape, data: vs, dtype: .float64)
            let (a, ai) = maxPool2dWithIndices(a64.to(.float32), kernelSize: 2)
            let (r, ri) = maxPool2dWithIndices(a64, kernelSize: 2)
            #expect(allClose(a.to(.float64), r, rtol: 0, atol: 0).ok, "\(shape)")
            #expect(ai.toArray(Int64.self) == ri.toArray(Int64.self), "\(shape)")
        }
        // Large enough to split across threads, with a non-contiguous input.
        let big = Tensor.randn([8, 16, 30, 22]).transpose(2, 3)
        let (bv, bi) = maxPool2dWithIndices(big, kernelSize: 2)
        let (rv, ri) = maxPool2dWithIndices(big.to(.float64), kernelSize: 2)
        #expect(allClose(bv.to(.float64), rv, rtol: 0, atol: 0).ok)
        #expect(bi.toArray(Int64.self) == ri.toArray(Int64.self))
        let xg = big.detached().requiresGrad_(), xr = big.to(.float64).requiresGrad_()
        let up = Tensor.randn(bv.shape, dtype: .float64)
        let g = gradients(of: [(maxPool2d(xg, kernelSize: 2) * up.to(.float32)).sum()], wrt: [xg])[0]!
        let gr = gradients(of: [(maxPool2d(xr, kernelSize: 2) * up).sum()], wrt: [xr])[0]!
        #expect(allClose(g.to(.float64), gr, rtol: 1e-6, atol: 1e-6).ok)
    }
}
