import Foundation
import Testing
import Nabla
import NablaTestSupport

/// `conv2d(_:prepared:...)`, the inference convolution with packed weights and a fused ReLU / 2x2 max pool, against
/// the separate ops it replaces: `maxPool2d(relu(conv2d(x, w, bias: b)), kernelSize: 2)`.
@Suite struct PreparedConvTests {
    /// One convolution: input [n, c, h, w], a k x k weight with oc output channels, and the conv arguments.
    struct Case: CustomStringConvertible, Sendable {
        var n: Int, c: Int, h: Int, w: Int, oc: Int, k: Int
        var stride = 1, padding = 0, dilation = 1, bias = true

        var description: String {
            "x [\(n), \(c), \(h), \(w)], w [\(oc), \(c), \(k), \(k)], stride \(stride), padding \(padding), dilation \(dilation)\(bias ? "" : ", no bias")"
        }
    }

    static let cases: [Case] = [
        Case(n: 3, c: 1, h: 28, w: 28, oc: 32, k: 3, padding: 1),             // W4's conv1: the direct small-K kernel
        Case(n: 1, c: 1, h: 28, w: 28, oc: 32, k: 3, padding: 1),
        Case(n: 1, c: 32, h: 14, w: 14, oc: 64, k: 3, padding: 1),            // W4's conv2, batch 1: Winograd by channels
        Case(n: 9, c: 32, h: 14, w: 14, oc: 64, k: 3, padding: 1),            // Winograd by tile rows
        Case(n: 2, c: 9, h: 7, w: 9, oc: 10, k: 3),                           // odd output sizes; channel tails
        Case(n: 1, c: 17, h: 6, w: 21, oc: 5, k: 3, padding: 2, bias: false), // padding 2; more than one vector per tile row
        Case(n: 2, c: 5, h: 9, w: 8, oc: 3, k: 3, stride: 2, padding: 1),     // stride 2: im2col + GEMM
        Case(n: 3, c: 4, h: 10, w: 11, oc: 6, k: 3, padding: 2, dilation: 2), // dilated: im2col + GEMM
        Case(n: 2, c: 8, h: 12, w: 12, oc: 7, k: 5, padding: 2),              // 5x5: im2col + GEMM
    ]

    static let epilogues = [ConvEpilogue.none, ConvEpilogue(relu: true), ConvEpilogue(maxPool2x2: true),
                            ConvEpilogue(relu: true, maxPool2x2: true)]

    /// The separate ops.
    static func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ t: Case, _ e: ConvEpilogue) -> Tensor {
        var y = conv2d(x, w, bias: b, stride: SpatialSize(t.stride), padding: .explicit(SpatialSize(t.padding)),
                       dilation: SpatialSize(t.dilation))
        if e.relu { y = relu(y) }
        if e.maxPool2x2 { y = maxPool2d(y, kernelSize: 2) }
        return y
    }

    /// Random operands of case `t`.
    static func operands(_ t: Case, dtype: DType, seed: UInt64) -> (Tensor, Tensor, Tensor?) {
        let g = Generator(seed: seed)
        let x = Tensor.randn([t.n, t.c, t.h, t.w], dtype: dtype, generator: g)
        let w = Tensor.randn([t.oc, t.c, t.k, t.k], dtype: dtype, generator: g) * 0.2
        let b: Tensor? = t.bias ? Tensor.randn([t.oc], dtype: dtype, generator: g) : nil
        return (x, w, b)
    }

    @Test(arguments: [DType.float32, DType.float64])
    func matchesTheSeparateOps(dtype: DType) {
        let tol = dtype == .float32 ? 1e-5 : 1e-12
        for (i, t) in Self.cases.enumerated() {
            let (x, w, b) = Self.operands(t, dtype: dtype, seed: UInt64(i))
            let prepared = PreparedConv2d(weight: w, bias: b)
            for e in Self.epilogues {
                let y = noGrad {
                    conv2d(x, prepared: prepared, stride: SpatialSize(t.stride), padding: SpatialSize(t.padding),
                           dilation: SpatialSize(t.dilation), epilogue: e)
                }
                let r = allClose(y, noGrad { Self.reference(x, w, b, t, e) }, rtol: tol, atol: tol)
                #expect(r.ok, "\(t), \(dtype), epilogue \(e): \(r.failure)")
            }
        }
    }

    /// Where the separate convolution runs the same algorithm (the direct kernel; Winograd on a batch of at least 256
    /// output tiles; im2col + GEMM), the fused epilogue gives the same bits: the pool takes its maximum before the
    /// bias, which rounds to the same value.
    @Test func fusedEpilogueIsExactWhereTheAlgorithmIsTheSame() {
        for i in [0, 3, 6, 8] {
            let t = Self.cases[i]
            let (x, w, b) = Self.operands(t, dtype: .float32, seed: 10 + UInt64(i))
            let prepared = PreparedConv2d(weight: w, bias: b)
            for e in Self.epilogues {
                let y = noGrad {
                    conv2d(x, prepared: prepared, stride: SpatialSize(t.stride), padding: SpatialSize(t.padding),
                           dilation: SpatialSize(t.dilation), epilogue: e)
                }
                #expect(y.toFloatArray() == noGrad { Self.reference(x, w, b, t, e) }.toFloatArray(), "\(t), epilogue \(e)")
            }
        }
    }

    /// NaN propagates through the fused pool as through `maxPool2d` (and ReLU keeps it).
    @Test func nanPropagatesThroughThePool() {
        let t = Self.cases[1]
        let (x, w, b) = Self.operands(t, dtype: .float32, seed: 3)
        var values = x.toFloatArray()
        values[5 * 28 + 7] = .nan
        let xn = Tensor(shape: x.shape, data: values)
        let e = ConvEpilogue(relu: true, maxPool2x2: true)
        let y = noGrad { conv2d(xn, prepared: PreparedConv2d(weight: w, bias: b), padding: 1, epilogue: e) }.toFloatArray()
        let r = noGrad { Self.reference(xn, w, b, t, e) }.toFloatArray()
        #expect(y.map(\.isNaN) == r.map(\.isNaN))
        #expect(y.contains { $0.isNaN })
    }

    /// With autograd recording, the separate differentiable ops run: the input's gradient is theirs.
    @Test func gradientsReachTheInput() {
        let t = Case(n: 2, c: 3, h: 8, w: 8, oc: 4, k: 3, padding: 1)
        let (x0, w, b) = Self.operands(t, dtype: .float64, seed: 7)
        let e = ConvEpilogue(relu: true, maxPool2x2: true)
        let x = x0.detached().requiresGrad_()
        let y = conv2d(x, prepared: PreparedConv2d(weight: w, bias: b), padding: 1, epilogue: e)
        #expect(y.requiresGrad)
        let g = gradients(of: [y.square().sum()], wrt: [x])[0]!
        let gr = gradients(of: [Self.reference(x, w, b, t, e).square().sum()], wrt: [x])[0]!
        #expect(allClose(g, gr, rtol: 1e-12, atol: 1e-12).ok)
        #expect(gradcheck({ conv2d($0[0], prepared: PreparedConv2d(weight: w), padding: 1, epilogue: e) }, inputs: [x0]).passed)
    }

    /// An unbatched input [C, H, W] gives [OC, oh, ow]; the prepared weights are detached from the originals.
    @Test func unbatchedInputAndDetachedWeights() {
        let w = Tensor.randn([4, 2, 3, 3]).requiresGrad_(), b = Tensor.randn([4]).requiresGrad_()
        let prepared = PreparedConv2d(weight: w, bias: b)
        #expect(!prepared.weight.requiresGrad && prepared.weight.shape == [4, 2, 3, 3] && prepared.bias?.shape == [4])
        let x = Tensor.randn([2, 6, 6])
        let y = noGrad { conv2d(x, prepared: prepared, padding: 1, epilogue: ConvEpilogue(maxPool2x2: true)) }
        #expect(y.shape == [4, 3, 3])
        let r = allClose(y, noGrad { maxPool2d(conv2d(x.unsqueeze(0), w, bias: b, padding: 1), kernelSize: 2).squeeze(0) })
        #expect(r.ok, "\(r.failure)")
        #expect(ConvEpilogue(relu: true, maxPool2x2: true).description == "relu+maxPool2x2")
        let same = ConvEpilogue.none.outputSize(height: 7, width: 5), pooled = ConvEpilogue(maxPool2x2: true).outputSize(height: 7, width: 5)
        #expect(same.height == 7 && same.width == 5 && pooled.height == 3 && pooled.width == 2)
    }

    /// A backend without its own prepared kernels (the reference backend) runs the default: `conv2d`, ReLU, max pool.
    @Test func referenceBackendRunsTheComposite() {
        let t = Self.cases[4]
        let (x, w, b) = Self.operands(t, dtype: .float32, seed: 5)
        let e = ConvEpilogue(relu: true, maxPool2x2: true)
        let prepared = PreparedConv2d(weight: w.to(.reference), bias: b?.to(.reference))
        let y = noGrad { conv2d(x.to(.reference), prepared: prepared, epilogue: e) }
        #expect(y.device == .reference)
        let r = allClose(y.cpu(), noGrad { Self.reference(x, w, b, t, e) }, rtol: 1e-5, atol: 1e-5)
        #expect(r.ok, "\(r.failure)")
    }

    @Test func wrongChannelsStopWithAClearMessage() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let prepared = PreparedConv2d(weight: Tensor.zeros([4, 3, 3, 3]))
            _ = conv2d(Tensor.zeros([1, 2, 8, 8]), prepared: prepared)
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("conv2d(prepared:)") && text.contains("[1, 2, 8, 8]") && text.contains("3 channels"), "stderr: \(text)")
    }

    @Test func aPoolOnTooSmallAnOutputStopsWithAClearMessage() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let prepared = PreparedConv2d(weight: Tensor.zeros([4, 3, 3, 3]))
            _ = conv2d(Tensor.zeros([1, 3, 3, 4]), prepared: prepared, epilogue: ConvEpilogue(maxPool2x2: true))
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("conv2d(prepared:)") && text.contains("2x2 max pool"), "stderr: \(text)")
    }
}
