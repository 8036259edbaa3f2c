import Foundation
import Nabla
import NablaServeCore

/// Runs a freshly loaded model on zeros before it serves (Triton's `model_warmup`, TF Serving's warm-up requests).
enum ModelWarmUp {
    /// The batch sizes a warm-up runs: every size up to 64, then powers of two, then `maxBatchSize` itself.
    static func batchSizes(maxBatchSize: Int) -> [Int] {
        var sizes = Array(1...min(maxBatchSize, 64))
        var n = 128
        while n < maxBatchSize { sizes.append(n); n *= 2 }
        if maxBatchSize > 64 { sizes.append(maxBatchSize) }
        return sizes
    }

    /// Runs `model` once at each of `batchSizes(maxBatchSize:)` on zero inputs, each run holding `lock` (the batcher's
    /// inference lock: a version being loaded never runs beside the one serving). A model whose signature leaves a
    /// non-batch size free is not run; an error ends the warm-up (the model is served anyway: its requests will say
    /// what is wrong).
    /// - Returns: the number of batch sizes run.
    @discardableResult
    static func run(_ model: any ServableModel, maxBatchSize: Int, lock: NSLock) -> Int {
        let inputs = model.signature.inputs
        guard inputs.allSatisfy({ $0.shape.dropFirst().allSatisfy { $0 > 0 } }) else { return 0 }
        var done = 0
        for n in batchSizes(maxBatchSize: maxBatchSize) {
            let zeros = inputs.map { Tensor.zeros([n] + Array($0.shape.dropFirst()), dtype: $0.dtype) }
            do { _ = try lock.withLock { try noGrad { try model.predict(zeros) } } } catch { break }
            done += 1
        }
        return done
    }
}
