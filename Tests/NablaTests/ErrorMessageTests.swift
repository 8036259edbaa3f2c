import Foundation
import Testing
import Nabla

/// A programmer error (bad shape, bad dim, misuse of autograd) stops the program with a message
/// naming the op, the shapes and what was expected — also in release builds.
///
/// Each test runs the faulty call in a child process (an exit test), expects it to fail,
/// and reads the message from the child's standard error.
@Suite struct ErrorMessageTests {
    /// The child's standard error as text.
    static func stderrText(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    /// Whether `text` contains every one of `parts`.
    static func mentions(_ text: String, _ parts: [String]) -> Bool {
        parts.allSatisfy { text.contains($0) }
    }

    @Test func addWithShapesThatDoNotBroadcast() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["add", "[2, 3]", "[4]", "broadcast"]), "stderr: \(text)")
    }

    @Test func reflectPaddingAsLargeAsTheDim() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = pad(Tensor.zeros([1, 3]), [3, 0], mode: .reflect)
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["pad", "reflect", "(3, 0)", "smaller than its size 3"]), "stderr: \(text)")
    }

    @Test func matmulWithMismatchedInnerDims() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["matmul", "[2, 3]", "[4, 5]"]), "stderr: \(text)")
    }

    @Test func viewToAnImpossibleShape() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).view([4, 2])
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["view", "[4, 2]", "6"]), "stderr: \(text)")
    }

    @Test func catWithMismatchedSizes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = cat([Tensor.zeros([2, 3]), Tensor.zeros([2, 4])], dim: 0)
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["cat", "[2, 3]", "[2, 4]"]), "stderr: \(text)")
    }

    @Test func reductionDimOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sum(dim: 5)
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["sum", "dimension 5", "out of range"]), "stderr: \(text)")
    }

    @Test func backwardTwiceWithoutRetainGraph() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor.ones([3], requiresGrad: true)
            let y = (x * x).sum()
            y.backward()
            y.backward()
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["second time", "retainGraph"]), "stderr: \(text)")
    }

    @Test(.enabled(if: !Device.cudaAvailable, "a CUDA device is present: the error path does not apply"))
    func cudaWithoutADevice() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.ones([2]).cuda()
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["no CUDA device"]), "stderr: \(text)")
    }

    @Test func inPlaceChangeOfASavedTensor() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Tensor.ones([3], requiresGrad: true)
            let b = a * 2.0
            let c = b * b          // saves b for backward
            b.mul_(3.0)            // bumps b's version
            c.sum().backward()
        }
        let text = Self.stderrText(r)
        #expect(Self.mentions(text, ["modified by an inplace operation", "[3]"]), "stderr: \(text)")
    }
}
