import Testing
import Nabla
import NablaTestSupport

/// In-place writes through views under autograd, against PyTorch (`Tests/Fixtures/inplace_views.json`,
/// written by `Scripts/fixtures/inplace_views.py`): a write into a view reaches its base's gradient
/// (CopySlices), and a view used after its memory was written takes its history from the base.
@Suite struct InPlaceViewTests {
    static let fixture = loadFixture("inplace_views")

    /// Each case as the fixture script writes it, on inputs `x` (float64 with grad, or float32 without).
    static let cases: [String: @Sendable ([Tensor]) -> Tensor] = [
        "mul_on_view": { a in
            let x = a[0] * 1
            x.narrow(0, start: 1, length: 2).mul_(3)
            return x
        },
        "stale_view": { a in
            let x = a[0] * 1
            let w = x[1..<3]
            x.mul_(2)
            return w * w
        },
        "used_before_and_after": { a in
            let x = a[0] * 1
            let w = x[1]
            let z = w * 2
            x.exp_()
            return z + w * x.sum()
        },
        "view_of_view": { a in
            let x = a[0].reshape([2, 3]) * 1
            x.t()[1].add_(a[1])
            return x.sin()
        },
        "two_views": { a in
            let x = a[0] * 1
            let first = x[0], rest = x[1...]
            first.mul_(rest.sum())
            return x * x
        },
        "copy_into_plain_buffer": { a in
            let out = Tensor.zeros([5], dtype: a[0].dtype)
            out[1..<4].copy_(a[0] * 2)
            return out * out
        },
        "fill_view": { a in
            let x = a[0] * 1
            x[..., 0].fill_(0.5)
            return x * x
        },
        "relu_on_column": { a in
            let x = a[0] * 1
            x[..., 1].relu_()
            return x.exp()
        },
        "base_gains_history": { a in
            let x = Tensor.zeros([4], dtype: a[0].dtype)
            let v = x[1..<3]
            x.copy_(a[0] * 3)
            return v * v
        },
        "stale_view_used_under_no_grad_first": { a in
            let x = a[0] * 1
            let w = x[0..<2]
            x.mul_(2)
            _ = noGrad { w + 1 }
            return w * w
        },
        "strided_view": { a in
            let x = a[0] * 1
            x[.range(nil, nil, step: 2)].mul_(3).add_(a[1])
            return x * x
        },
    ]

    @Test(arguments: cases.keys.sorted())
    func matchesPyTorch(_ name: String) {
        expectMatchesFixture(Self.fixture, name) { [Self.cases[name]!($0)] }
    }

    @Test(arguments: cases.keys.sorted())
    func gradcheck(_ name: String) {
        let inputs = Self.fixture[name].inputs.map(\.tensor)
        let r = Nabla.gradcheck({ Self.cases[name]!($0) }, inputs: inputs)
        #expect(r.passed, "\(name): \(r)")
    }

    static func stderrText(_ r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func writingThroughAViewOfALeafIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let leaf = Tensor([1.0, 2, 3], dtype: .float64).requiresGrad_()
            leaf[0].mul_(2)
        }
        let text = Self.stderrText(r)
        #expect(text.contains("mul_") && text.contains("a view of a leaf Variable that requires grad"), "stderr: \(text)")
        let leaf = Tensor([1.0, 2, 3], dtype: .float64).requiresGrad_()
        noGrad { leaf[0].mul_(2) }  // allowed when nothing records, as an optimizer step
        #expect(leaf.toDoubleArray() == [2, 2, 3])
    }

    @Test func writingIntoOverlappingMemoryIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Tensor.zeros([3]).expand([2, 3]).add_(1)
        }
        let text = Self.stderrText(r)
        #expect(text.contains("add_") && text.contains("more than one element") && text.contains("[2, 3]"), "stderr: \(text)")
    }

    @Test func detachingAViewInPlaceIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor([1.0, 2, 3], dtype: .float64).requiresGrad_()
            (x * 2)[1...].detach_()
        }
        let text = Self.stderrText(r)
        #expect(text.contains("detach_") && text.contains("use detach() instead") && text.contains("[3]"), "stderr: \(text)")
        let y = Tensor([1.0, 2, 3], dtype: .float64).requiresGrad_() * 2
        #expect(!y.detach_().requiresGrad)  // a non-view still detaches in place
    }

    @Test func writesWithoutGradKeepViewsUsable() {
        // An optimizer-style update under noGrad bumps the version; a view taken before it is then used in a
        // graph with its history taken afresh from the leaf, so its gradient reaches the leaf.
        let w = Tensor([1.0, 2, 3, 4], dtype: .float64).requiresGrad_()
        let wt = w.view([2, 2]).t()
        noGrad { w.sub_(Tensor([1.0, 1, 1, 1], dtype: .float64)) }
        (wt * wt).sum().backward()
        #expect(w.grad!.toDoubleArray() == [0, 2, 4, 6])
    }
}
