/// Where a compiled graph's intermediates live: one arena per device, in which buffers whose lifetimes do not overlap
/// share bytes, whatever their element types.
///
/// Lifetimes run from the first node that touches a buffer to the last (a backward that reads a forward's context
/// touches what that forward touched); outputs, gradients and constant-folded buffers live for the whole run (so a
/// `.grad` handed out after a run is never reused for something else by the next). Buffers a backend allocates and
/// returns itself (fused backward ops) are not planned: `returnedBytes` says how many bytes those are. Offsets come
/// from greedy placement (TensorFlow Lite's greedy-by-size: each buffer in the smallest gap between the buffers it
/// overlaps in time), tried in four orders (largest first, longest-lived first, largest size × lifetime first, first
/// used first) and then in seeded random orders until one reaches the live-bytes floor; the smallest arena wins.
public struct MemoryPlan: @unchecked Sendable {
    /// Buffer → storage index (the arena typed as the buffer's dtype) and offset in elements.
    let placement: [Int: (arena: Int, offset: Int)]
    /// The arenas, shared across runs, and a storage of each other dtype over each arena's bytes.
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

    /// Bytes a buffer takes in its arena: its bytes, rounded up to whole 64-byte lines (so every offset is a multiple
    /// of 64 bytes, aligned for any element type).
    private static func footprint(_ buf: TracedBuffer) -> Int {
        (Swift.max(buf.count, 1) * buf.dtype.itemSize + 63) / 64 * 64
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
        // One arena per device, in bytes, shared by every element type (int64 pool indices reuse the bytes of dead
        // float activations), typed by one storage per dtype over the same bytes. Its owner's dtype is that of the
        // gradients the run hands out (they are views of the arena that must keep it alive), else the one with the
        // most bytes; a gradient of another dtype gets an arena of its own.
        let sinks = Set(g.gradSinks.map(\.ref.buffer))
        var ownerDType: [String: DType] = [:], bytesOf: [String: [DType: Int]] = [:]
        for b in planned {
            let device = "\(backend(b).device)", buf = g.buffers[b]
            if sinks.contains(b), ownerDType[device] == nil { ownerDType[device] = buf.dtype }
            bytesOf[device, default: [:]][buf.dtype, default: 0] += buf.count * buf.dtype.itemSize
        }
        for (device, sizes) in bytesOf where ownerDType[device] == nil {
            ownerDType[device] = sizes.max { $0.value != $1.value ? $0.value < $1.value : "\($0.key)" < "\($1.key)" }!.key
        }
        var groups: [String: [Int]] = [:]
        var groupOrder: [String] = []
        var groupDType: [String: DType] = [:]
        for b in planned {
            let device = "\(backend(b).device)", dtype = g.buffers[b].dtype, owner = ownerDType[device]!
            let key = dtype == owner || !sinks.contains(b) ? device : "\(dtype)@\(device)"
            if groups[key] == nil { groupOrder.append(key); groupDType[key] = key == device ? owner : dtype }
            groups[key, default: []].append(b)
        }
        var placement: [Int: (arena: Int, offset: Int)] = [:]
        var storages: [Storage] = []
        var bytes = 0, unplanned = 0
        /// Places `order`'s buffers one by one, each in the smallest gap between the buffers it overlaps in time;
        /// offsets and sizes in bytes.
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
        /// The most footprint bytes of `members` alive at one node: no placement of them can be smaller.
        func liveFloor(_ members: [Int]) -> Int {
            var floor = 0
            for i in -1...g.nodes.count {
                var live = 0
                for b in members where start[b] <= i && i <= end[b] { live += footprint(g.buffers[b]) }
                floor = Swift.max(floor, live)
            }
            return floor
        }
        for key in groupOrder {
            let members = groups[key]!
            for b in members { unplanned += g.buffers[b].count * g.buffers[b].dtype.itemSize }
            // Greedy by size (TensorFlow Lite's), then other orders greedy placement often does better with:
            // longest-lived first, largest size × lifetime first, and first use first; the smallest arena wins.
            func life(_ b: Int) -> Int { Swift.min(end[b], g.nodes.count) - Swift.max(start[b], 0) + 1 }
            func size(_ b: Int) -> Int { footprint(g.buffers[b]) }
            let bySize = members.sorted { size($0) != size($1) ? size($0) > size($1) : start[$0] < start[$1] }
            let byLife = members.sorted { life($0) != life($1) ? life($0) > life($1) : size($0) != size($1) ? size($0) > size($1) : $0 < $1 }
            let byArea = members.sorted { size($0) * life($0) != size($1) * life($1) ? size($0) * life($0) > size($1) * life($1) : $0 < $1 }
            let byStart = members.sorted { start[$0] != start[$1] ? start[$0] < start[$1] : size($0) > size($1) }
            var best = [bySize, byLife, byArea, byStart].map(place).min { $0.size < $1.size }!
            // Then seeded shuffles (the same every build), as many as keep the search to a few million steps: on W4's
            // step they reach the live-bytes floor, which the four orders miss by 13 %.
            var rng = SplitMix64(seed: 0x9E37_79B9)
            let tries = Swift.min(300, 4_000_000 / Swift.max(1, members.count * members.count))
            for _ in 0..<tries where best.size > liveFloor(members) {
                var order = members
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                let candidate = place(order)
                if candidate.size < best.size { best = candidate }
            }
            let owner = groupDType[key]!
            let arena = Storage.allocate(count: best.size / owner.itemSize, dtype: owner, backend: backend(members[0]))
            var views: [DType: Int] = [owner: storages.count]
            storages.append(arena)
            for b in members {
                let dtype = g.buffers[b].dtype
                if views[dtype] == nil {
                    views[dtype] = storages.count
                    storages.append(Storage.borrowing(arena.data, byteCount: arena.byteCount, dtype: dtype, backend: arena.backend))
                }
                placement[b] = (views[dtype]!, best.offsets[b]! / dtype.itemSize)
            }
            bytes += best.size
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

/// SplitMix64: a small deterministic generator for the plan's placement search (the same orders on every build).
private struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
