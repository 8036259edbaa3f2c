import Foundation
import NablaDistributed
import NablaNN

/// `nabla train` under `mpirun -np N`: data-parallel with the config unchanged.
///
/// Every rank runs the same seeded loader with batches of `batch_size × N` (so every rank sees the same global
/// batch order, and resumes from the same loader state) and trains on its interleaved share, rows `rank, rank + N,
/// ...` of each global batch: `batch_size` samples per process, as `DistributedSampler` would give. The model is
/// wrapped in `DistributedDataParallel`, so the gradients are averaged over the ranks and the replicas stay
/// identical. Only rank 0 prints, logs and writes checkpoints and weights; the printed training loss and accuracy
/// are rank 0's share. Without a launcher nothing changes.
struct TrainerDistribution {
    let group: ProcessGroup

    /// The launcher's group when this process is one of several ranks, else nil.
    static func current() throws -> TrainerDistribution? {
        let group = try ProcessGroup.initialize(backend: .mpi)
        return group.worldSize > 1 ? TrainerDistribution(group: group) : nil
    }

    var worldSize: Int { group.worldSize }
    var isRoot: Bool { group.rank == 0 }

    /// Whether the global loader must drop its last batch, so that every rank's share of it is non-empty.
    func dropLast(count: Int, batchSize: Int) -> Bool {
        let tail = count % (batchSize * worldSize)
        return tail != 0 && tail < worldSize
    }

    /// The model to run forward and backward through: the module wrapped for gradient averaging.
    func wrap(_ module: Module) throws -> Module { try DistributedDataParallel(module, group: group) }

    /// This rank's share of a global batch: rows `rank, rank + worldSize, ...`.
    func share(_ batch: (Tensor, Tensor)) -> (Tensor, Tensor) {
        let rows = batch.1.shape[0]
        let index = Tensor(shape: [(rows - group.rank + worldSize - 1) / worldSize],
                           data: stride(from: group.rank, to: rows, by: worldSize).map { Int64($0) })
        return (batch.0.indexSelect(dim: 0, index: index), batch.1.indexSelect(dim: 0, index: index))
    }
}

extension Trainer {
    /// Whether this process prints, logs and writes files: rank 0 under `mpirun`, and always without it.
    public var isRoot: Bool { (ProcessGroup.default?.rank ?? 0) == 0 }
}
