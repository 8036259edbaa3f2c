import Foundation
import NablaServe
import Synchronization
import Testing

/// The server's one watchdog for body deadlines: fires what expires, never what was removed, holds nothing after.
///
/// The limit is generous on purpose: these tests share Swift's cooperative threads with the other suites' kernels
/// (two threads on the CI machine), so every `Task.sleep` and child task may wait seconds for a thread in a full run.
@Suite(.timeLimit(.minutes(3))) struct RequestDeadlinesTests {
    /// Counts calls from any thread.
    final class Calls: Sendable {
        let n = Atomic<Int>(0)
        func add() { n.add(1, ordering: .relaxed) }
        var value: Int { n.load(ordering: .relaxed) }
    }

    @Test func anExpiredDeadlineRunsItsActionOnce() async throws {
        let deadlines = RequestDeadlines(tick: .milliseconds(10))
        let calls = Calls()
        let token = deadlines.register(after: .milliseconds(30)) { calls.add() }
        #expect(deadlines.count == 1)
        try await waitUntil { calls.value == 1 }
        #expect(deadlines.remove(token) == false, "an expired deadline is reported as expired")
        try await Task.sleep(for: .milliseconds(50))
        #expect(calls.value == 1)
    }

    @Test func removedDeadlinesNeverFireAndLeaveNothingBehind() async throws {
        let deadlines = RequestDeadlines(tick: .milliseconds(10))
        let calls = Calls()
        // As many finished requests as a busy server sees in seconds, each with a long timeout: after removal
        // nothing is held (the old per-request sleeping task kept a timer per request until its timeout).
        let tokens = (0..<10_000).map { _ in deadlines.register(after: .seconds(30)) { calls.add() } }
        #expect(deadlines.count == 10_000)
        for t in tokens { #expect(deadlines.remove(t)) }
        #expect(deadlines.count == 0)
        try await waitUntil { !deadlines.isWatching }
        #expect(calls.value == 0)
        // A later deadline starts a new watchdog.
        _ = deadlines.register(after: .milliseconds(20)) { calls.add() }
        try await waitUntil { calls.value == 1 }
        try await waitUntil { !deadlines.isWatching }
    }

    @Test func onlyTheDeadlinesThatPassedFire() async throws {
        let deadlines = RequestDeadlines(tick: .milliseconds(10))
        let early = Calls(), late = Calls()
        _ = deadlines.register(after: .milliseconds(20)) { early.add() }
        let lateToken = deadlines.register(after: .seconds(30)) { late.add() }
        try await waitUntil { early.value == 1 }
        #expect(late.value == 0 && deadlines.count == 1 && deadlines.isWatching)
        #expect(deadlines.remove(lateToken))
        try await waitUntil { !deadlines.isWatching }
        #expect(late.value == 0)
    }

    @Test func sleepReturnsAfterItsTimeoutAndACancelledSleepThrowsAtOnceLeavingNothing() async throws {
        let deadlines = RequestDeadlines(tick: .milliseconds(10))
        let start = ContinuousClock.now
        try await deadlines.sleep(for: .milliseconds(40))
        #expect(ContinuousClock.now - start >= .milliseconds(40))
        // The server's pattern, 50 times: work raced against a long sleep; the work wins and the sleep is cancelled.
        for _ in 0..<50 {
            let winner = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask { "body" }
                group.addTask { try await deadlines.sleep(for: .seconds(30)); return "timeout" }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            #expect(winner == "body")
        }
        #expect(deadlines.count == 0, "a cancelled sleep keeps no deadline")
        // Cancelled before it starts: throws without waiting.
        let t = Task { try await deadlines.sleep(for: .seconds(30)) }
        t.cancel()
        await #expect(throws: CancellationError.self) { try await t.value }
        try await waitUntil { !deadlines.isWatching }
    }

    /// Polls `condition` every 5 ms for at most 10 s.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let limit = ContinuousClock.now + .seconds(10)
        while !condition() {
            #expect(ContinuousClock.now < limit, "condition not reached within 10 s")
            if ContinuousClock.now >= limit { return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
