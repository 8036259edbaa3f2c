import Testing
import Nabla
import NablaTestSupport

/// `linearRelu` and `linear(_:weight:bias:residual:)` against their composite forms, and float64 gradchecks.
@Suite struct LinearFusedTests {
    /// Values and all gradients of `f` and `g` on the same inputs agree within `rtol`.
    private func expectSameValuesAndGradients(_ inputs: [Tensor], rtol: Double, _ f: ([Tensor]) -> Tensor, _ g: ([Tensor]) -> Tensor,
                                              sourceLocation: SourceLocation = #_sourceLocation) {
        let a = inputs.map { $0.detached().requiresGrad_() }, b = inputs.map { $0.detached().requiresGrad_() }
        let ya = f(a), yb = g(b)
        let r = allClose(ya, yb, rtol: rtol, atol: rtol)
        #expect(r.ok, "values: \(r.failure)", sourceLocation: sourceLocation)
        let up = Tensor.randn(ya.shape, dtype: ya.dtype)
        let ga = gradients(of: [(ya * up).sum()], wrt: a), gb = gradients(of: [(yb * up).sum()], wrt: b)
        for (i, (x, y)) in zip(ga, gb).enumerated() {
            let rg = allClose(x!, y!, rtol: rtol, atol: rtol)
            #expect(rg.ok, "grad \(i): \(rg.failure)", sourceLocation: sourceLocation)
        }
    }

    @Test func linearReluEqualsTheCompositeForm() {
        let x = Tensor.randn([9, 5]), w = Tensor.randn([7, 5]), b = Tensor.randn([7])
        // The same GEMM and the same mask: equal to the last bit.
        #expect(linearRelu(x, weight: w, bias: b).toArray(Float.self) == relu(linear(x, weight: w, bias: b)).toArray(Float.self))
        expectSameValuesAndGradients([x, w, b], rtol: 1e-6, { linearRelu($0[0], weight: $0[1], bias: $0[2]) },
                                     { relu(linear($0[0], weight: $0[1], bias: $0[2])) })
        expectSameValuesAndGradients([x, w], rtol: 1e-6, { linearRelu($0[0], weight: $0[1]) }, { relu(linear($0[0], weight: $0[1])) })
        // A 3-D input and a transposed (non-contiguous) weight.
        let x3 = Tensor.randn([2, 4, 5]), wt = Tensor.randn([5, 7])
        expectSameValuesAndGradients([x3, wt, b], rtol: 1e-6, { linearRelu($0[0], weight: $0[1].t(), bias: $0[2]) },
                                     { relu(linear($0[0], weight: $0[1].t(), bias: $0[2])) })
        #expect(linearRelu(x3, weight: wt.t(), bias: b).shape == [2, 4, 7])
        // Mixed dtypes take the promoting composite path.
        #expect(linearRelu(x.to(.float64), weight: w, bias: b).dtype == .float64)
    }

    @Test func linearReluPassesGradcheck() {
        let x = Tensor.randn([4, 3], dtype: .float64), w = Tensor.randn([5, 3], dtype: .float64)
        let b = Tensor.randn([5], dtype: .float64)
        #expect(gradcheck({ linearRelu($0[0], weight: $0[1], bias: $0[2]) }, inputs: [x, w, b]).passed)
        #expect(gradcheck({ linearRelu($0[0], weight: $0[1]) }, inputs: [x, w]).passed)
        let x3 = Tensor.randn([2, 2, 3], dtype: .float64)
        #expect(gradcheck({ linearRelu($0[0], weight: $0[1], bias: $0[2]) }, inputs: [x3, w, b]).passed)
        #expect(gradgradcheck({ linearRelu($0[0], weight: $0[1], bias: $0[2]).tanh() }, inputs: [x, w, b]).passed)
    }

    @Test func residualLinearEqualsTheCompositeForm() {
        let x = Tensor.randn([9, 5]), w = Tensor.randn([7, 5]), b = Tensor.randn([7]), r = Tensor.randn([9, 7])
        expectSameValuesAndGradients([x, w, b, r], rtol: 1e-5, { linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3]) },
                                     { $0[3] + linear($0[0], weight: $0[1], bias: $0[2]) })
        expectSameValuesAndGradients([x, w, r], rtol: 1e-5, { linear($0[0], weight: $0[1], residual: $0[2]) },
                                     { $0[2] + linear($0[0], weight: $0[1]) })
        // 3-D input with a transposed (non-contiguous) residual.
        let x3 = Tensor.randn([2, 4, 5]), rt = Tensor.randn([4, 2, 7])
        expectSameValuesAndGradients([x3, w, b, rt], rtol: 1e-5, { linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3].transpose(0, 1)) },
                                     { $0[3].transpose(0, 1) + linear($0[0], weight: $0[1], bias: $0[2]) })
        #expect(linear(x.to(.float64), weight: w, bias: b, residual: r).dtype == .float64)
        // An empty contraction leaves residual + bias.
        let e = linear(Tensor.zeros([3, 0]), weight: Tensor.zeros([2, 0]), bias: Tensor([1.0, 2.0]), residual: Tensor.ones([3, 2]))
        #expect(e.toArray(Float.self) == [2, 3, 2, 3, 2, 3])
    }

    @Test func residualLinearPassesGradcheck() {
        let x = Tensor.randn([4, 3], dtype: .float64), w = Tensor.randn([5, 3], dtype: .float64)
        let b = Tensor.randn([5], dtype: .float64), r = Tensor.randn([4, 5], dtype: .float64)
        #expect(gradcheck({ linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3]) }, inputs: [x, w, b, r]).passed)
        #expect(gradcheck({ linear($0[0], weight: $0[1], residual: $0[2]) }, inputs: [x, w, r]).passed)
        let x3 = Tensor.randn([2, 2, 3], dtype: .float64), r3 = Tensor.randn([2, 2, 5], dtype: .float64)
        #expect(gradcheck({ linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3]) }, inputs: [x3, w, b, r3]).passed)
        #expect(gradgradcheck({ linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3]).tanh() }, inputs: [x, w, b, r]).passed)
    }

    @Test func fusedFormsCompileLikeEager() {
        let x = Tensor.randn([6, 5], dtype: .float64), w = Tensor.randn([4, 5], dtype: .float64)
        let b = Tensor.randn([4], dtype: .float64), r = Tensor.randn([6, 4], dtype: .float64)
        expectCompiledMatchesEager("linearRelu", [x, w, b]) { [linearRelu($0[0], weight: $0[1], bias: $0[2])] }
        expectCompiledMatchesEager("linear residual", [x, w, b, r]) { [linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3])] }
    }

    @Test func badResidualShapeNamesTheOp() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linear(Tensor.ones([2, 5]), weight: Tensor.ones([3, 5]), residual: Tensor.ones([2, 4]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("linear: expected a residual of the output's shape [2, 3]"), "stderr: \(text)")
        let relu = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linearRelu(Tensor.ones([2, 4]), weight: Tensor.ones([3, 5]))
        }
        let textR = String(decoding: relu?.standardErrorContent ?? [], as: UTF8.self)
        #expect(textR.contains("linearRelu: input shape [2, 4] does not match weight shape [3, 5]"), "stderr: \(textR)")
    }
}
