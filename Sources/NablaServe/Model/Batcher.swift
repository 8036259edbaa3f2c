import Foundation
import Nabla
import NablaServeCore

/// The bounded request queue and the inference thread that merges concurrent requests into batches.
///
/// Requests are decoded on Swift's cooperative threads and submitted here; ONE dedicated thread (never an event loop)
/// takes the oldest request, adds the ones queued behind it for the same model version until the batch holds
/// `maxBatchSize` rows or `maxWaitMicroseconds` have passed (waiting only while requests are still arriving),
/// concatenates their inputs, runs the model once and hands each request its rows of the outputs.
final class Batcher: @unchecked Sendable {
    // Unchecked: every mutable field is guarded by `cond`.
    struct Item {
        let version: LoadedVersion
        let inputs: [Tensor]
        let rows: Int
        let enqueued: UInt64
        let done: @Sendable (Result<[Tensor], ServeError>) -> Void
    }

    let options: BatchingOptions
    /// Called with the rows of each batch run (metrics).
    let onBatch: @Sendable (Int) -> Void
    private let cond = NSCondition()
    private var queue: [Item] = []
    private var head = 0
    private var queuedRows = 0
    private var arriving = 0
    private var stopping = false
    private var finished = false
    private var thread: Thread?
    /// Held while a model runs: the inference thread's batches and a new version's warm-up never run at once.
    let inferenceLock = NSLock()

    init(options: BatchingOptions, onBatch: @escaping @Sendable (Int) -> Void) {
        self.options = options; self.onBatch = onBatch
    }

    /// Rows waiting now.
    var queued: Int { cond.lock(); defer { cond.unlock() }; return queuedRows }

    /// Starts the inference thread.
    func start() {
        let t = Thread(block: { [self] in self.loop() })
        t.name = "nabla-serve-inference"
        t.stackSize = 8 << 20
        cond.lock(); thread = t; cond.unlock()
        t.start()
    }

    /// Lets the queued requests finish, then ends the thread; later submissions get 503. Returns when the thread ended.
    func stop() {
        cond.lock()
        stopping = true
        cond.broadcast()
        while thread != nil && !finished { cond.wait() }
        cond.unlock()
    }

    /// A request has started to arrive (its body is being read or decoded): the batch being formed may wait for it.
    func arrive() { cond.lock(); arriving += 1; cond.unlock() }
    /// A request that called `arrive()` was submitted or failed.
    func leave() { cond.lock(); arriving -= 1; cond.broadcast(); cond.unlock() }

    /// Queues `inputs` (`rows` samples) for `version` and returns that request's outputs.
    /// - Throws: `ServeError` 503 when the queue is full or the server is stopping, 500 when the model failed.
    /// With `arrived`, the request's `arrive()` is balanced here, atomically with its queueing.
    func submit(_ inputs: [Tensor], rows: Int, version: LoadedVersion, arrived: Bool = false) async throws(ServeError) -> [Tensor] {
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<[Tensor], ServeError>, Never>) in
            let item = Item(version: version, inputs: inputs, rows: rows, enqueued: DispatchTime.now().uptimeNanoseconds,
                            done: { c.resume(returning: $0) })
            cond.lock()
            if arrived { arriving -= 1 }
            if stopping {
                cond.unlock()
                c.resume(returning: .failure(.unavailable("the server is shutting down")))
                return
            }
            guard queuedRows == 0 || queuedRows + rows <= options.maxQueuedRows else {
                let q = queuedRows
                cond.unlock()
                c.resume(returning: .failure(.unavailable("the request queue is full (\(q) rows waiting, limit \(options.maxQueuedRows)); retry later")))
                return
            }
            queue.append(item)
            queuedRows += rows
            cond.broadcast()
            cond.unlock()
        }
        return try result.get()
    }

    private func loop() {
        while true {
            cond.lock()
            while head == queue.count && !stopping { cond.wait() }
            if head == queue.count && stopping {
                finished = true
                cond.broadcast()
                cond.unlock()
                return
            }
            var batch = [queue[head]]
            head += 1
            var rows = batch[0].rows
            let deadline = batch[0].enqueued + UInt64(max(0, options.maxWaitMicroseconds)) * 1000
            gather: while rows < options.maxBatchSize {
                if head < queue.count {
                    let next = queue[head]
                    // Only requests whose samples have the same shapes share a pass (free sizes may differ).
                    guard next.version.version == batch[0].version.version, next.version.model === batch[0].version.model,
                          rows + next.rows <= options.maxBatchSize,
                          Self.sameSampleShapes(next.inputs, batch[0].inputs) else { break gather }
                    batch.append(next); head += 1; rows += next.rows
                    continue
                }
                // Nothing queued: wait for requests still arriving, until the deadline.
                let now = DispatchTime.now().uptimeNanoseconds
                guard arriving > 0, now < deadline, !stopping else { break gather }
                _ = cond.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
            }
            queuedRows -= rows
            if head > 1024 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            cond.unlock()
            run(batch, rows: rows)
        }
    }

    /// Whether two requests' inputs agree in dtype and in every size but the batch (so they can be concatenated).
    static func sameSampleShapes(_ a: [Tensor], _ b: [Tensor]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.dtype == $1.dtype && $0.shape.dropFirst() == $1.shape.dropFirst() }
    }

    private func run(_ batch: [Item], rows: Int) {
        onBatch(rows)
        let model = batch[0].version.model
        let result: Result<[Tensor], ServeError>
        do {
            let inputs = batch.count == 1 ? batch[0].inputs
                : (0..<batch[0].inputs.count).map { k in cat(batch.map { $0.inputs[k] }, dim: 0) }
            // A request larger than a batch runs in slices of `maxBatchSize` rows, so its size (bounded only by the
            // body limit) never sets the size of one forward pass.
            var parts: [[Tensor]] = []
            for start in stride(from: 0, to: rows, by: max(1, options.maxBatchSize)) {
                let n = min(options.maxBatchSize, rows - start)
                let slice = rows <= options.maxBatchSize ? inputs : inputs.map { $0.narrow(0, start: start, length: n) }
                let part = try inferenceLock.withLock { try model.predict(slice) }
                guard part.count == model.signature.outputs.count, part.allSatisfy({ $0.rank >= 1 && $0.shape[0] == n }),
                      parts.isEmpty || zip(part, parts[0]).allSatisfy({ $0.shape.dropFirst() == $1.shape.dropFirst() && $0.dtype == $1.dtype }) else {
                    throw ServeError(status: 500, "the model returned outputs of shapes \(part.map(\.shape)) for a batch of \(n)")
                }
                parts.append(part)
            }
            let outputs = parts.count == 1 ? parts[0]
                : (0..<parts[0].count).map { k in cat(parts.map { $0[k] }, dim: 0) }
            guard outputs.count == model.signature.outputs.count, outputs.allSatisfy({ $0.rank >= 1 && $0.shape[0] == rows }) else {
                throw ServeError(status: 500, "the model returned outputs of shapes \(outputs.map(\.shape)) for a batch of \(rows)")
            }
            result = .success(outputs)
        } catch {
            result = .failure((error as? ServeError) ?? ServeError(status: 500, "inference failed: \(error)"))
        }
        var start = 0
        for item in batch {
            switch result {
            case .success(let outs):
                item.done(.success(batch.count == 1 ? outs : outs.map { $0.narrow(0, start: start, length: item.rows) }))
            case .failure(let e):
                item.done(.failure(e))
            }
            start += item.rows
        }
    }
}
