/// Why a process group could not start or a collective could not run.
///
/// A collective called with different shapes, dtypes or collectives on different ranks throws
/// `.mismatch` on every rank (the ranks exchange a small description of the call first), rather than hang
/// or reduce garbage.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// The MPI library could not be loaded (`reason` says what was tried).
    case libraryUnavailable(String)
    /// An MPI call returned an error code.
    case mpiFailed(call: String, code: Int)
    /// The ranks called a collective with different arguments; `details` lists each rank's call.
    case mismatch(collective: String, details: String)
    /// A collective's arguments are invalid on this rank (e.g. a mean over an integer tensor).
    case invalidArgument(String)
    /// The process group was used before `ProcessGroup.initialize` or after `destroy`.
    case notInitialized

    /// The error as one readable line.
    public var description: String {
        switch self {
        case .libraryUnavailable(let why): return "distributed: \(why)"
        case .mpiFailed(let call, let code): return "distributed: \(call) failed with MPI error code \(code)"
        case .mismatch(let collective, let details):
            return "distributed: \(collective): the ranks disagree on the call (every rank must pass the same shape and dtype): \(details)"
        case .invalidArgument(let why): return "distributed: \(why)"
        case .notInitialized: return "distributed: no process group; call `try ProcessGroup.initialize(backend: .mpi)` first"
        }
    }
}
