import Testing
import Nabla
import NablaTestSupport

/// Reverse-mode autograd: recording, leaves, `.grad` accumulation, hooks, grad-mode scopes, `gradients(of:wrt:)`.
@Suite struct AutogradTests {
    @Test func requiresGradPropagates() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = Tensor([3.0, 4.0])
        let c = a * b
        #expect(c.requiresGrad && c.gradFn != nil)
        let d = b * b + 1
        #expect(!d.requiresGrad && d.gradFn == nil)
        let e = (c + d).sum()
        #expect(e.requiresGrad)
        // Views and casts of a tensor that requires grad require grad too.
        #expect(a.view([2, 1]).requiresGrad)
        #expect(a.to(.float64).requiresGrad)
        // Integer results of comparisons never require grad.
        #expect(!a.gt(1).requiresGrad)
    }

    @Test func leaves() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = Tensor([3.0, 4.0])
        let c = a * 2
        #expect(a.isLeaf && b.isLeaf && !c.isLeaf)
        #expect(a.gradFn == nil && c.gradFn != nil)
        let r = Tensor.ones([2]).requiresGrad_()
        #expect(r.requiresGrad && r.isLeaf)
        r.requiresGrad_(false)
        #expect(!r.requiresGrad)
        let z = Tensor.zeros([2], requiresGrad: true)
        #expect(z.requiresGrad && z.isLeaf)
    }

    @Test func simpleGradient() {
        let x = Tensor([[1, 2], [3, 4]], dtype: .float32, requiresGrad: true)
        (x * x).sum().backward()
        #expect(x.grad!.toDoubleArray() == [2, 4, 6, 8])
        #expect(x.grad!.shape == [2, 2] && x.grad!.dtype == .float32)
        #expect(!x.grad!.requiresGrad)
    }

    @Test func gradAccumulatesAcrossBackwardCalls() {
        let x = Tensor([1.0, -2.0], requiresGrad: true)
        (x * 3).sum().backward()
        #expect(x.grad!.toDoubleArray() == [3, 3])
        (x * x).sum().backward()
        #expect(x.grad!.toDoubleArray() == [5, -1])
    }

    @Test func zeroGrad() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        (x * 2).sum().backward()
        x.zeroGrad()
        #expect(x.grad == nil)
        (x * 2).sum().backward()
        let g = x.grad!
        x.zeroGrad(setToNone: false)
        #expect(x.grad === g)
        #expect(x.grad!.toDoubleArray() == [0, 0])
        (x * 5).sum().backward()
        #expect(x.grad!.toDoubleArray() == [5, 5])
    }

    @Test func retainGradOnNonLeaf() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 3
        let z = x * 4
        y.retainGrad()
        #expect(y.retainsGrad && !z.retainsGrad)
        (y * y + z).sum().backward()
        #expect(y.grad!.toDoubleArray() == [6, 12])   // d/dy y² = 2y
        #expect(z.grad == nil)
        #expect(x.grad!.toDoubleArray() == [22, 40])  // 18x + 4
        // retainGrad on a leaf is a no-op.
        x.retainGrad()
        #expect(x.grad != nil)
    }

    @Test func backwardWithGradientOnNonScalar() {
        let x = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x * x
        y.backward(gradient: Tensor([1.0, 0.1, 0.01]))
        #expect(allClose(x.grad!, Tensor([2.0, 0.4, 0.06])).ok)
    }

    @Test func retainGraphAllowsSecondBackward() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        y.backward()
        #expect(x.grad!.toDoubleArray() == [4, 8])
    }

    @Test func secondDerivativeWithCreateGraph() {
        // d/dx x³ = 3x², d²/dx² x³ = 6x.
        let x = Tensor([2.0, -1.0], dtype: .float64, requiresGrad: true)
        let y = (x * x * x).sum()
        let g = gradients(of: [y], wrt: [x], createGraph: true)[0]!
        #expect(g.requiresGrad)
        #expect(g.toDoubleArray() == [12, 3])
        let g2 = gradients(of: [g.sum()], wrt: [x])[0]!
        #expect(g2.toDoubleArray() == [12, -6])

        // The same through backward(createGraph:) and `.grad`.
        let z = Tensor([3.0], dtype: .float64, requiresGrad: true)
        (z * z * z).sum().backward(createGraph: true)
        let dz = z.grad!
        #expect(dz.item() == 27 && dz.requiresGrad)
        z.zeroGrad()
        dz.backward()
        #expect(z.grad!.item() == 18)
    }

    @Test func gradModeScopes() {
        let x = Tensor([1.0], requiresGrad: true)
        #expect(isGradEnabled)
        let a = noGrad { x * 2 }
        #expect(!a.requiresGrad && a.gradFn == nil)
        noGrad {
            #expect(!isGradEnabled)
            let b = enableGrad { x * 2 }
            #expect(b.requiresGrad)
            #expect(!isGradEnabled)
            noGrad { #expect(!isGradEnabled) }
            #expect(!isGradEnabled)
        }
        #expect(isGradEnabled)
        let c = inferenceMode { x * 2 }
        #expect(!c.requiresGrad)
        inferenceMode { noGrad { #expect(!isGradEnabled) } }
        #expect(isGradEnabled)
        let d = withGradEnabled(false) { x * 2 }
        #expect(!d.requiresGrad)
        let e = noGrad { withGradEnabled(true) { x * 2 } }
        #expect(e.requiresGrad)
        #expect(isGradEnabled)
    }

    @Test func gradModeRestoredAfterThrow() {
        struct Boom: Error {}
        #expect(throws: Boom.self) { try noGrad { throw Boom() } }
        #expect(isGradEnabled)
    }

    @Test func detachAndStopGradient() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        let d = y.detach()
        #expect(!d.requiresGrad && d.isLeaf && d.sharesStorage(with: y))
        #expect(!stopGradient(y).requiresGrad)
        #expect(!y.detached().requiresGrad)
        // detach_ cuts y itself from the graph.
        let z = x * 3
        z.detach_()
        #expect(z.isLeaf && !z.requiresGrad && z.gradFn == nil)
        // Gradient flows only through the attached path.
        let w = x * 5
        (w.detach() * x + w).sum().backward()
        #expect(x.grad!.toDoubleArray() == [10, 15])
    }

    @Test func hookOnLeafDoublesGradient() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        x.registerHook { $0 * 2 }
        (x * 3).sum().backward()
        #expect(x.grad!.toDoubleArray() == [6, 6])
    }

    @Test func hookOnNonLeafDoublesGradient() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 3
        final class Seen: @unchecked Sendable { var values: [Double] = [] }
        let seen = Seen()
        y.registerHook { g in seen.values = g.toDoubleArray(); return nil }   // observes, keeps the gradient
        y.registerHook { $0 * 2 }
        y.retainGrad()
        (y * Tensor([1.0, 10.0])).sum().backward()
        #expect(seen.values == [1, 10])
        #expect(y.grad!.toDoubleArray() == [2, 20])
        #expect(x.grad!.toDoubleArray() == [6, 60])
    }

    @Test func gradientsLikeTFSumsNonScalarOutputs() {
        let x = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let y = x * x
        let g = gradients(of: [y], wrt: [x])[0]!
        #expect(g.toDoubleArray() == [2, 4, 6])
        // Several outputs: their sums are added.
        let g2 = gradients(of: [x * 2, x * 3], wrt: [x])[0]!
        #expect(g2.toDoubleArray() == [5, 5, 5])
        // `.grad` is not touched.
        #expect(x.grad == nil)
    }

    @Test func gradientsLikeTorchWithGradOutputs() {
        let x = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        let w = Tensor([2.0], requiresGrad: true)
        let y = x * w
        let gs = gradients(of: [y], wrt: [x, w], gradOutputs: [Tensor([1.0, 0.0, -1.0])])
        #expect(gs[0]!.toDoubleArray() == [2, 0, -2])
        #expect(gs[1]!.toDoubleArray() == [-2])
        #expect(gs[1]!.shape == [1])
        #expect(x.grad == nil && w.grad == nil)
    }

    @Test func allowUnusedGivesNil() {
        let x = Tensor([1.0], requiresGrad: true)
        let unused = Tensor([5.0], requiresGrad: true)
        let gs = gradients(of: [(x * 2).sum()], wrt: [x, unused], allowUnused: true)
        #expect(gs[0]!.item() == 2)
        #expect(gs[1] == nil)
    }

    @Test func gradientsWrtNonLeafRunOnlyWhatIsNeeded() {
        // The part of the graph below a non-leaf input is neither run nor freed, even if already freed.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let h = x * x
        let y = h * 3
        (h * 1).sum().backward()           // frees h's own node
        let g = gradients(of: [y.sum()], wrt: [h])[0]!
        #expect(g.toDoubleArray() == [3, 3])
        #expect(x.grad!.toDoubleArray() == [2, 4])   // untouched by gradients(of:wrt:)
        // A second call on the same (retained) part works too.
        let y2 = h * h
        let gs = gradients(of: [y2.sum()], wrt: [h], retainGraph: true)
        #expect(gs[0]!.toDoubleArray() == [2, 8])
    }

    @Test func gradientsApplyHooksAndRetainedGrads() {
        // As torch.autograd.grad: hooks run before the gradient is returned; retained grads fill in.
        let x = Tensor([1.0], requiresGrad: true)
        x.registerHook { $0 * 2 }
        #expect(gradients(of: [(x * 3).sum()], wrt: [x])[0]!.item() == 6)
        let z = Tensor([1.0], requiresGrad: true)
        let y = z * 3
        y.registerHook { $0 * 2 }
        #expect(gradients(of: [(y * 5).sum()], wrt: [y])[0]!.item() == 10)
        let w = z * 3
        w.retainGrad()
        _ = gradients(of: [(w * 5).sum()], wrt: [z])
        #expect(w.grad!.item() == 5)
    }

    @Test func backwardGradientIsNotAliasedByGrad() {
        // `.grad` owns its memory: changing the tensor passed as `gradient:` later does not change it.
        let g = Tensor([1.0, 1.0])
        let x = Tensor.ones([2], requiresGrad: true)
        (x + 0).backward(gradient: g)
        g.add_(1)
        #expect(x.grad!.toDoubleArray() == [1, 1])
        let leaf = Tensor.ones([2], requiresGrad: true)
        leaf.backward(gradient: g)
        x.zeroGrad(setToNone: false)
        leaf.zeroGrad(setToNone: false)
        #expect(g.toDoubleArray() == [2, 2])
    }

    @Test func gradientsRetainGraph() {
        let x = Tensor([2.0], requiresGrad: true)
        let y = (x * x).sum()
        let g1 = gradients(of: [y], wrt: [x], retainGraph: true)[0]!
        let g2 = gradients(of: [y], wrt: [x])[0]!
        #expect(g1.item() == 4 && g2.item() == 4)
    }

    @Test func diamondGraphAccumulates() {
        // x feeds two branches that meet again: gradients from both are summed.
        let x = Tensor([3.0], requiresGrad: true)
        let a = x * 2, b = x * x
        (a * b).sum().backward()   // d/dx 2x³ = 6x²
        #expect(x.grad!.item() == 54)
    }

    @Test func broadcastGradientsReduceToInputShape() {
        let a = Tensor.ones([2, 3], requiresGrad: true)
        let b = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        (a * b).sum().backward()
        #expect(b.grad!.shape == [3] && b.grad!.toDoubleArray() == [2, 2, 2])
        #expect(a.grad!.toDoubleArray() == [1, 2, 3, 1, 2, 3])
    }

    @Test func versionIncrementsOnInPlaceOps() {
        let x = Tensor([1.0, 2.0, 3.0, 4.0])
        let v0 = x.version
        x.add_(1)
        #expect(x.version == v0 + 1)
        x.mul_(Tensor([2.0]))
        x.fill_(3)
        x.zero_()
        x.copy_(Tensor([1.0, 1.0, 1.0, 1.0]))
        #expect(x.version == v0 + 5)
        // Views share the counter with their base.
        let v = x.view([2, 2])
        v.select(0, 1).sub_(1)
        #expect(x.version == v0 + 6 && v.version == x.version)
        #expect(x.toDoubleArray() == [1, 1, 0, 0])
        // Out-of-place ops leave it alone.
        _ = x + 1
        #expect(x.version == v0 + 6)
    }

    @Test func inPlaceOnNonLeafIsRecorded() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        y.mul_(3)
        #expect(y.requiresGrad && !y.isLeaf)
        y.sum().backward()
        #expect(x.grad!.toDoubleArray() == [6, 6])
    }

    @Test func inPlaceAfterBackwardIsAllowed() {
        // A saved tensor may change once the graph that saved it has been used and freed.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        let z = y * y
        z.sum().backward()
        noGrad { _ = y.add_(1) }
        #expect(x.grad!.toDoubleArray() == [8, 16])
        #expect(y.toDoubleArray() == [3, 5])
    }

    @Test func inPlaceOnTensorNotSavedIsAllowed() {
        // `y * 2` saves nothing of y, so changing y afterwards does not stop the backward.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x + 1
        let z = y * 2
        noGrad { _ = y.add_(10) }
        z.sum().backward()
        #expect(x.grad!.toDoubleArray() == [2, 2])
    }

    @Test func leafUpdateUnderNoGrad() {
        let w = Tensor([1.0, 2.0], requiresGrad: true)
        (w * w).sum().backward()
        noGrad { _ = w.sub_(w.grad! * 0.5) }
        #expect(w.toDoubleArray() == [0, 0])
        #expect(w.isLeaf && w.requiresGrad)
    }

    @Test func gradFnNames() {
        let x = Tensor([1.0], requiresGrad: true)
        #expect((x * x).gradFn!.name.contains("Mul"))
        #expect(matmul(x.view([1, 1]), x.view([1, 1])).gradFn!.name.contains("Mm"))
        #expect("\(x * 2)".contains("gradFn"))
    }

    @Test func noGraphKeptAliveWithoutGrad() {
        weak var weakNode: Node?
        do {
            let x = Tensor([1.0], requiresGrad: true)
            let y = x * x
            weakNode = y.gradFn
            #expect(weakNode != nil)
        }
        #expect(weakNode == nil)
    }
}
