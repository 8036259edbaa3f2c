/// Where a compiled graph's intermediates live: one arena per dtype and device, in which buffers whose lifetimes do
/// not overlap share bytes.
///
/// Lifetimes run from the first node that touches a buffer to the last (a backward that reads a forward's context
/// touches what that forward touched); outputs, gradients and constant-folded buffers live for the whole run (so a
/// `.grad` handed out after a run is never reused for something else by the next). Buffers a backend allocates and
/// returns itself (fused backward ops) are not planned: `returnedBytes` says how many bytes those are. Offsets come
/// from greedy placement (TensorFlow Lite's greedy-by-size: each buffer in the smallest gap between the buffers it
/// overlaps in time), tried in three orders (largest first, longest-lived first, largest size × lifetime first); the
/// smallest arena wins.
public struct MemoryPlan: @unchecked Sendable {
    /// Buffer → arena index and offset in elements.
    let placement: [Int: (arena: Int, offset: Int)]
    /// The arenas, shared across runs.
    let storages: [Storage]
    /// Bytes of all arenas: the peak memory of the graph's intermediates.
    public let peakBytes: Int
    /// Bytes the same intermediates would take with one buffer each (what eager allocates over a run).
    public var unplannedBytes: Int = 0
    /// The most bytes of intermediates alive at one node: no plan can use fewer.
    public var liveBytesBound: Int = 0
    /// Bytes of the buffers nodes allocate and return at each run (outside the plan), all together.
    public var returnedBytes: Int = 0

    /// Buffers a node returns (allocated by the backend at each run, so not planned).
    static func returnedBuffers(_ g: CompiledGraph) -> Set<Int> {
        var s = Set<Int>()
        for n in g.nodes { for r in n.returned { if let r { s.insert(r.buffer) } } }
        return s
    }

    /// Elements a buffer takes in its arena: its count, rounded up to whole 64-byte lines.
    private static func footprint(_ buf: TracedBuffer) -> Int {
        let perLine = Swift.max(1, 64 / buf.dtype.itemSize)
        return (Swift.max(buf.count, 1) + perLine - 1) / perLine * perLine
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
        // Outputs, gradients and constant-folded buffers (written once, before any run) live for the whole run.
        var whole = g.liveOut
        for (i, n) in g.nodes.enumerated() where i < g.folded.count && g.folded[i] { for w in n.writes { whole.insert(w.buffer) } }
        for b in whole where start[b] != Int.max { start[b] = -1; end[b] = Int.max }
        let planned = g.buffers.indices.filter { b in
            g.buffers[b].role == .intermediate && !dynamic.contains(b) && start[b] != Int.max
        }
        func backend(_ b: Int) -> any Backend { g.nodes.first { $0.touched.contains(b) }?.backend ?? Device.cpu.backend }
        // One arena per dtype and device.
        var groups: [String: [Int]] = [:]
        var groupOrder: [String] = []
        for b in planned {
            let key = "\(g.buffers[b].dtype)@\(backend(b).device)"
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(b)
        }
        var placement: [Int: (arena: Int, offset: Int)] = [:]
        var storages: [Storage] = []
        var bytes = 0, unplanned = 0
        /// Places `order`'s buffers one by one, each in the smallest gap between the buffers it overlaps in time.
        func place(_ order: [Int]) -> (offsets: [Int: Int], size: Int) {
            var placed: [(buffer: Int, offset: Int, size: Int)] = []
            var offsets: [Int: Int] = [:], arenaSize = 0
            for b in order {
                let size = footprint(g.buffers[b])
                let overlapping = placed.filter { !(end[$0.buffer] < start[b] || end[b] < start[$0.buffer]) }
                    .sorted { $0.offset < $1.offset }
                var best: Int? = nil, bestGap = Int.max, cursor = 0
                for p in overlapping {
                    let gap = p.offset - cursor
                    if gap >= size && gap < bestGap { best = cursor; bestGap = gap }
                    cursor = Swift.max(cursor, p.offset + p.size)
                }
                let offset = best ?? cursor
                placed.append((b, offset, size))
                offsets[b] = offset
                arenaSize = Swift.max(arenaSize, offset + size)
            }
            return (offsets, arenaSize)
        }
        for key in groupOrder {
            let members = groups[key]!
            for b in members { unplanned += g.buffers[b].count * g.buffers[b].dtype.itemSize }
            // Greedy by size (TensorFlow Lite's), then two other orders greedy placement often does better with:
            // longest-lived first, and largest size × lifetime first; the smallest arena wins.
            func life(_ b: Int) -> Int { Swift.min(end[b], g.nodes.count) - Swift.max(start[b], 0) + 1 }
            let bySize = members.sorted { footprint(g.buffers[$0]) != footprint(g.buffers[$1])
                ? footprint(g.buffers[$0]) > footprint(g.buffers[$1]) : start[$0] < start[$1] }
            let byLife = members.sorted { life($0) != life($1) ? life($0) > life($1)
                : footprint(g.buffers[$0]) != footprint(g.buffers[$1]) ? footprint(g.buffers[$0]) > footprint(g.buffers[$1]) : $0 < $1 }
            let byArea = members.sorted { footprint(g.buffers[$0]) * life($0) != footprint(g.buffers[$1]) * life($1)
                ? footprint(g.buffers[$0]) * life($0) > footprint(g.buffers[$1]) * life($1) : $0 < $1 }
            let best = [bySize, byLife, byArea].map(place).min { $0.size < $1.size }!
            for (b, offset) in best.offsets { placement[b] = (storages.count, offset) }
            let arenaSize = best.size
            let dtype = g.buffers[members[0]].dtype
            storages.append(Storage.allocate(count: arenaSize, dtype: dtype, backend: backend(members[0])))
            bytes += arenaSize * dtype.itemSize
        }
        var p = MemoryPlan(placement: placement, storages: storages, peakBytes: bytes)
        p.unplannedBytes = unplanned
        var bound = 0
        for i in g.nodes.indices {
            var live = 0
            for b in planned where start[b] <= i && i <= end[b] { live += g.buffers[b].count * g.buffers[b].dtype.itemSize }
            bound = Swift.max(bound, live)
        }
        p.liveBytesBound = bound
        p.returnedBytes = dynamic.reduce(0) { $0 + g.buffers[$1].count * g.buffers[$1].dtype.itemSize }
        return p
    }
}
