import Foundation

/// How `allReduce` moves data between the ranks, chosen once per process from `NABLA_ALLREDUCE`
/// (`auto`, `ring` or `mpi`; default `auto`).
///
/// `ring` is Nabla's own ring all-reduce (reduce-scatter then all-gather over MPI point-to-point messages, the
/// received data combined chunk by chunk while it is in cache: `Sources/CNablaMPI/ring_allreduce.c`); `mpi` is
/// the MPI library's `MPI_Allreduce`; `auto` takes the ring from `ringThresholdBytes` up and `MPI_Allreduce` below,
/// where MPI's latency-bound algorithms (recursive doubling) win. Every rank must choose the same algorithm, which
/// `mpirun -x NABLA_ALLREDUCE` (or one environment for the whole job) ensures. See `docs/distributed.md`.
public enum AllReduceAlgorithm: String, Sendable, CaseIterable {
    /// The ring from `ringThresholdBytes` up, `MPI_Allreduce` below.
    case auto
    /// Nabla's ring all-reduce for every size.
    case ring
    /// The MPI library's `MPI_Allreduce` for every size.
    case mpi

    /// Buffers of at least this many bytes take the ring under `auto`.
    public static let ringThresholdBytes = 256 << 10

    /// The chunk, in bytes, in which the ring's reduce-scatter receives and combines (two in flight): large enough
    /// that a 100 MB all-reduce is a few dozen messages, small enough that the chunk just received is still in cache.
    static let ringChunkBytes: Int64 = 1 << 20

    /// The algorithm named by `NABLA_ALLREDUCE` in `environment` (absent or empty: `auto`).
    /// - Throws: `DistributedError.invalidArgument` for another value.
    public static func from(environment: [String: String]) throws -> AllReduceAlgorithm {
        guard let raw = environment["NABLA_ALLREDUCE"]?.trimmingCharacters(in: .whitespaces).lowercased(), !raw.isEmpty
        else { return .auto }
        guard let algorithm = AllReduceAlgorithm(rawValue: raw) else {
            throw DistributedError.invalidArgument(
                "NABLA_ALLREDUCE=\(raw): expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return algorithm
    }

    /// Whether an all-reduce of `bytes` bytes among `worldSize` ranks takes the ring.
    public func usesRing(bytes: Int, worldSize: Int) -> Bool {
        guard worldSize > 1 else { return false }
        switch self {
        case .auto: return bytes >= Self.ringThresholdBytes
        case .ring: return true
        case .mpi: return false
        }
    }
}
