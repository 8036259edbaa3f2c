import Synchronization

/// Deadlines for the requests in flight, enforced by one timer task for the whole server.
///
/// A request that must finish something within a time (its body within `requestTimeout`) either registers a deadline
/// with the action that ends it and removes it when done, or races its work against `sleep(for:)` in a task group
/// (a drop-in for `Task.sleep(for:)`). One watchdog task, alive only while deadlines are registered, wakes every
/// `tick` and runs the actions of the deadlines that passed.
///
/// Why not `Task.sleep` (a task group racing the read against `Task.sleep(for: timeout)`, as the server first did):
/// cancelling a sleeping task resumes it early, but on Linux its timer stays queued in the executor until the
/// original deadline. At 2 200 requests/s and a 30 s timeout that held 66 000 timers with their tasks (about 730
/// bytes each), some 50 MB that rose and fell with the request rate: the soak's RSS growth under load (the serving
/// guide's "Memory" section).
public final class RequestDeadlines: Sendable {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }
    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var watching = false
    }
    private let state = Mutex(State())
    /// How often the watchdog looks at the deadlines: deadlines fire at most this late.
    public let tick: Duration

    /// Creates an empty set of deadlines checked every `tick`.
    public init(tick: Duration = .milliseconds(50)) {
        self.tick = tick
    }

    /// Deadlines registered now.
    public var count: Int { state.withLock { $0.entries.count } }
    /// Whether the watchdog task is alive (it is only while deadlines are registered, and one tick after the last).
    public var isWatching: Bool { state.withLock { $0.watching } }

    /// Runs `expire` once `timeout` has passed, unless `remove` is called with the returned token before.
    public func register(after timeout: Duration, _ expire: @escaping @Sendable () -> Void) -> UInt64 {
        let entry = Entry(deadline: .now + timeout, expire: expire)
        let (token, start) = state.withLock { s -> (UInt64, Bool) in
            s.next += 1
            s.entries[s.next] = entry
            let start = !s.watching
            s.watching = true
            return (s.next, start)
        }
        if start { Task.detached { [self] in await self.watch() } }
        return token
    }

    /// Suspends until `timeout` has passed, or throws `CancellationError` as soon as the task is cancelled: what
    /// `Task.sleep(for:)` does, except that a cancelled sleep leaves nothing behind (its deadline is removed).
    public func sleep(for timeout: Duration) async throws {
        let gate = SleepGate()
        let token = register(after: timeout) { gate.finish(.success(())) }
        defer { remove(token) }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { gate.wait($0) }
        } onCancel: {
            gate.finish(.failure(CancellationError()))
        }
    }

    /// Forgets a deadline, so its action will not run. Returns false when it had already expired (its action ran or
    /// is running).
    @discardableResult
    public func remove(_ token: UInt64) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: token) } != nil
    }

    /// The watchdog: fires what expired every tick, and ends when no deadline is left (a later `register` starts a
    /// new one).
    private func watch() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, done) = state.withLock { s -> ([@Sendable () -> Void], Bool) in
                let due = s.entries.filter { $0.value.deadline <= now }
                for token in due.keys { s.entries[token] = nil }
                if s.entries.isEmpty { s.watching = false }
                return (due.values.map(\.expire), !s.watching)
            }
            for expire in expired { expire() }
            if done { return }
        }
    }
}

/// One sleeper's continuation and outcome: whichever of the deadline and the cancellation comes first resumes it,
/// even when it comes before the continuation exists.
private final class SleepGate: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Void, any Error>?
        var outcome: Result<Void, any Error>?
    }
    private let state = Mutex(State())

    func wait(_ c: CheckedContinuation<Void, any Error>) {
        let ready = state.withLock { s -> Result<Void, any Error>? in
            if s.outcome == nil { s.continuation = c }
            return s.outcome
        }
        if let ready { c.resume(with: ready) }
    }

    func finish(_ outcome: Result<Void, any Error>) {
        let waiting = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            defer { s.continuation = nil }
            return s.continuation
        }
        waiting?.resume(with: outcome)
    }
}
