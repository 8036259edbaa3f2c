import NablaDistributed
import NablaNN

/// `fit` under `mpirun -np N`: data-parallel training the way Horovod's Keras integration does it.
///
/// - At the start of `fit`, rank 0's weights (trainable and not) are broadcast to every rank
///   (Horovod's `BroadcastGlobalVariablesCallback(0)`), and so is the epoch training resumes from.
/// - After each backward the gradients are averaged over the ranks in one fused all-reduce per dtype
///   (Horovod's `DistributedOptimizer` with tensor fusion), so every replica takes the same step.
/// - With arrays, `batchSize` is per process, as in Horovod and DDP: every rank walks the same global order
///   (rank 0's shuffle, broadcast) in global batches of `batchSize × N` and trains on its interleaved share,
///   rows `rank, rank + N, ...`, the split `DistributedSampler` gives; the order is padded with its first samples
///   to a multiple of `N` so every rank gets the same number of non-empty batches. A `DataLoader` passed to `fit`
///   is taken as this rank's share already (give each rank `DistributedSampler.subset(of:)`).
/// - Only rank 0 prints the progress bar and runs callbacks that write files (`Callback.rankZeroOnly`:
///   `ModelCheckpoint`, `CSVLogger`, `TensorBoard`, a `modelDir`'s checkpoints and logs).
/// - At each epoch's end the logs (loss, metrics, validation values) are averaged over the ranks
///   (Horovod's `MetricAverageCallback`), and a stop requested on any rank stops every rank.
struct FitDistribution {
    let group: ProcessGroup

    /// The launcher's group when this process is one of several ranks and `enabled`, else nil.
    static func current(enabled: Bool, model: String) -> FitDistribution? {
        guard enabled, ProcessGroup.isInitialized || ProcessGroup.isLaunched() else { return nil }
        let group: ProcessGroup
        do { group = try ProcessGroup.initialize(backend: .mpi) } catch {
            nablaFail("fit: model \(model): this process was started by a launcher (mpirun) but the process group failed: \(error)")
        }
        return group.worldSize > 1 ? FitDistribution(group: group) : nil
    }

    var rank: Int { group.rank }
    var worldSize: Int { group.worldSize }
    var isRoot: Bool { group.rank == 0 }

    /// Runs a collective; a failure (mismatched calls, a broken job) stops `fit` with the collective's message.
    func run<R>(_ what: String, _ body: () throws -> R) -> R {
        do { return try body() } catch { nablaFail("fit under mpirun (rank \(rank) of \(worldSize)): \(what): \(error)") }
    }

    /// Copies rank 0's weights (and the epoch to start from) to every rank.
    func broadcastState(_ weights: [Tensor], initialEpoch: Int) -> Int {
        run("broadcasting rank 0's weights") {
            try noGrad { for w in weights { try group.broadcast(w, src: 0) } }
            let epoch = Tensor(shape: [1], data: [Int64(initialEpoch)])
            try group.broadcast(epoch, src: 0)
            return Int(epoch.toIntArray()[0])
        }
    }

    /// Replaces each parameter's gradient by its mean over the ranks: one all-reduce per dtype over the
    /// gradients laid end to end. A parameter without a gradient counts as zero and gets the mean.
    func averageGradients(_ parameters: [Tensor]) {
        var byDType: [DType: [Tensor]] = [:]
        var dtypes: [DType] = []
        for p in parameters {
            if byDType[p.dtype] == nil { dtypes.append(p.dtype) }
            byDType[p.dtype, default: []].append(p)
        }
        run("averaging the gradients") {
            try noGrad {
                for dtype in dtypes {
                    let ps = byDType[dtype]!
                    let flat = cat(ps.map { ($0.grad ?? Tensor.zeros($0.shape, dtype: dtype)).reshape([-1]) }, dim: 0)
                    try group.allReduce(flat, op: .mean)
                    var offset = 0
                    for p in ps {
                        let mean = flat.narrow(0, start: offset, length: p.count).view(p.shape)
                        if let g = p.grad, g.isContiguous, g.shape == p.shape { _ = g.copy_(mean) } else { p.grad = mean.clone() }
                        offset += p.count
                    }
                }
            }
        }
    }

    /// The sample order of one epoch, the same on every rank: rank 0's (shuffled or not), padded with its first
    /// samples to a multiple of the number of ranks (`DistributedSampler`'s padding).
    func epochOrder(count: Int, shuffle: Bool) -> Tensor {
        // Every rank draws, so the ranks' generators stay in step; rank 0's permutation is the one used.
        let order = shuffle ? Tensor.randperm(count) : Tensor.arange(count)
        run("broadcasting the shuffled order") { try group.broadcast(order, src: 0) }
        let padded = (count + worldSize - 1) / worldSize * worldSize
        guard padded > count else { return order }
        return cat([order, order.narrow(0, start: 0, length: padded - count)], dim: 0)
    }

    /// This rank's rows of a global batch of `indices` (a multiple of `worldSize` long): `rank, rank + N, ...`.
    func share(_ indices: Tensor) -> Tensor {
        indices.reshape([-1, worldSize]).narrow(1, start: rank, length: 1).reshape([-1]).contiguous()
    }

    /// The epoch's log values averaged over the ranks (same names in the same order on every rank).
    func average(_ values: [(String, Double)]) -> [(String, Double)] {
        let t = Tensor(shape: [values.count], data: values.map(\.1))
        run("averaging the epoch's logs") { try group.allReduce(t, op: .mean) }
        return zip(values, t.toDoubleArray()).map { ($0.0, $1) }
    }

    /// Whether any rank asked to stop.
    func anyStop(_ stop: Bool) -> Bool {
        let t = Tensor(shape: [1], data: [Int64(stop ? 1 : 0)])
        run("agreeing on early stopping") { try group.allReduce(t, op: .max) }
        return t.toIntArray()[0] != 0
    }
}

/// Global batches of in-memory arrays under `mpirun`: batch `k` is this rank's share of rows
/// `k·B·N ..< (k+1)·B·N` of the epoch's order.
struct ShardedArrayBatches {
    let arrays: ArrayBatches
    let distribution: FitDistribution
    var globalBatch: Int { arrays.batchSize * distribution.worldSize }
    var paddedCount: Int { (arrays.count + distribution.worldSize - 1) / distribution.worldSize * distribution.worldSize }
    var steps: Int { (paddedCount + globalBatch - 1) / globalBatch }

    func batches(shuffle: Bool) -> AnyIterator<([Tensor], [Tensor])> {
        let order = distribution.epochOrder(count: arrays.count, shuffle: shuffle)
        let (steps, globalBatch, padded) = (self.steps, self.globalBatch, paddedCount)
        var k = 0
        return AnyIterator {
            guard k < steps else { return nil }
            defer { k += 1 }
            let start = k * globalBatch
            let mine = distribution.share(order.narrow(0, start: start, length: Swift.min(globalBatch, padded - start)))
            return (arrays.xs.map { $0.indexSelect(dim: 0, index: mine) }, arrays.ys.map { $0.indexSelect(dim: 0, index: mine) })
        }
    }
}
