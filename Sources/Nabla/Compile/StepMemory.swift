/// Where the memory of one compiled run went: the planned arena against what nodes allocated at run time, node by
/// node (`CompiledFunction.profileMemory`). Counts what `MemoryStats` counts: tensor storages taken from a backend.
/// Kernel workspaces (im2col columns, Winograd tiles, per-thread partial sums) come from `ScratchBuffer` and the host
/// cache and are not tensor storage, in eager and compiled runs alike, so they are not in these numbers.
///
/// ```swift
/// let m = step.profileMemory(x, y)   // runs one step
/// print(m)                           // planned 41.8 MB, unplanned peak 0.5 MB, then the nodes that allocated
/// ```
public struct StepMemory: CustomStringConvertible, Sendable {
    /// What one node allocated.
    public struct Node: Sendable {
        /// Index of the node in the graph.
        public let index: Int
        /// The node's op, as text.
        public let kind: String
        /// The most bytes above the run's start the node held at once while it ran (its own temporaries and what it
        /// kept, plus what earlier nodes of the run kept).
        public let peakBytes: Int
        /// Bytes the node allocated and still held when it returned (buffers it returned to later nodes).
        public let keptBytes: Int
    }

    /// Bytes of the memory plan's arenas (allocated once, when the graph was built).
    public let plannedBytes: Int
    /// The most bytes allocated at run time above what was held when the run started: kernels' temporaries, buffers
    /// backward kernels return instead of writing into the plan, and the copies of the outputs.
    public let unplannedPeakBytes: Int
    /// The nodes that allocated anything, in run order.
    public let nodes: [Node]

    /// `planned 41.8 MB, unplanned peak 12.9 MB` and one line per allocating node.
    public var description: String {
        func mb(_ b: Int) -> String { String(format: "%.2f MB", Double(b) / 1e6) }
        var lines = ["planned \(mb(plannedBytes)), unplanned peak \(mb(unplannedPeakBytes))"]
        for n in nodes { lines.append("  node \(n.index) \(n.kind): peak \(mb(n.peakBytes)), kept \(mb(n.keptBytes))") }
        return lines.joined(separator: "\n")
    }
}
