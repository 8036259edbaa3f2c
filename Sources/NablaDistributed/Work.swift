import Foundation

/// A collective started asynchronously (`torch.distributed.Work`): `wait()` blocks until it has finished.
///
/// ```swift
/// let work = group.allReduceAsync(grad, op: .sum)
/// // ... compute something else ...
/// try work.wait()   // grad now holds the sum over ranks
/// ```
/// Collectives run in the order they were started, on the group's communication thread.
public final class Work: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = false
    private var failure: Error?
    private var completion: (() -> Void)?
    private var completionRan = false

    /// `completion` runs on the thread that calls `wait()` first, after a successful collective (copying a
    /// non-contiguous tensor's result back into it).
    init(completion: (() -> Void)? = nil) { self.completion = completion }

    /// Marks the collective as done (called from the communication thread).
    func finish(_ error: Error?) {
        condition.lock()
        failure = error
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the collective has finished (successfully or not).
    public var isCompleted: Bool {
        condition.lock(); defer { condition.unlock() }
        return finished
    }

    /// Waits at most `seconds` for the collective to finish; returns whether it did.
    func wait(seconds: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock(); defer { condition.unlock() }
        while !finished { if !condition.wait(until: deadline) { return finished } }
        return true
    }

    /// Blocks until the collective has finished; rethrows its error.
    public func wait() throws {
        condition.lock()
        while !finished { condition.wait() }
        let error = failure
        let pending = completionRan ? nil : completion
        completionRan = true
        completion = nil
        condition.unlock()
        if let error { throw error }
        pending?()
    }
}
