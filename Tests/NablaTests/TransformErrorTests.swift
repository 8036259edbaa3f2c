import Foundation
import Testing
import Nabla

/// Misuse of the function transforms and the distance ops stops with a message naming the call and the shapes.
@Suite struct TransformErrorTests {
    static func stderrText(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func vmapWithDifferentBatchSizes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = vmap({ a in a[0] + a[1] }, inDims: [0, 0])([Tensor.zeros([3, 2]), Tensor.zeros([4, 2])])
        }
        let text = Self.stderrText(r)
        #expect(text.contains("vmap") && text.contains("batch size 3") && text.contains("[4, 2]"), "stderr: \(text)")
    }

    @Test func vmapWithNothingBatched() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = vmap({ a in a[0] }, inDims: [nil])([Tensor.zeros([3])])
        }
        let text = Self.stderrText(r)
        #expect(text.contains("vmap") && text.contains("at least one argument must be batched"), "stderr: \(text)")
    }

    @Test func gradOfANonScalar() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = grad { x in x * 2 }(Tensor.zeros([3]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("grad") && text.contains("single value") && text.contains("[3]"), "stderr: \(text)")
    }

    @Test func cosineSimilarityOfShapesThatDoNotBroadcast() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = cosineSimilarity(Tensor.zeros([2, 3]), Tensor.zeros([2, 4]))
        }
        let text = Self.stderrText(r)
        #expect(text.contains("cosineSimilarity") && text.contains("[2, 3]") && text.contains("[2, 4]"), "stderr: \(text)")
    }
}
