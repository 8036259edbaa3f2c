import Foundation
import Testing
import Nabla
import NablaTestSupport

/// Ops recorded with a pair backward (`record(_:op:inputs:pairBackward:)`, the array-free backward of the hot ops)
/// behave as ops with an array backward do: gradients of first and second order, forward mode through the
/// double-vjp fallback, hooks and retained gradients on their outputs, `retainGraph`, and the errors for a second
/// pass and for saved tensors changed in place. Also: the autograd flags are per thread.
@Suite struct PairBackwardTests {
    /// `a * b + a` as a user op with a pair backward: `(g (b + 1), g a)`; no `jvp:` rule, so forward mode goes
    /// through the double-vjp trick on the pair backward.
    static func mulAdd(_ a: Tensor, _ b: Tensor) -> Tensor {
        let a0 = a.detached(), b0 = b.detached()   // no history and no tangent: `record` makes both
        let out = a0 * b0 + a0
        return record(out, op: "MulAddBackward", inputs: [a, b], saving: [a, b], pairBackward: { g, _ in (g * (b + 1.0), g * a) })
    }

    /// `3 x` as a user op with one input: the pair's second gradient is nil.
    static func triple(_ x: Tensor) -> Tensor {
        let out = x.detached() * 3.0
        return record(out, op: "TripleBackward", inputs: [x], pairBackward: { g, _ in (g * 3.0, nil) })
    }

    @Test func firstAndSecondOrderGradients() {
        let a = Tensor([1.5, -2.0, 0.25], dtype: .float64, requiresGrad: true)
        let b = Tensor([0.5, 3.0, -1.0], dtype: .float64, requiresGrad: true)
        #expect(gradcheck({ Self.mulAdd($0[0], $0[1]) }, inputs: [a, b]).passed)
        #expect(gradcheck({ Self.triple($0[0]) }, inputs: [a]).passed)
        // d/da Σ (a b + a)·a = 2 a b + 2 a; its derivative in a is 2 b + 2 (through createGraph).
        let f = (Self.mulAdd(a, b) * a).sum()
        let g = gradients(of: [f], wrt: [a], createGraph: true)[0]!
        let first = allClose(g, noGrad { a * b * 2.0 + a * 2.0 }, rtol: 1e-12, atol: 1e-12)
        #expect(first.ok, "\(first.failure)")
        let h = gradients(of: [g.sum()], wrt: [a])[0]!
        let second = allClose(h, noGrad { b * 2.0 + 2.0 }, rtol: 1e-12, atol: 1e-12)
        #expect(second.ok, "\(second.failure)")
    }

    @Test func forwardModeThroughThePairBackward() {
        let a = Tensor([1.5, -2.0], dtype: .float64)
        let b = Tensor([0.5, 3.0], dtype: .float64)
        // Tangent (1, 0) on a, (0, 1) on b: d(a b + a) = (b + 1) da + a db.
        let (y, t) = jvp({ Self.mulAdd($0[0], $0[1]) }, primals: [a, b],
                         tangents: [Tensor([1.0, 0.0], dtype: .float64), Tensor([0.0, 1.0], dtype: .float64)])
        #expect(y.toDoubleArray() == [2.25, -8.0])
        #expect(t.toDoubleArray() == [1.5, -2.0])
        let (_, t1) = jvp({ Self.triple($0[0]) }, primals: [a], tangents: [Tensor([1.0, 2.0], dtype: .float64)])
        #expect(t1.toDoubleArray() == [3.0, 6.0])
    }

    /// Hooks and retained gradients sit on the output of a pair node (the engine's general path runs it then).
    @Test func hooksAndRetainedGradientsOnAPairNode() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = Tensor([3.0, 4.0], requiresGrad: true)
        let y = a * b
        y.retainGrad()
        y.registerHook { g in g * 2.0 }
        let z = -(y + 1.0)
        z.sum().backward()
        #expect(y.grad!.toDoubleArray() == [-2, -2])
        #expect(a.grad!.toDoubleArray() == [-6, -8])
        #expect(b.grad!.toDoubleArray() == [-2, -4])
        // `gradients(of:wrt:)` through pair nodes, at a leaf and at a pair node's output (captured, not accumulated).
        let c = Tensor([1.0, 2.0], requiresGrad: true)
        let v = c * 3.0 - 4.0
        let u = relu(v)
        let gs = gradients(of: [(u * u).sum()], wrt: [c, v])
        #expect(gs[0]!.toDoubleArray() == [0, 12])
        #expect(gs[1]!.toDoubleArray() == [0, 4])
        #expect(c.grad == nil)
    }

    @Test func retainGraphRunsThePairBackwardTwice() {
        let x = Tensor.scalar(2.0, dtype: .float64).requiresGrad_()
        let w = Tensor.scalar(-0.5, dtype: .float64).requiresGrad_()
        let y = relu(x * w + 3.0) / 4.0 - x
        y.backward(retainGraph: true)
        y.backward()
        #expect(abs(x.grad!.item() - 2 * (-0.125 - 1)) < 1e-12)
        #expect(abs(w.grad!.item() - 2 * 0.5) < 1e-12)
    }

    @Test func secondPassThroughAPairNodeFails() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor.scalar(2.0).requiresGrad_()
            let y = x * x
            y.backward()
            y.backward()
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("MulBackward: trying to backward through the graph a second time"), "stderr: \(text)")
    }

    @Test func inPlaceChangeOfASavedOperandFails() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor([1.0, 2.0], requiresGrad: true)
            let h = x * 1.0
            let y = h * h
            noGrad { _ = h.add_(1.0) }
            y.sum().backward()
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("MulBackward: one of the variables needed for gradient computation has been modified by an inplace operation"),
                "stderr: \(text)")
    }

    @Test func threeInputsAreRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor([1.0], requiresGrad: true)
            _ = record(x * 1.0, op: "ThreeBackward", inputs: [x, x, x], pairBackward: { g, _ in (g, g) })
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("ThreeBackward: a pair backward takes one or two inputs, got 3"), "stderr: \(text)")
    }

    /// Grad mode and the node counter belong to the thread: `noGrad` here leaves another thread recording, and the
    /// nodes that thread makes are not counted here.
    @Test func autogradFlagsArePerThread() {
        final class Seen: @unchecked Sendable { var gradEnabled = false, recorded = false, nodes = -1 }
        let seen = Seen(), done = DispatchSemaphore(value: 0)
        let before = autogradNodesCreated()
        noGrad {
            #expect(!isGradEnabled)
            let t = Thread {
                seen.gradEnabled = isGradEnabled
                let start = autogradNodesCreated()
                let x = Tensor([1.0], requiresGrad: true)
                seen.recorded = (x * 2.0).gradFn != nil
                seen.nodes = autogradNodesCreated() - start
                done.signal()
            }
            t.start()
            done.wait()
            #expect(!isGradEnabled)
        }
        #expect(seen.gradEnabled && seen.recorded)
        #expect(seen.nodes == 2)   // MulBackward and x's AccumulateGrad
        #expect(autogradNodesCreated() == before)
        #expect(isGradEnabled)
    }
}
