import Testing
import Nabla
import NablaTestSupport

let convFixture = loadFixture("conv")

/// Runs fixture case `name` of conv.json through `f` (see `expectMatchesFixture`).
func expectMatchesConvFixture(_ name: String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ f: ([Tensor]) -> [Tensor]) {
    expectMatchesFixture(convFixture, name, sourceLocation: sourceLocation, f)
}

@Suite struct ConvTests {
    @Test func conv2dMatchesPyTorch() {
        expectMatchesConvFixture("conv2d_basic") { [conv2d($0[0], $0[1], bias: $0[2])] }
        expectMatchesConvFixture("conv2d_stride_pad") { [conv2d($0[0], $0[1], bias: $0[2], stride: [2, 1], padding: [1, 2])] }
        expectMatchesConvFixture("conv2d_dilation_groups") { [conv2d($0[0], $0[1], padding: 1, dilation: [2, 1], groups: 2)] }
        expectMatchesConvFixture("conv2d_same_even") { [$0[0].conv2d($0[1], padding: .same)] }
    }

    @Test func conv1dMatchesPyTorch() {
        expectMatchesConvFixture("conv1d") { [conv1d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1, dilation: 2)] }
        expectMatchesConvFixture("conv1d_groups_same") { [conv1d($0[0], $0[1], padding: .same, groups: 3)] }
    }

    @Test func convTranspose2dMatchesPyTorch() {
        expectMatchesConvFixture("conv_transpose2d") {
            [convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)]
        }
        expectMatchesConvFixture("conv_transpose2d_groups_dilation") {
            [convTranspose2d($0[0], $0[1], stride: [1, 2], groups: 2, dilation: 2)]
        }
    }

    @Test func padMatchesPyTorch() {
        expectMatchesConvFixture("pad") { [pad($0[0], [1, 2, -1, 1], value: 0.5)] }
        expectMatchesConvFixture("pad_reflect") { [pad($0[0], [2, 1, 1, 3], mode: .reflect)] }
        expectMatchesConvFixture("pad_replicate") { [$0[0].pad([2, 1, 1, 3], mode: .replicate)] }
        expectMatchesConvFixture("pad_circular") { [pad($0[0], [2, 1, 1, 3], mode: .circular)] }
        expectMatchesConvFixture("pad_reflect_1d") { [pad($0[0], [3, 2], mode: .reflect)] }
    }

    @Test func padModesMatchTheirDefinitionsAndPassGradcheck() {
        let x = Tensor.randn([2, 3, 4], dtype: .float64)
        for mode in PadMode.allCases {
            #expect(gradcheck({ pad($0[0], [2, 3, 1, 0], mode: mode) }, inputs: [x]).passed, "\(mode)")
        }
        let v = Tensor([1.0, 2, 3]).reshape([1, 3])
        #expect(pad(v, [2, 2], mode: .reflect).toDoubleArray() == [3, 2, 1, 2, 3, 2, 1])
        #expect(pad(v, [2, 2], mode: .replicate).toDoubleArray() == [1, 1, 1, 2, 3, 3, 3])
        #expect(pad(v, [2, 2], mode: .circular).toDoubleArray() == [2, 3, 1, 2, 3, 1, 2])
    }

    @Test func gradcheckConv2d() {
        let x = Tensor.randn([1, 2, 4, 3], dtype: .float64), w = Tensor.randn([2, 2, 2, 2], dtype: .float64)
        let b = Tensor.randn([2], dtype: .float64)
        #expect(gradcheck({ conv2d($0[0], $0[1], bias: $0[2], stride: [1, 2], padding: 1) }, inputs: [x, w, b]).passed)
        #expect(gradcheck({ conv2d($0[0], $0[1], padding: [1, 0], dilation: 2) }, inputs: [x, w]).passed)
        let wg = Tensor.randn([4, 1, 2, 2], dtype: .float64)
        #expect(gradcheck({ conv2d($0[0], $0[1], groups: 2) }, inputs: [x, wg]).passed)
        // Non-contiguous input: [1, 2, 3, 4] transposed to [1, 2, 4, 3].
        let xt = Tensor.randn([1, 2, 3, 4], dtype: .float64).transpose(2, 3)
        #expect(gradcheck({ conv2d($0[0], $0[1], padding: .same) }, inputs: [xt, Tensor.randn([1, 2, 2, 3], dtype: .float64)]).passed)
    }

    @Test func gradcheckConv1dAndTranspose() {
        let x = Tensor.randn([2, 2, 5], dtype: .float64), w = Tensor.randn([3, 2, 2], dtype: .float64)
        #expect(gradcheck({ conv1d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1) }, inputs: [x, w, Tensor.randn([3], dtype: .float64)]).passed)
        let xt = Tensor.randn([1, 2, 2, 3], dtype: .float64), wt = Tensor.randn([2, 2, 2, 2], dtype: .float64)
        #expect(gradcheck({ convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2, padding: [1, 0], outputPadding: 1) },
                          inputs: [xt, wt, Tensor.randn([2], dtype: .float64)]).passed)
        #expect(gradcheck({ convTranspose2d($0[0], $0[1], groups: 2, dilation: [1, 2]) },
                          inputs: [xt, Tensor.randn([2, 1, 2, 2], dtype: .float64)]).passed)
        #expect(gradcheck({ pad($0[0], [2, -1, 0, 1]) }, inputs: [Tensor.randn([2, 3, 2], dtype: .float64).transpose(1, 2)]).passed)
    }

    @Test func secondOrderGradientsOfConv() {
        // createGraph: the backward of conv is again im2col/col2im and matmul, so it differentiates.
        let x = Tensor.randn([1, 1, 4, 4], dtype: .float64), w = Tensor.randn([2, 1, 3, 3], dtype: .float64)
        #expect(gradcheck({ ins in
            enableGrad {
                let xr = ins[0].requiresGrad ? ins[0] : ins[0].detached().requiresGrad_()
                let y = conv2d(xr, ins[1], padding: 1)
                let g = gradients(of: [(y * y).sum()], wrt: [xr], createGraph: true)[0]!
                return g.square().sum()
            }
        }, inputs: [x, w]).passed)
    }

    @Test func unbatchedInputAndShapes() {
        let w = Tensor.randn([5, 3, 3, 3])
        #expect(conv2d(Tensor.randn([3, 8, 8]), w, padding: 1).shape == [5, 8, 8])
        #expect(conv2d(Tensor.randn([2, 3, 8, 7]), w, stride: 2).shape == [2, 5, 3, 3])
        #expect(conv2d(Tensor.randn([2, 3, 8, 7]), w, padding: .valid).shape == [2, 5, 6, 5])
        #expect(convTranspose2d(Tensor.randn([2, 5, 4, 4]), Tensor.randn([5, 3, 3, 3]), stride: 2).shape == [2, 3, 9, 9])
        #expect(conv1d(Tensor.randn([3, 10]), Tensor.randn([4, 3, 3]), padding: .same).shape == [4, 10])
    }

    static func stderrText(_ r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func channelMismatchIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor.randn([1, 4, 5, 5]), Tensor.randn([2, 3, 3, 3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("conv2d") && text.contains("[1, 4, 5, 5]") && text.contains("[2, 3, 3, 3]"), "stderr: \(text)")
    }

    @Test func wrongRankIsReported() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor.randn([5, 5]), Tensor.randn([2, 3, 3, 3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("conv2d") && text.contains("[5, 5]") && text.contains("[N, C, H, W]"), "stderr: \(text)")
    }
}
