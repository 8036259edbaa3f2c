/// Runs a fused node: its members, one cache-sized tile of the output at a time, so the members' intermediate
/// results stay in the cache instead of making a round trip through memory each.
///
/// The output's shape is cut at the first dimension after which fewer than `tileElements` elements remain; a tile
/// is a run of indices along that dimension at one index of the dimensions before it. Each member runs its own
/// backend call (the lowering the trace recorded) on views of the tile: inputs are viewed with their broadcast
/// strides, intermediate results live in per-worker scratch tiles. Tiles are spread over the kernel threads; the
/// calls inside a tile stay below the parallel grain, so they run on the worker that owns the tile.
struct FusedKernel {
    /// Elements per tile (about 32 KB of float32 per operand: several operands fit in L2).
    static let tileElements = 8192

    let program: FusedProgram
    /// Each member's backend call.
    let calls: [NodeCall]
    /// Each member's result dtype.
    let dtypes: [DType]
    /// The output's shape (every member's).
    let shape: [Int]

    /// The dimension tiles cut along and how many of its indices one tile takes.
    private var split: (dim: Int, chunk: Int) {
        var d = shape.count - 1, inner = 1
        while d > 0 && inner * shape[d] <= Self.tileElements { inner *= shape[d]; d -= 1 }
        if shape.isEmpty { return (0, 1) }
        // Now `inner` = elements after `d`: take as many indices of `d` as fit a tile.
        return (d, Swift.max(1, Self.tileElements / Swift.max(inner, 1)))
    }

    /// The node call running the fused members.
    func call(_ backend: any Backend, _ args: NodeArgs) -> NodeResult {
        let out = args.writes[0]
        let inputs = args.reads.map { $0! }
        if shape.isEmpty || out.count == 0 {
            runTile(backend, inputs: inputs, out: out, scratch: scratchTensors(shape, backend))
            return NodeResult()
        }
        let (d, chunk) = split
        let inner = Array(shape[(d + 1)...])
        let outer = Array(shape[..<d])
        let outerCount = outer.reduce(1, *)
        let blocks = (shape[d] + chunk - 1) / chunk
        let tiles = outerCount * blocks
        let inStrides = inputs.map { Shape.broadcastStrides($0.shape, $0.strides, to: shape) }
        let outStrides = out.strides
        let workers = Parallel.chunks(work: out.count, items: tiles)
        Parallel.forEach(workers) { w in
            let scratch = scratchTensors([Swift.min(chunk, shape[d])] + inner, backend)
            var index = [Int](repeating: 0, count: d)
            for t in (tiles * w / workers)..<(tiles * (w + 1) / workers) {
                var o = t / blocks
                let j0 = (t % blocks) * chunk, len = Swift.min(chunk, shape[d] - j0)
                for k in stride(from: d - 1, through: 0, by: -1) { index[k] = o % outer[k]; o /= outer[k] }
                func view(_ x: Tensor, _ strides: [Int]) -> Tensor {
                    var off = x.offset + j0 * strides[d]
                    for k in 0..<d { off += index[k] * strides[k] }
                    return Tensor(storage: x.storage, shape: [len] + inner, strides: Array(strides[d...]), offset: off)
                }
                let tileScratch = len == scratch.first?.shape[0] ? scratch : scratch.map {
                    Tensor(storage: $0.storage, shape: [len] + inner, strides: Shape.contiguousStrides([len] + inner))
                }
                runTile(backend, inputs: zip(inputs, inStrides).map(view), out: view(out, outStrides), scratch: tileScratch)
            }
        }
        return NodeResult()
    }

    /// One scratch tensor per member but the last (whose result goes to the output).
    private func scratchTensors(_ tileShape: [Int], _ backend: any Backend) -> [Tensor] {
        let n = tileShape.reduce(1, *)
        return dtypes.dropLast().map {
            Tensor(storage: Storage.allocate(count: n, dtype: $0, backend: backend), shape: tileShape,
                   strides: Shape.contiguousStrides(tileShape))
        }
    }

    /// Runs every member on one tile.
    private func runTile(_ backend: any Backend, inputs: [Tensor], out: Tensor, scratch: [Tensor]) {
        let last = calls.count - 1
        for (m, call) in calls.enumerated() {
            let reads: [Tensor?] = program.operands[m].map { a in
                switch a {
                case .input(let k): return inputs[k]
                case .member(let k): return scratch[k]
                }
            }
            _ = call(backend, NodeArgs(reads: reads, writes: [m == last ? out : scratch[m]], context: nil, rule: nil))
        }
    }
}
