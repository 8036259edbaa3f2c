import Testing
import Nabla
import NablaTestSupport

/// The lean graph of the eager hot path: a node's inline edges and saved tensors (and the arrays past the first
/// two), backward closures that read their operands from the node, and the engine's in-place accumulation of a
/// node's incoming gradients, which must never change a tensor anyone else can see.
@Suite struct AutogradNodeTests {
    /// W8's shape in small: 0-d tensors, weights used many times (fan-out), sums built one scalar at a time.
    @Test func scalarGraphWithFanOut() {
        let w = Tensor.scalar(0.5, dtype: .float64).requiresGrad_()
        let b = Tensor.scalar(-0.25, dtype: .float64).requiresGrad_()
        let xs: [Double] = [1, -2, 3, 0.5, -1.5]
        var loss: Tensor? = nil
        for x in xs {
            let r = w * Tensor.scalar(x, dtype: .float64) + b   // w and b reach the loss once per point
            let sq = r * r
            loss = loss.map { $0 + sq } ?? sq
        }
        loss!.backward()
        // d/dw Σ (w x + b)² = Σ 2 (w x + b) x, d/db = Σ 2 (w x + b).
        let dw = xs.reduce(0) { $0 + 2 * (0.5 * $1 - 0.25) * $1 }
        let db = xs.reduce(0) { $0 + 2 * (0.5 * $1 - 0.25) }
        #expect(abs(w.grad!.item() - dw) < 1e-12)
        #expect(abs(b.grad!.item() - db) < 1e-12)
        // A second pass accumulates into .grad, as PyTorch does.
        let again = w * 3.0
        again.backward()
        #expect(abs(w.grad!.item() - (dw + 3)) < 1e-12)
    }

    /// `y + y` hands the same gradient tensor to both of its inputs: the second must not be added into the first
    /// in place, and a hook that kept the output's gradient must still see it unchanged after the pass.
    @Test func sharedGradientIsNotAccumulatedInPlace() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2.0
        let z = y + y
        var seen: Tensor? = nil
        z.registerHook { g in seen = g; return nil }
        z.backward(gradient: Tensor([1.0, 1.0]))
        #expect(x.grad!.toDoubleArray() == [4, 4])
        #expect(seen!.toDoubleArray() == [1, 1])
    }

    /// A retained gradient and a gradient the caller passed in keep their values although the engine adds into
    /// the gradients it owns.
    @Test func retainedAndCallerGradientsAreLeftAlone() {
        let x = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x * 3.0
        y.retainGrad()
        let u = y * 2.0, v = y * 5.0                 // two gradients meet at y's node
        let out = u + v
        let seed = Tensor([1.0, 1.0, 1.0])
        out.backward(gradient: seed)
        #expect(y.grad!.toDoubleArray() == [7, 7, 7])
        #expect(x.grad!.toDoubleArray() == [21, 21, 21])
        #expect(seed.toDoubleArray() == [1, 1, 1])
    }

    /// Leaves reached several times get the sum once; their `.grad` owns its memory (a later in-place update of
    /// one leaf's gradient changes no other tensor).
    @Test func leafGradientsOwnTheirMemory() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = Tensor([3.0, 4.0], requiresGrad: true)
        (a + b).sum().backward()
        #expect(a.grad!.toDoubleArray() == [1, 1] && b.grad!.toDoubleArray() == [1, 1])
        noGrad { _ = a.grad!.mul_(5.0) }
        #expect(b.grad!.toDoubleArray() == [1, 1])
    }

    /// Ops with more than two inputs or saved tensors use the arrays past the inline slots.
    @Test func moreThanTwoEdgesAndSavedTensors() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = Tensor([3.0], requiresGrad: true)
        let c = Tensor([4.0, 5.0, 6.0], requiresGrad: true)
        let d = Tensor([7.0], requiresGrad: true)
        let joined = cat([a, b, c, d])
        (joined * Tensor([1.0, 2, 3, 4, 5, 6, 7])).sum().backward()
        #expect(a.grad!.toDoubleArray() == [1, 2])
        #expect(b.grad!.toDoubleArray() == [3])
        #expect(c.grad!.toDoubleArray() == [4, 5, 6])
        #expect(d.grad!.toDoubleArray() == [7])
        #expect(joined.gradFn!.next.count == 4)

        // Attention saves q, k and v: the third saved tensor lives past the inline slots.
        let q = Tensor.randn([1, 1, 3, 4], dtype: .float64).requiresGrad_()
        let k = Tensor.randn([1, 1, 5, 4], dtype: .float64).requiresGrad_()
        let v = Tensor.randn([1, 1, 5, 2], dtype: .float64).requiresGrad_()
        #expect(gradcheck({ attentionHeads($0[0], $0[1], $0[2], scale: 0.5) }, inputs: [q, k, v]).passed)
    }

    /// An in-place change to the third saved tensor (past the inline slots) is still caught.
    @Test func inPlaceChangeOfAThirdSavedTensor() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let q = Tensor.randn([1, 1, 2, 4], requiresGrad: true)
            let k = Tensor.randn([1, 1, 3, 4], requiresGrad: true)
            let v0 = Tensor.randn([1, 1, 3, 4], requiresGrad: true)
            let v = v0 * 1.0
            let y = attentionHeads(q, k, v, scale: 0.5)
            noGrad { _ = v.add_(1.0) }
            y.sum().backward()
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("modified by an inplace operation"), "stderr: \(text)")
    }

    /// Backward closures that read their operands from the node: tensor·tensor, tensor·scalar and tensor/scalar,
    /// in first and second order, in forward mode, and with broadcasting (the add/sub rule that sums back).
    @Test func operandsReadFromTheNode() {
        let x = Tensor([1.5, -2.0], dtype: .float64, requiresGrad: true)
        let y = Tensor([0.5, 3.0], dtype: .float64, requiresGrad: true)
        #expect(gradcheck({ $0[0] * $0[1] }, inputs: [x, y]).passed)
        #expect(gradcheck({ $0[0] * 3.0 }, inputs: [x]).passed)
        #expect(gradcheck({ $0[0] / 4.0 }, inputs: [x]).passed)
        // d²/dx² of (3x)·x/4 = 1.5, through createGraph.
        let f = ((x * 3.0) * x / 4.0).sum()
        let g = gradients(of: [f], wrt: [x], createGraph: true)[0]!
        let h = gradients(of: [g.sum()], wrt: [x])[0]!
        #expect(h.toDoubleArray() == [1.5, 1.5])
        // Forward mode: d(x·y·2)/dt with tangents (1, 0) and (0, 1).
        let (_, t) = jvp({ $0[0] * $0[1] * 2.0 }, primals: [x, y], tangents: [Tensor.onesLike(x), Tensor.zerosLike(y)])
        #expect(t.toDoubleArray() == [1.0, 6.0])
        // Broadcasting: [2, 1] against [3] in add and sub.
        let p = Tensor([[1.0], [2.0]], dtype: .float64, requiresGrad: true)
        let q = Tensor([1.0, 2.0, 3.0], dtype: .float64, requiresGrad: true)
        #expect(gradcheck({ $0[0] + $0[1] }, inputs: [p, q]).passed)
        #expect(gradcheck({ $0[0] - $0[1] }, inputs: [p, q]).passed)
        (p - q).sum().backward()
        #expect(p.grad!.toDoubleArray() == [3, 3] && q.grad!.toDoubleArray() == [-2, -2, -2])
    }
}
