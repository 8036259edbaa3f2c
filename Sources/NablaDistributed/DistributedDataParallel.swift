import Foundation
import Nabla
import NablaNN

/// Wraps a module for data-parallel training: every rank runs the same model on its own share of each batch, and
/// backward leaves every rank with the mean of all ranks' gradients (`torch.nn.parallel.DistributedDataParallel`).
///
/// ```swift
/// let group = try ProcessGroup.initialize(backend: .mpi)
/// let ddp = try DistributedDataParallel(model)          // rank 0's weights everywhere
/// let opt = Adam(ddp.parameters(), lr: 1e-3)
/// for (x, y) in loader {                                // a DistributedSampler's share of the data
///     opt.zeroGrad()
///     crossEntropy(ddp(x), y).backward()                // gradients averaged over the ranks
///     opt.step()
/// }
/// ```
/// At construction rank 0's parameters and buffers are broadcast to every rank. The gradients are grouped into
/// buckets of about `bucketCapMB` megabytes, in reverse parameter order (the order backward produces them); a
/// hook on each parameter copies its gradient into its bucket, and a bucket whose gradients are all there starts
/// its all-reduce (mean) on the communication thread at once, so communication overlaps the rest of backward.
/// Buckets start in index order on every rank. When the last gradient arrives, the hook waits for every bucket and
/// writes the averaged gradients into `.grad`: when `backward()` returns, `optimizer.step()` can run. A model some
/// of whose parameters get no gradient in a step must call `finishGradientSync()` before the step (their
/// gradients count as zero); forgetting it stops at the next forward with a message.
///
/// The hooks also see gradients that `gradients(of:wrt:)` computes for parameters (PyTorch's `autograd.grad`
/// bypasses DDP's hooks): run such functional gradients inside `noSync { }`.
///
/// Every rank receives the same reduced bits and divides them the same way, so replicas stay bit-identical.
/// `noSync { }` accumulates gradients locally (gradient accumulation); the next synchronised backward reduces
/// the accumulated sum. With `broadcastBuffers` (default), rank 0's buffers (BatchNorm statistics) are broadcast
/// at every forward in training mode.
public final class DistributedDataParallel<M: Module>: Module {
    /// The wrapped model (`ddp.module`); its parameters appear as `module.<name>`.
    public let module: M
    /// The process group the gradients are averaged over.
    public let group: ProcessGroup
    /// Whether forward broadcasts rank 0's buffers in training mode.
    public let broadcastBuffers: Bool
    let reducer: GradientReducer

    /// Wraps `module`, broadcasting rank 0's parameters and buffers to every rank.
    ///
    /// - Parameters:
    ///   - module: The model; every rank must build the same architecture.
    ///   - group: The process group (default: the one `ProcessGroup.initialize` made, or a group of one).
    ///   - bucketCapMB: The size of a gradient bucket in megabytes (PyTorch's `bucket_cap_mb`, 25).
    ///   - broadcastBuffers: Broadcast rank 0's buffers at every training-mode forward.
    ///   - overlap: Start each bucket's all-reduce as soon as its gradients are ready, during backward (default).
    ///     `false` starts every bucket after the last gradient arrived (no overlap; for measuring what overlap gains).
    /// - Throws: `DistributedError.mismatch` when the ranks' models differ in parameter count, shape or dtype.
    public init(_ module: M, group: ProcessGroup? = nil, bucketCapMB: Double = 25, broadcastBuffers: Bool = true,
                overlap: Bool = true) throws {
        let group = try group ?? ProcessGroup.default ?? ProcessGroup.initialize(backend: .mpi)
        self.module = module
        self.group = group
        self.broadcastBuffers = broadcastBuffers
        let params = module.parameters().filter { $0.requiresGrad }
        self.reducer = GradientReducer(parameters: params, group: group, bucketCapBytes: Int(bucketCapMB * 1_048_576),
                                       overlap: overlap)
        super.init()
        // Same model everywhere: parameter and buffer counts first, then each tensor's shape (checked by broadcast).
        let counts = Tensor(shape: [2], data: [Int64(module.parameters().count), Int64(module.buffers().count)])
        let all = try group.allGather(counts)
        if !all.allSatisfy({ $0.toIntArray() == all[0].toIntArray() }) {
            throw DistributedError.mismatch(collective: "DistributedDataParallel", details: all.enumerated().map {
                "rank \($0.offset): \($0.element.toIntArray()[0]) parameters, \($0.element.toIntArray()[1]) buffers"
            }.joined(separator: "; "))
        }
        try noGrad {
            for t in module.parameters() + module.buffers() { try group.broadcast(t, src: 0) }
        }
        reducer.installHooks()
    }

    /// Runs the wrapped module (after broadcasting rank 0's buffers in training mode).
    public override func forward(_ input: Tensor) -> Tensor {
        reducer.checkNoPendingSync()
        if broadcastBuffers && training && group.worldSize > 1 {
            do { try noGrad { for b in module.buffers() { try group.broadcast(b, src: 0) } } } catch {
                nablaFail("DistributedDataParallel.forward: broadcasting the buffers failed: \(error)")
            }
        }
        return module(input)
    }

    /// Runs `body` without averaging gradients: backward passes inside accumulate `.grad` locally
    /// (`no_sync()`); the first synchronised backward after it averages the accumulated sum.
    public func noSync<R>(_ body: () throws -> R) rethrows -> R {
        let previous = reducer.enabled
        reducer.enabled = false
        defer { reducer.enabled = previous }
        return try body()
    }

    /// Waits for every bucket of the last backward and writes the averaged gradients into `.grad`; parameters that
    /// got no gradient count as zero. Needed only when some parameters get no gradient (backward finishes the sync
    /// by itself otherwise); a no-op when nothing is pending.
    public func finishGradientSync() throws { try reducer.finish(current: nil).map { _ in () } }

    /// The number of gradient buckets and their sizes in elements (for tests and tuning).
    public var bucketSizes: [Int] { reducer.buckets.map(\.count) }

    /// How the last synchronised backward went (see `GradientSyncStatistics`).
    public typealias SyncStatistics = GradientSyncStatistics

    /// The statistics of the last completed gradient sync (nil before the first).
    public var lastSyncStatistics: SyncStatistics? { reducer.lastStatistics }
}

/// How the last synchronised backward went: how many buckets started before the last gradient arrived (their
/// communication overlapped backward) and how long the final wait for all buckets blocked.
public struct GradientSyncStatistics: Sendable {
    /// Buckets whose all-reduce started before the last gradient arrived.
    public var bucketsStartedEarly: Int
    /// Number of buckets.
    public var buckets: Int
    /// Seconds the final wait for the buckets blocked backward (or `finishGradientSync`).
    public var waitSeconds: Double
    /// When each bucket's all-reduce started, in seconds after the first gradient of that backward arrived.
    public var bucketStartSeconds: [Double]
    /// When the last gradient arrived (the end of backward's gradient computation), in seconds after the first.
    public var lastGradientSeconds: Double
}

/// The bucketed gradient all-reduce behind `DistributedDataParallel`.
final class GradientReducer {
    struct Entry { let bucket: Int; let offset: Int; let count: Int }
    struct Bucket { let flat: Tensor; var members: [Int]; var count: Int }

    let parameters: [Tensor]
    let group: ProcessGroup
    var buckets: [Bucket] = []
    var entries: [Entry] = []
    var enabled = true
    // One synchronised backward's progress.
    var ready: [Bool]
    var missing: [Int]
    var works: [Work?]
    var nextLaunch = 0
    var active = false
    let overlap: Bool
    // Timestamps of one synchronised backward (uptime nanoseconds): first gradient, each bucket's start, last gradient.
    var firstGradientTime: UInt64 = 0
    var lastGradientTime: UInt64?
    var launchTimes: [UInt64] = []
    var lastStatistics: GradientSyncStatistics?

    init(parameters: [Tensor], group: ProcessGroup, bucketCapBytes: Int, overlap: Bool) {
        self.parameters = parameters
        self.group = group
        self.overlap = overlap
        var plans: [(dtype: DType, members: [Int], count: Int, bytes: Int)] = []
        var placed = [Entry?](repeating: nil, count: parameters.count)
        for i in parameters.indices.reversed() {
            let p = parameters[i]
            if let last = plans.indices.last, plans[last].dtype == p.dtype, plans[last].bytes < bucketCapBytes {
                placed[i] = Entry(bucket: last, offset: plans[last].count, count: p.count)
                plans[last].members.append(i); plans[last].count += p.count; plans[last].bytes += p.count * p.dtype.itemSize
            } else {
                placed[i] = Entry(bucket: plans.count, offset: 0, count: p.count)
                plans.append((p.dtype, [i], p.count, p.count * p.dtype.itemSize))
            }
        }
        buckets = plans.map { Bucket(flat: Tensor.zeros([$0.count], dtype: $0.dtype), members: $0.members, count: $0.count) }
        entries = placed.map { $0! }
        ready = [Bool](repeating: false, count: parameters.count)
        missing = buckets.map(\.members.count)
        works = [Work?](repeating: nil, count: buckets.count)
    }

    func installHooks() {
        for (i, p) in parameters.enumerated() {
            p.registerHook { [weak self] grad in self?.gradientReady(i, grad) }
        }
    }

    /// The slot of parameter `i` in its bucket, shaped like the parameter.
    func slot(_ i: Int) -> Tensor {
        let e = entries[i]
        return buckets[e.bucket].flat.narrow(0, start: e.offset, length: e.count).view(parameters[i].shape)
    }

    /// Parameter `i`'s hook: stores its (accumulated) gradient, starts the buckets that are complete, and at the
    /// last gradient finishes the sync, returning the averaged gradient to accumulate in place of `grad`.
    func gradientReady(_ i: Int, _ grad: Tensor) -> Tensor? {
        guard enabled && group.worldSize > 1 else { return nil }
        check(!ready[i], "DistributedDataParallel: parameter \(i) received two gradients in one synchronised backward "
              + "(a second backward before the step? use noSync { } for gradient accumulation)")
        if !active { firstGradientTime = DispatchTime.now().uptimeNanoseconds }
        active = true
        noGrad {
            if let old = parameters[i].grad { _ = slot(i).copy_(old + grad) } else { _ = slot(i).copy_(grad) }
        }
        ready[i] = true
        missing[entries[i].bucket] -= 1
        let startedBefore = nextLaunch
        let complete = !missing.contains { $0 > 0 }
        if complete { lastGradientTime = DispatchTime.now().uptimeNanoseconds }
        if overlap || complete { launchReadyBuckets() }
        guard nextLaunch == buckets.count else { return nil }
        do { return try finish(current: i, startedEarly: startedBefore) } catch {
            nablaFail("DistributedDataParallel: gradient all-reduce failed: \(error)")
        }
    }

    /// Starts, in index order, every bucket whose gradients are all there.
    func launchReadyBuckets() {
        while nextLaunch < buckets.count && missing[nextLaunch] == 0 {
            launchTimes.append(DispatchTime.now().uptimeNanoseconds)
            works[nextLaunch] = group.allReduceAsync(buckets[nextLaunch].flat, op: .mean)
            nextLaunch += 1
        }
    }

    /// Completes the pending sync: fills the gradients that never came (their `.grad`, or zeros), starts the
    /// remaining buckets, waits for all and writes the means into `.grad`. Returns the averaged gradient for
    /// parameter `current` (whose `.grad` the engine is about to set), or nil.
    func finish(current: Int?, startedEarly: Int? = nil) throws -> Tensor? {
        guard active else { return nil }
        for i in parameters.indices where !ready[i] {
            noGrad { if let g = parameters[i].grad { _ = slot(i).copy_(g) } else { _ = slot(i).zero_() } }
            ready[i] = true
            missing[entries[i].bucket] -= 1
        }
        let early = startedEarly ?? nextLaunch
        let lastGradient = lastGradientTime ?? DispatchTime.now().uptimeNanoseconds
        launchReadyBuckets()
        let start = DispatchTime.now().uptimeNanoseconds
        for w in works { try w?.wait() }
        let seconds = { (t: UInt64) in Double(t &- self.firstGradientTime) * 1e-9 }
        lastStatistics = .init(bucketsStartedEarly: early, buckets: buckets.count,
                               waitSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9,
                               bucketStartSeconds: launchTimes.map(seconds), lastGradientSeconds: seconds(lastGradient))
        var result: Tensor?
        noGrad {
            for (i, p) in parameters.enumerated() {
                let mean = slot(i)
                if i == current {
                    p.grad = nil
                    result = mean.clone()
                } else if let g = p.grad, g.isContiguous, g.shape == p.shape, g.dtype == p.dtype {
                    _ = g.copy_(mean)
                } else {
                    p.grad = mean.clone()
                }
            }
        }
        reset()
        return result
    }

    func reset() {
        active = false
        nextLaunch = 0
        lastGradientTime = nil
        launchTimes.removeAll(keepingCapacity: true)
        for i in ready.indices { ready[i] = false }
        missing = buckets.map(\.members.count)
        works = [Work?](repeating: nil, count: buckets.count)
    }

    func checkNoPendingSync() {
        check(!active, "DistributedDataParallel: the last backward's gradients are not synchronised (some parameters got "
              + "no gradient); call ddp.finishGradientSync() after backward and before optimizer.step()")
    }
}
