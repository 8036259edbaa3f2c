/// Where a compiled graph's intermediates live: buffers whose lifetimes do not overlap share one storage.
///
/// Lifetimes run from the first node that touches a buffer to the last (a backward that reads a forward's context
/// touches what that forward touched); outputs, gradients and constant-folded
/// buffers live for the whole run. Buffers a backend allocates and returns itself (fused backward ops) are not
/// planned. Greedy best fit by size within each dtype, in node order.
public struct MemoryPlan: @unchecked Sendable {
    /// Buffer → index into `storages`.
    let slot: [Int: Int]
    /// The storages the plan allocated, shared across runs.
    let storages: [Storage]
    /// Bytes of all planned storages: the peak memory of the graph's intermediates.
    public let peakBytes: Int
    /// Bytes the same intermediates would take with one buffer each (what eager allocates over a run).
    public var unplannedBytes: Int = 0

    /// Buffers a node returns (allocated by the backend at each run, so not planned).
    static func returnedBuffers(_ g: CompiledGraph) -> Set<Int> {
        var s = Set<Int>()
        for n in g.nodes { for r in n.returned { if let r { s.insert(r.buffer) } } }
        return s
    }

    /// Plans the intermediates of `g`.
    static func make(for g: CompiledGraph) -> MemoryPlan {
        let dynamic = returnedBuffers(g)
        var start = [Int](repeating: Int.max, count: g.buffers.count), end = [Int](repeating: -1, count: g.buffers.count)
        for (i, n) in g.nodes.enumerated() {
            for b in n.touched { start[b] = Swift.min(start[b], i); end[b] = Swift.max(end[b], i) }
            // A backward reads, through its context, what its forward read and wrote (attention's q, k, v).
            if let c = n.contextFrom { for b in g.nodes[c].touched { end[b] = Swift.max(end[b], i) } }
        }
        for b in g.liveOut { end[b] = Int.max }
        // Constant-folded buffers are written once, before any run: they live from before the first node to the end.
        for (i, n) in g.nodes.enumerated() where i < g.folded.count && g.folded[i] {
            for w in n.writes { start[w.buffer] = -1; end[w.buffer] = Int.max }
        }
        let planned = g.buffers.indices.filter { b in
            g.buffers[b].role == .intermediate && !dynamic.contains(b) && start[b] != Int.max
        }.sorted { start[$0] < start[$1] }
        var slot: [Int: Int] = [:]
        var storages: [Storage] = []
        var busyUntil: [Int] = []   // per storage: last node index of its current buffer
        var bytes = 0, unplanned = 0
        for b in planned {
            let buf = g.buffers[b]
            unplanned += buf.count * buf.dtype.itemSize
            // The smallest free storage of the same dtype that is large enough (and not more than twice as large).
            var best: Int? = nil
            for (k, s) in storages.enumerated() where busyUntil[k] < start[b] && s.dtype == buf.dtype {
                let cap = s.byteCount / buf.dtype.itemSize
                guard cap >= buf.count && cap <= 2 * Swift.max(buf.count, 32) else { continue }
                if best == nil || s.byteCount < storages[best!].byteCount { best = k }
            }
            if let k = best {
                slot[b] = k; busyUntil[k] = end[b]
            } else {
                let backend = g.nodes.first { $0.touched.contains(b) }?.backend ?? Device.cpu.backend
                storages.append(Storage.allocate(count: buf.count, dtype: buf.dtype, backend: backend))
                busyUntil.append(end[b])
                slot[b] = storages.count - 1
                bytes += Swift.max(buf.count, 1) * buf.dtype.itemSize
            }
        }
        var p = MemoryPlan(slot: slot, storages: storages, peakBytes: bytes)
        p.unplannedBytes = unplanned
        return p
    }
}
