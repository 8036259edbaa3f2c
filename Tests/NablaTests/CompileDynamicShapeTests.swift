import Testing
import Foundation
import Nabla
import NablaTestSupport

/// Dynamic shapes in `compile`: two traces that differ only in a batch size unify into a template that later sizes
/// specialise without tracing; what cannot unify traces per shape and says why; `OpKind.mapSizes` visits the sizes
/// of every op family.
@Suite struct CompileDynamicShapeTests {
    /// The integers and reals `mapSizes` visits in `kind`.
    func sizes(_ kind: OpKind) -> (ints: [Int], doubles: [Double]) {
        var ints: [Int] = [], doubles: [Double] = []
        _ = kind.mapSizes({ ints.append($0); return $0 }, { doubles.append($0); return $0 })
        return (ints, doubles)
    }

    @Test func mapSizesVisitsTheSizesOfEveryOpFamily() {
        let g = ConvGeometry(batch: 8, channels: 3, height: 10, width: 12, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                             padH: 1, padW: 1, dilationH: 1, dilationW: 1, outH: 10, outW: 12)
        // Convolution geometry: all fourteen sizes, the batch first; rebuilt with new values.
        for k in [OpKind.im2col(g), .col2im(g), .conv2d(g, bias: true), .conv2dBackward(g, input: true, weight: true, bias: false)] {
            #expect(sizes(k).ints == [8, 3, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 10, 12] && sizes(k).doubles.isEmpty, "\(k)")
            let doubled = k.mapSizes({ $0 == 8 ? 16 : $0 }, { $0 })
            #expect(sizes(doubled).ints.first == 16 && doubled != k, "\(doubled)")
        }
        // Row and batch normalisation: counts (and the epsilon as a real).
        let norm = OpKind.normRows(rows: 64, rowLen: 32, groups: 1, inner: 1, eps: 1e-5, weight: true, bias: true)
        #expect(sizes(norm).ints == [64, 32, 1, 1] && sizes(norm).doubles == [1e-5])
        #expect(sizes(.normRowsBackward(rows: 64, rowLen: 32, weight: true, bias: false)).ints == [64, 32])
        for k in [OpKind.batchNormStats(n: 8, channels: 4, inner: 9), .batchNormAffine(n: 8, channels: 4, inner: 9),
                  .batchNormBackward(n: 8, channels: 4, inner: 9, weight: true)] {
            #expect(sizes(k).ints == [8, 4, 9], "\(k)")
        }
        // Pooling windows: each size, the window lists element by element.
        let w = PoolWindows(height: 4, width: 4, rowStart: [0, 2], rowCount: [2, 2], rowDilation: 1, colStart: [0, 2], colCount: [2, 2], colDilation: 1)
        #expect(sizes(.maxPool2d(w)).ints == [4, 4, 0, 2, 2, 2, 1, 0, 2, 2, 2, 1])
        // Reals: fill values, scalar operands, attention scales; an upload's offset (its bytes are not a size).
        #expect(sizes(.fill(0.125)).doubles == [0.125])
        #expect(sizes(.binaryScalar(.mul, scalar: 0.5, reversed: false)).doubles == [0.5])
        #expect(sizes(.attention(scale: 0.25, mask: false)).doubles == [0.25] && sizes(.attentionBackward(scale: 0.25)).doubles == [0.25])
        #expect(sizes(.upload(byteOffset: 4, bytes: Data([1, 2]))).ints == [4])
        #expect(OpKind.fill(0.125).mapSizes({ $0 }, { $0 * 2 }) == .fill(0.25))
        // Axes, flags and class indices are not sizes: such kinds visit nothing and come back unchanged.
        for k in [OpKind.reduce(.sum, dims: [0, 1]), .softmax(dim: 1, log: true), .nllLoss(ignoreIndex: -100, reduction: .mean),
                  .gather(dim: 1), .matmul, .unary(.relu), .binary(.add), .copy, .optimizerStep("adam")] {
            let s = sizes(k)
            #expect(s.ints.isEmpty && s.doubles.isEmpty && k.mapSizes({ $0 + 1 }, { $0 + 1 }) == k, "\(k)")
        }
    }

    /// `mean` over the batch and its backward (a `1/N` that depends on the size), with a gradient into a captured
    /// leaf: sizes 8, 8, 6, 5, 11, 8 trace twice (8 and 6) and specialise 5 and 11, and every value and gradient
    /// equals eager's. The arguments are views into one larger tensor (batches sliced from a dataset).
    @Test(arguments: [DType.float32, .float64]) func aMeanOverTheBatchSpecialisesWithItsReciprocal(_ dtype: DType) throws {
        let g = Generator(seed: 11)
        let w = Tensor.randn([5, 3], dtype: dtype, generator: g).requiresGrad_()
        let data = Tensor.randn([40, 5], dtype: dtype, generator: g)
        let f = { (x: Tensor) -> Tensor in
            w.grad = nil
            let h = x.matmul(w).tanh()
            // `mean` divides by N (k·s); the Swift scalars are 1/N (k/s) and 1/(N − 1) (1/(a·s + c)).
            let n = Double(x.shape[0])
            let loss = (h * h).mean() + h.mean(dims: [0]).sum() * 0.5 + h.sum() * (1 / n) + h.square().sum() * (1 / (n - 1))
            loss.backward()
            return loss.detached()
        }
        let c = compile(name: "mean", f)
        var start = 0
        for n in [8, 8, 6, 5, 11, 8] {
            let x = data[start..<(start + n)]
            start += n % 3
            let expected = f(x)
            let expectedGrad = try #require(w.grad).detached()
            let got = c(x)
            let r = allClose(got, expected, rtol: 1e-5, atol: 1e-7)
            #expect(r.ok, "n = \(n): \(r.failure)\n\(c.explain())")
            let rg = allClose(try #require(w.grad), expectedGrad, rtol: 1e-5, atol: 1e-7)
            #expect(rg.ok, "n = \(n) grad: \(rg.failure)")
        }
        let text = c.explain()
        #expect(c.traceCount == 2, "\(text)")
        #expect(c.specialiseSeconds.count == 2, "\(text)")
        #expect(text.contains("dynamic: s = dim 0 of argument 0, specialised for sizes [8, 6, 5, 11]"), "\(text)")
        // The scalars of the forward and of the backward (N, 1/N, 1/(N − 1)) are attributes of s.
        let attributes = text.components(separatedBy: " attributes depend on s").first?.split(separator: " ").last.flatMap { Int($0) } ?? 0
        #expect(attributes >= 4, "\(text)")
    }

    /// A constant made from the batch size (its bytes differ between the traces) cannot unify: each shape traces,
    /// results stay right, and `explain()` names the node.
    @Test func aConstantMadeFromTheBatchSizeFallsBackToPerShapeTraces() {
        let f = { (x: Tensor) -> Tensor in x * Tensor([Float(x.shape[0])]) + 1.0 }
        let c = compile(name: "const", f)
        expectEagerValues(c, f, rows: [4, 4, 6, 6, 9, 9], columns: 3)
        let text = c.explain()
        #expect(c.traceCount == 3 && c.specialiseSeconds.isEmpty, "\(text)")
        #expect(text.contains("dynamic: cannot unify") && text.contains("constant buffer"), "\(text)")
    }

    /// `dynamic: false` keeps one trace per shape (with its warm-up), as before.
    @Test func dynamicFalseTracesEveryShape() {
        let f = { (x: Tensor) -> Tensor in (x * 2.0).relu().sum(dims: [1]) }
        let c = compile(name: "static", dynamic: false, f)
        expectEagerValues(c, f, rows: [5, 5, 7, 7, 9, 9, 5], columns: 4)
        let text = c.explain()
        #expect(c.traceCount == 3 && c.specialiseSeconds.isEmpty, "\(text)")
        #expect(text.contains("dynamic: false") && text.contains("3 signature(s)"), "\(text)")
    }

    /// A size quadratic in the batch (the `[s, s]` Gram matrix has `s²` elements) is not taken for a line: each shape
    /// traces, with the reason, and every result equals eager's.
    @Test func aSizeQuadraticInTheBatchIsRefused() {
        let f = { (x: Tensor) -> Tensor in x.matmul(x.t()).tanh().sum(dims: [1]) }
        let c = compile(name: "gram", f)
        expectEagerValues(c, f, rows: [4, 4, 6, 6, 7, 7], columns: 3, rtol: 1e-5)
        #expect(c.traceCount == 3 && c.specialiseSeconds.isEmpty, "\(c.explain())")
        #expect(c.explain().contains("is not a·s + c"), "\(c.explain())")
    }

    /// Dims that vary by different amounts are not one symbol: per-shape traces, with the reason.
    @Test func twoDimsVaryingApartDoNotUnify() {
        let f = { (x: Tensor) -> Tensor in x.sum(dims: [1]) * 3.0 }
        let c = compile(name: "two", f)
        for (a, b) in [(4, 5), (4, 5), (6, 8), (6, 8)] {
            let x = Tensor.randn([a, b])
            let r = allClose(c(x), f(x), rtol: 1e-6, atol: 1e-6)
            #expect(r.ok, "\(r.failure)")
        }
        #expect(c.traceCount == 2 && c.explain().contains("differ in more than one size"), "\(c.explain())")
    }

    /// Calls `c` on random `[n, columns]` inputs for each `n` in `rows`, in order, and expects `f`'s eager values.
    private func expectEagerValues(_ c: CompiledFunction, _ f: (Tensor) -> Tensor, rows: [Int], columns: Int,
                                   rtol: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
        for n in rows {
            let x = Tensor.randn([n, columns])
            let r = allClose(c(x), f(x), rtol: rtol, atol: 1e-6)
            #expect(r.ok, "n = \(n): \(r.failure)", sourceLocation: sourceLocation)
        }
    }
}
