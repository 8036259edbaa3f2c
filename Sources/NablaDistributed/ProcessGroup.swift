import Foundation
import Synchronization
import CNablaMPI
import Nabla

/// The processes of a data-parallel job and the collectives between them (`torch.distributed`).
///
/// ```swift
/// let group = try ProcessGroup.initialize(backend: .mpi)   // under `mpirun -np 2 ...`
/// let t = Tensor([Double(group.rank)])
/// try group.allReduce(t, op: .sum)                          // every rank: [1.0]
/// ```
/// Launch with `mpirun -np N program` (as root add `--allow-run-as-root`). The group reads the launcher's
/// environment (`OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK`, else PMIx's `PMIX_RANK` or Slurm's `SLURM_PROCID/NTASKS/
/// LOCALID`). A process started without a launcher gets a group of one, without loading MPI, where every
/// collective is the identity: the same program runs with or without `mpirun`, and on machines without Open MPI.
///
/// Open MPI is opened with `dlopen` (see `Sources/CNablaMPI/mpi_loader.c`). Every MPI call is made from one
/// communication thread in submission order (the group requests `MPI_THREAD_SERIALIZED`); the asynchronous forms
/// (`allReduceAsync`, ...) queue on it and return a `Work`. Each rank sizes Nabla's kernel threads and OpenBLAS's
/// to the cores divided by the ranks on its node.
///
/// Collectives work in place on contiguous tensors and copy back into non-contiguous ones. Before each collective
/// the ranks exchange its kind, dtype and shape; a disagreement throws `DistributedError.mismatch` on every rank.
/// A rank that dies makes `mpirun` stop the job (MPI's default error handler, `MPI_ERRORS_ARE_FATAL`); a rank
/// whose collective waits longer than `NABLA_DISTRIBUTED_TIMEOUT` seconds (default 600) aborts the job.
public final class ProcessGroup: @unchecked Sendable {
    /// This process's rank, 0 ..< `worldSize`.
    public let rank: Int
    /// Number of processes.
    public let worldSize: Int
    /// This process's rank among the processes on its machine.
    public let localRank: Int
    /// Number of processes on this machine.
    public let localWorldSize: Int
    /// The backend.
    public let backend: DistributedBackend
    /// The MPI thread level the library granted (`MPI_THREAD_*`, 0-3), or nil for a group of one without MPI.
    public let mpiThreadLevel: Int?
    /// The MPI library's version string ("Open MPI v4.1.4, ..."), or "" without MPI.
    public let libraryVersion: String
    /// The kernel (and OpenBLAS) threads this rank uses: cores ÷ ranks on this machine, or `NABLA_NUM_THREADS`.
    public let threadsPerRank: Int
    /// How `allReduce` moves data (`NABLA_ALLREDUCE`: `auto`, `ring` or `mpi`; default `auto`).
    public let allReduceAlgorithm: AllReduceAlgorithm

    let comm: CommunicationThread
    let usesMPI: Bool

    private static let current = Mutex<ProcessGroup?>(nil)
    private static let initializing = NSRecursiveLock()

    /// The group `initialize` made, or nil.
    public static var `default`: ProcessGroup? { current.withLock { $0 } }

    /// Whether `initialize` has run (`torch.distributed.is_initialized`).
    public static var isInitialized: Bool { current.withLock { $0 != nil } }

    /// Whether a launcher (`mpirun`, `srun`) started this process as one of several ranks, read from `environment`
    /// without initialising anything; `initialize` then starts MPI, else it makes a group of one.
    public static func isLaunched(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        LaunchEnvironment(environment).launched || environment["NABLA_DISTRIBUTED_FORCE_MPI"] == "1"
    }

    private init(rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int, backend: DistributedBackend,
                 mpiThreadLevel: Int?, libraryVersion: String, comm: CommunicationThread, usesMPI: Bool,
                 allReduceAlgorithm: AllReduceAlgorithm, threads: Int? = nil) {
        self.rank = rank; self.worldSize = worldSize; self.localRank = localRank; self.localWorldSize = localWorldSize
        self.backend = backend; self.mpiThreadLevel = mpiThreadLevel; self.libraryVersion = libraryVersion
        self.comm = comm; self.usesMPI = usesMPI; self.allReduceAlgorithm = allReduceAlgorithm
        self.threadsPerRank = threads ?? max(1, System.coreCount / max(1, localWorldSize))
    }

    /// Starts (once per process) the process group of the launcher that started this process
    /// (`torch.distributed.init_process_group`); later calls return the same group.
    ///
    /// - Parameters:
    ///   - backend: `.mpi` (Open MPI).
    ///   - environment: The environment to read the launcher's variables from (default: the process's).
    /// - Throws: `DistributedError.libraryUnavailable` when launched by `mpirun` but libmpi cannot be loaded,
    ///   `.mpiFailed` when `MPI_Init_thread` fails, `.invalidArgument` for a `NABLA_ALLREDUCE` other than `auto`,
    ///   `ring` or `mpi`.
    @discardableResult
    public static func initialize(backend: DistributedBackend = .mpi,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
        // One initialisation at a time: a second caller waits and gets the first one's group.
        initializing.lock()
        defer { initializing.unlock() }
        if let existing = ProcessGroup.default { return existing }
        let launch = LaunchEnvironment(environment)
        let timeout = environment["NABLA_DISTRIBUTED_TIMEOUT"].flatMap(Double.init) ?? 600
        let algorithm = try AllReduceAlgorithm.from(environment: environment)
        let group: ProcessGroup
        if !launch.launched && environment["NABLA_DISTRIBUTED_FORCE_MPI"] != "1" {
            let comm = CommunicationThread(timeout: timeout)
            group = ProcessGroup(rank: 0, worldSize: 1, localRank: 0, localWorldSize: 1, backend: backend,
                                 mpiThreadLevel: nil, libraryVersion: "", comm: comm, usesMPI: false,
                                 allReduceAlgorithm: algorithm)
        } else {
            guard nabla_mpi_load() == 1 else {
                throw DistributedError.libraryUnavailable(String(cString: nabla_mpi_error()))
            }
            let comm = CommunicationThread(timeout: timeout)
            var provided: Int32 = 0, rank: Int32 = 0, size: Int32 = 0
            var hosts = [UInt64]()
            try comm.run("MPI_Init_thread") {
                try mpiCheck("MPI_Init_thread", nabla_mpi_init_thread(Int32(NABLA_MPI_THREAD_SERIALIZED), &provided))
                try mpiCheck("MPI_Comm_rank", nabla_mpi_rank(&rank))
                try mpiCheck("MPI_Comm_size", nabla_mpi_size(&size))
                // Local rank and size from the host names (any launcher): rank r's host hash is hosts[r].
                var mine = hostHash()
                hosts = [UInt64](repeating: 0, count: Int(size))
                try hosts.withUnsafeMutableBytes { out in
                    try mpiCheck("MPI_Allgather", nabla_mpi_allgather(&mine, 8, out.baseAddress, Int32(NABLA_MPI_BYTE)))
                }
            }
            comm.abortWithMPI = true
            comm.label = "rank \(rank)"
            let sameHost = hosts.indices.filter { hosts[$0] == hosts[Int(rank)] }
            group = ProcessGroup(rank: Int(rank), worldSize: Int(size), localRank: launch.localRank ?? sameHost.firstIndex(of: Int(rank)) ?? 0,
                                 localWorldSize: launch.localWorldSize ?? sameHost.count, backend: backend,
                                 mpiThreadLevel: Int(provided), libraryVersion: String(cString: nabla_mpi_library_version()),
                                 comm: comm, usesMPI: true, allReduceAlgorithm: algorithm,
                                 threads: environment["NABLA_NUM_THREADS"].flatMap(Int.init).map { max(1, $0) })
            if group.threadsPerRank != Parallel.threads { Parallel.setThreads(group.threadsPerRank) }
            atexit { ProcessGroup.finalizeAtExit() }
        }
        current.withLock { $0 = group }
        return group
    }

    /// Calls `MPI_Finalize` (on the communication thread) when the process exits. `MPI_Finalize` waits for the
    /// other ranks; a rank that exits while the others still wait in a collective would wait for ever, so after
    /// 10 s it leaves without finalising, and `mpirun` then stops the job as it does for a crashed rank.
    private static func finalizeAtExit() {
        guard let group = ProcessGroup.default, group.usesMPI else { return }
        let work = group.comm.submit("MPI_Finalize") { _ = nabla_mpi_finalize() }
        if !work.wait(seconds: 10) {
            FileHandle.standardError.write(Data("nabla distributed: \(group.comm.label): MPI_Finalize did not complete in 10 s (other ranks still in a collective?); exiting without it\n".utf8))
            _exit(1)
        }
    }

    /// Blocks until every rank has reached this call (`torch.distributed.barrier`).
    public func barrier() throws {
        guard usesMPI else { return }
        try comm.run("barrier") { try mpiCheck("MPI_Barrier", nabla_mpi_barrier()) }
    }

    /// Stops the whole job with `code` (`MPI_Abort`); in a group of one, exits the process.
    public func abort(code: Int32 = 1) -> Never {
        if usesMPI { _ = nabla_mpi_abort(code) }
        exit(code)
    }
}

/// Throws `.mpiFailed` for a non-zero MPI return code.
@inline(__always)
func mpiCheck(_ call: String, _ code: Int32) throws {
    if code != 0 { throw DistributedError.mpiFailed(call: call, code: Int(code)) }
}

/// FNV-1a hash of this machine's host name.
func hostHash() -> UInt64 {
    var hash: UInt64 = 0xcbf29ce484222325
    for byte in ProcessInfo.processInfo.hostName.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
    return hash
}

/// The rank and size a launcher put in the environment.
struct LaunchEnvironment {
    var rank: Int?
    var worldSize: Int?
    var localRank: Int?
    var localWorldSize: Int?

    init(_ env: [String: String]) {
        func int(_ names: String...) -> Int? {
            for n in names { if let v = env[n], let i = Int(v.trimmingCharacters(in: .whitespaces)) { return i } }
            return nil
        }
        rank = int("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID")
        worldSize = int("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS")
        localRank = int("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID")
        localWorldSize = int("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMIX_LOCAL_SIZE")
    }

    /// Whether a launcher started this process as one of several (a rank variable, or a size above one).
    var launched: Bool { (worldSize ?? 1) > 1 || (rank != nil && worldSize == nil) }
}
