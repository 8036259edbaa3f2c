/// The reduction a collective applies across ranks (`torch.distributed.ReduceOp`).
public enum ReduceOp: Int, Sendable, CustomStringConvertible {
    /// Element-wise sum.
    case sum = 0
    /// Element-wise mean (sum ÷ world size); floating-point tensors only.
    case mean = 1
    /// Element-wise maximum (logical or for bool tensors).
    case max = 2
    /// Element-wise minimum (logical and for bool tensors).
    case min = 3

    /// The op's name (`sum`, `mean`, `max`, `min`).
    public var description: String {
        switch self {
        case .sum: return "sum"
        case .mean: return "mean"
        case .max: return "max"
        case .min: return "min"
        }
    }
}

/// The communication library behind a process group.
public enum DistributedBackend: String, Sendable {
    /// Open MPI, loaded at run time; processes are started with `mpirun` (or Slurm's `srun --mpi=pmix`).
    case mpi
}
