import Foundation
import CNablaMPI

/// The one thread that makes every MPI call of a process group, in submission order.
///
/// The group asks MPI for `MPI_THREAD_SERIALIZED` and calls MPI only from this thread (initialisation and
/// finalisation included), so it runs with any thread level an MPI library provides and no two MPI calls ever
/// overlap. Collectives must be issued in the same order on every rank; a single FIFO thread keeps the order in
/// which the program started them, also for the asynchronous forms (DDP's buckets start from the backward pass).
///
/// A watchdog thread checks the running collective once a second: one that has waited longer than `timeout`
/// (environment `NABLA_DISTRIBUTED_TIMEOUT`, seconds, default 600) means a rank died or stopped calling
/// collectives; the watchdog prints which collective hung and aborts the job with `MPI_Abort` (which makes
/// `mpirun` stop every rank), then exits the process if the abort itself does not return within 10 s.
final class CommunicationThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(name: String, work: Work, body: () throws -> Void)] = []
    private var running: (name: String, since: Date)?
    private var stopped = false
    let timeout: TimeInterval
    /// Whether the watchdog may call MPI_Abort (only after MPI was initialised).
    var abortWithMPI = false
    /// A prefix for the watchdog's message ("rank 1").
    var label = "rank ?"

    init(timeout: TimeInterval) {
        self.timeout = timeout
        // The threads keep the object alive: a process group lives as long as the process.
        let worker = Thread { self.loop() }
        worker.name = "nabla-distributed-comm"
        worker.start()
        let watchdog = Thread { self.watch() }
        watchdog.name = "nabla-distributed-watchdog"
        watchdog.start()
    }

    /// Queues `body` and returns its handle.
    func submit(_ name: String, completion: (() -> Void)? = nil, _ body: @escaping () throws -> Void) -> Work {
        let work = Work(completion: completion)
        condition.lock()
        queue.append((name, work, body))
        condition.broadcast()
        condition.unlock()
        return work
    }

    /// Runs `body` on the communication thread and waits for it.
    func run(_ name: String, _ body: @escaping () throws -> Void) throws {
        try submit(name, body).wait()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped { condition.unlock(); return }
            let job = queue.removeFirst()
            running = (job.name, Date())
            condition.unlock()
            var failure: Error?
            do { try job.body() } catch { failure = error }
            condition.lock()
            running = nil
            condition.unlock()
            job.work.finish(failure)
        }
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: 1)
            condition.lock()
            let current = running
            condition.unlock()
            guard let current, Date().timeIntervalSince(current.since) > timeout else { continue }
            let message = "nabla distributed: \(label): collective `\(current.name)` has waited \(Int(timeout)) s for the other "
                + "ranks (NABLA_DISTRIBUTED_TIMEOUT); a rank died or stopped calling collectives; aborting the job\n"
            FileHandle.standardError.write(message.data(using: .utf8) ?? Data())
            let mpi = abortWithMPI
            let exitTimer = Thread { Thread.sleep(forTimeInterval: 10); _exit(124) }
            exitTimer.start()
            if mpi { _ = nabla_mpi_abort(124) }
            _exit(124)
        }
    }
}
