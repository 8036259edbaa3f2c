/// Sets each group's learning rate to its initial rate times `lrLambda(epoch)` (`lr_scheduler.LambdaLR`).
///
/// The functions are not part of the state dict (as in PyTorch, where plain functions are not saved).
///
/// ```swift
/// let sched = LambdaLR(opt) { epoch in pow(0.95, Double(epoch)) }
/// ```
public final class LambdaLR: LRScheduler {
    /// One function per group.
    public let lrLambdas: [(Int) -> Double]

    /// One function for every group.
    public convenience init(_ optimizer: Optimizer, lastEpoch: Int = -1, lrLambda: @escaping (Int) -> Double) {
        self.init(optimizer, lrLambdas: Array(repeating: lrLambda, count: optimizer.paramGroups.count), lastEpoch: lastEpoch)
    }

    /// One function per group.
    public init(_ optimizer: Optimizer, lrLambdas: [(Int) -> Double], lastEpoch: Int = -1) {
        check(lrLambdas.count == optimizer.paramGroups.count,
              "LambdaLR: expected \(optimizer.paramGroups.count) lrLambdas (one per group), got \(lrLambdas.count)")
        self.lrLambdas = lrLambdas
        super.init(optimizer, lastEpoch: lastEpoch)
    }

    /// `base · lambda(epoch)`.
    public override func getLr() -> [Double] {
        zip(baseLrs, lrLambdas).map { $0 * $1(lastEpoch) }
    }
}
