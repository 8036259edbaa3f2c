// The scenarios the NablaDistributed tests run under `mpirun -np 2 nabla-ddp-check SCENARIO`.
// Each rank prints `rank R: ...` lines; a check that fails prints `FAIL` and the process exits 1.
import Foundation
import NablaDistributed
import NablaNN
import NablaOptim
import NablaData

let scenario = CommandLine.arguments.dropFirst().first ?? "collectives"
let group: ProcessGroup
do { group = try ProcessGroup.initialize(backend: .mpi) } catch {
    print("FAIL initialize: \(error)"); exit(1)
}
let rank = group.rank, world = group.worldSize
nonisolated(unsafe) var failures = 0

func say(_ line: String) { FileHandle.standardOutput.write("rank \(rank): \(line)\n".data(using: .utf8)!) }
func expect(_ ok: Bool, _ what: @autoclosure () -> String) {
    if !ok { failures += 1; say("FAIL \(what())") }
}

/// A deterministic value for rank `r`, element `i` (small integers, exact in every dtype).
func value(_ r: Int, _ i: Int) -> Double { Double((i * 7 + r * 13) % 17) - 8 }
func input(_ r: Int, _ n: Int, _ dtype: DType) -> Tensor {
    Tensor(shape: [n], data: (0..<n).map { value(r, $0) }, dtype: dtype)
}
func close(_ a: [Double], _ b: [Double], rtol: Double) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= rtol * max(1, abs($1)) }
}

switch scenario {
case "info":
    say("world \(world) local \(group.localRank)/\(group.localWorldSize) threads \(group.threadsPerRank) level \(group.mpiThreadLevel ?? -1) \(group.libraryVersion.prefix(40))")

case "collectives":
    var checked = 0
    for dtype in [DType.float32, .float64, .int32, .int64] {
        for n in [1, 7, 1000, 100_003] {
            for op in [ReduceOp.sum, .mean, .max, .min] where !(op == .mean && !dtype.isFloatingPoint) {
                let t = input(rank, n, dtype)
                try group.allReduce(t, op: op)
                let ref: [Double] = (0..<n).map { i in
                    let vs = (0..<world).map { value($0, i) }
                    switch op {
                    case .sum: return vs.reduce(0, +)
                    case .mean: return vs.reduce(0, +) / Double(world)
                    case .max: return vs.max()!
                    case .min: return vs.min()!
                    }
                }
                expect(close(t.toDoubleArray(), ref, rtol: 1e-6), "allReduce \(op) \(dtype) n=\(n)")
                checked += 1
            }
            // broadcast from the last rank
            let b = input(rank, n, dtype)
            try group.broadcast(b, src: world - 1)
            expect(b.toDoubleArray() == input(world - 1, n, dtype).toDoubleArray(), "broadcast \(dtype) n=\(n)")
            // allGather
            let parts = try group.allGather(input(rank, n, dtype))
            expect(parts.count == world && parts.enumerated().allSatisfy { $0.element.toDoubleArray() == input($0.offset, n, dtype).toDoubleArray() },
                   "allGather \(dtype) n=\(n)")
            // reduceScatter over world * n elements
            let big = input(rank, world * n, dtype)
            let mine = try group.reduceScatter(big, op: .sum)
            let ref = (0..<n).map { i in (0..<world).map { value($0, rank * n + i) }.reduce(0, +) }
            expect(mine.shape == [n] && mine.toDoubleArray() == ref, "reduceScatter \(dtype) n=\(n)")
            checked += 3
        }
    }
    // Non-contiguous inputs: a transposed matrix and a strided slice, reduced in place.
    for dtype in [DType.float32, .float64, .int64] {
        let m = input(rank, 15, dtype).view([5, 3]).t()
        try group.allReduce(m, op: .sum)
        let ref = Tensor(shape: [15], data: (0..<15).map { i in (0..<world).map { value($0, i) }.reduce(0, +) }, dtype: dtype).view([5, 3]).t()
        expect(m.toDoubleArray() == ref.toDoubleArray(), "allReduce non-contiguous transpose \(dtype)")
        let base = input(rank, 20, dtype).view([10, 2])
        let column = base.narrow(1, start: 1, length: 1)
        try group.allReduce(column, op: .max)
        let refColumn = (0..<10).map { r in (0..<world).map { value($0, r * 2 + 1) }.max()! }
        expect(column.toDoubleArray() == refColumn, "allReduce non-contiguous column \(dtype)")
        expect(base.narrow(1, start: 0, length: 1).toDoubleArray() == (0..<10).map { value(rank, $0 * 2) }, "allReduce column leaves the other column")
        let g = try group.allGather(m)
        expect(g.allSatisfy { $0.toDoubleArray() == ref.toDoubleArray() }, "allGather non-contiguous \(dtype)")
        let bc = input(rank, 12, dtype).view([3, 4]).t()
        try group.broadcast(bc, src: 0)
        expect(bc.toDoubleArray() == input(0, 12, dtype).view([3, 4]).t().toDoubleArray(), "broadcast non-contiguous \(dtype)")
        checked += 5
    }
    // bool: max is logical or, min logical and
    let flags = Tensor(shape: [4], data: [rank == 0, true, false, rank == 1])
    try group.allReduce(flags, op: .max)
    expect(flags.toArray(Bool.self) == [true, true, false, world > 1], "allReduce bool max")
    // asynchronous forms overlap with computation and complete in order
    let a1 = input(rank, 50_000, .float32), a2 = input(rank, 3, .float64)
    let w1 = group.allReduceAsync(a1, op: .sum), w2 = group.allReduceAsync(a2, op: .mean)
    let (w3, gathered) = group.allGatherAsync(input(rank, 5, .int32))
    try w2.wait(); try w1.wait(); try w3.wait()
    expect(a1.toDoubleArray() == (0..<50_000).map { i in (0..<world).map { value($0, i) }.reduce(0, +) }, "allReduceAsync sum")
    expect(close(a2.toDoubleArray(), (0..<3).map { i in (0..<world).map { value($0, i) }.reduce(0, +) / Double(world) }, rtol: 1e-12), "allReduceAsync mean")
    expect(gathered.count == world && gathered[world - 1].toDoubleArray() == input(world - 1, 5, .int32).toDoubleArray(), "allGatherAsync")
    try group.barrier()
    checked += 5
    say(failures == 0 ? "collectives OK (\(checked) checks)" : "collectives FAILED \(failures)")

case "allreduce":
    // allReduce on the sizes where a ring goes wrong: fewer elements than ranks (empty segments), counts that split
    // unevenly, segments of many chunks; random floats against a reference summed in Double, integers exactly
    // (int64 near 2^58, which a detour through Double would round), bool or/and; every rank must hold the same bits.
    // Run with NABLA_ALLREDUCE=ring (every size on the ring), =mpi, or unset (auto: the ring from 256 KB).
    func randomInput(_ r: Int, _ n: Int, _ dtype: DType) -> Tensor {
        let g = Generator(seed: UInt64(r * 1_000_003 + n * 7 + dtype.rawValue))
        switch dtype {
        case .float32, .float64: return Tensor.randn([n], dtype: dtype, generator: g)
        case .int32: return Tensor.randint(-1000, 1000, [n], dtype: .int32, generator: g)
        case .int64: return Tensor(shape: [n], data: Tensor.randint(-1000, 1000, [n], generator: g).toArray(Int64.self).map { $0 + (1 << 58) })
        case .bool: return Tensor.randint(0, 2, [n], generator: g).ne(0)
        }
    }
    var checked = 0
    for dtype in [DType.float32, .float64, .int32, .int64] {
        for n in [1, 2, 3, 5, 65_537, (1 << 19) + 3] {
            for op in [ReduceOp.sum, .mean, .max, .min] where !(op == .mean && !dtype.isFloatingPoint) {
                let t = randomInput(rank, n, dtype)
                try group.allReduce(t, op: op)
                let inputs = (0..<world).map { randomInput($0, n, dtype) }
                if dtype.isFloatingPoint {
                    let xs = inputs.map { $0.toDoubleArray() }, got = t.toDoubleArray()
                    let eps = dtype == .float32 ? 1.2e-7 : 2.3e-16
                    var worst = 0.0
                    for i in 0..<n {
                        var sum = 0.0, scale = 0.0, high = -Double.infinity, low = Double.infinity
                        for x in xs { let v = x[i]; sum += v; scale += abs(v); high = max(high, v); low = min(low, v) }
                        let ref: Double
                        switch op {
                        case .sum: ref = sum
                        case .mean: ref = sum / Double(world)
                        case .max: ref = high
                        case .min: ref = low
                        }
                        worst = max(worst, abs(got[i] - ref) / (4 * Double(world) * eps * max(scale, 1e-30)))
                    }
                    expect(worst <= 1, "allReduce \(op) \(dtype) n=\(n): error \(worst)x the rounding bound")
                } else {
                    let xs = inputs.map { $0.toArray(Int64.self) }, got = t.toArray(Int64.self)
                    let ref: [Int64] = (0..<n).map { i in
                        var sum: Int64 = 0, high = Int64.min, low = Int64.max
                        for x in xs { let v = x[i]; sum += v; high = max(high, v); low = min(low, v) }
                        return op == .max ? high : op == .min ? low : sum
                    }
                    expect(got == ref, "allReduce \(op) \(dtype) n=\(n): differs from the exact reference")
                }
                let everywhere = try group.allGather(t)
                expect(everywhere.allSatisfy { $0.toDoubleArray().elementsEqual(t.toDoubleArray()) { $0.bitPattern == $1.bitPattern } },
                       "allReduce \(op) \(dtype) n=\(n): the ranks hold different bits")
                checked += 2
            }
        }
    }
    // bool above the ring's threshold: max is logical or, min logical and
    for op in [NablaDistributed.ReduceOp.max, NablaDistributed.ReduceOp.min] {
        let n = 300_001
        let t = randomInput(rank, n, .bool)
        try group.allReduce(t, op: op)
        let xs = (0..<world).map { randomInput($0, n, .bool).toArray(Bool.self) }
        let ref = (0..<n).map { i in op == .max ? xs.contains { $0[i] } : xs.allSatisfy { $0[i] } }
        expect(t.toArray(Bool.self) == ref, "allReduce \(op) bool n=\(n)")
        checked += 1
    }
    // a large non-contiguous column, reduced through a contiguous copy and written back
    let matrix = randomInput(rank, 2 * 200_001, .float64).view([200_001, 2])
    let column = matrix.narrow(1, start: 1, length: 1)
    try group.allReduce(column, op: .sum)
    let columns = (0..<world).map { randomInput($0, 2 * 200_001, .float64).toDoubleArray() }
    let refColumn = (0..<200_001).map { i in columns.map { $0[2 * i + 1] }.reduce(0, +) }
    expect(zip(column.toDoubleArray(), refColumn).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }, "allReduce large column")
    expect(matrix.narrow(1, start: 0, length: 1).toDoubleArray() == (0..<200_001).map { columns[rank][2 * $0] }, "allReduce large column leaves the other")
    checked += 2
    say(failures == 0 ? "allreduce OK (\(checked) checks, \(group.allReduceAlgorithm))" : "allreduce FAILED \(failures)")

case "mismatch":
    // Rank 1 passes a different shape, then a different dtype: every rank must get the error.
    let t = Tensor.zeros([rank == 1 ? 5 : 4], dtype: .float32)
    do { try group.allReduce(t); say("FAIL no shape error") } catch { say("shape error: \(error)") }
    let u = Tensor.zeros([3], dtype: rank == 1 ? .float64 : .float32)
    do { try group.allReduce(u); say("FAIL no dtype error") } catch { say("dtype error: \(error)") }
    let ints = Tensor.zeros([3], dtype: .int64)
    do { try group.allReduce(ints, op: .mean); say("FAIL no mean error") } catch { say("mean error: \(error)") }
    // different models: DistributedDataParallel fails on every rank
    do { _ = try DistributedDataParallel(Linear(4, rank == 1 ? 3 : 2)); say("FAIL no model error") } catch { say("model error: \(error)") }
    // the group still works afterwards
    let ok = Tensor([1.0, 2.0])
    try group.allReduce(ok, op: .sum)
    expect(ok.toDoubleArray() == [Double(world), 2 * Double(world)], "allReduce after errors")
    say("mismatch done")

case "ddp":
    // 2 ranks × batch 16 against 1 process × batch 32, float64, Adam, with the sampler's interleaved split
    // (shuffled, 3 epochs of 2 steps); the second step of each epoch accumulates two half batches with noSync.
    func makeModel() -> Sequential {
        Sequential(Conv2d(1, 3, kernelSize: 3), ReLU(), Flatten(), Linear(3 * 6 * 6, 16), ReLU(), Linear(16, 5)).double()
    }
    let data = Generator(seed: 42)
    let xs = Tensor.randn(64, 1, 8, 8, dtype: .float64, generator: data)
    let ys = Tensor.randint(0, 5, [64], generator: data)
    let dataset = TensorDataset(xs, ys)
    manualSeed(0)
    let reference = makeModel()
    manualSeed(UInt64(100 + rank))          // every rank starts differently: DDP must broadcast rank 0's weights
    let local = makeModel()
    if rank == 0 { try local.loadStateDict(reference.stateDict(), strict: true) }
    let ddp = try DistributedDataParallel(local, bucketCapMB: 0.004)   // ~4 KB buckets: several of them
    let refOptimizer = Adam(reference.parameters(), lr: 0.01)
    let optimizer = Adam(ddp.parameters(), lr: 0.01)
    let refSampler = DistributedSampler(count: 64, numReplicas: 1, rank: 0, shuffle: true, seed: 7)
    let sampler = DistributedSampler(count: 64, group: group, shuffle: true, seed: 7)
    let refLoader = DataLoader(refSampler.subset(of: dataset), batchSize: 32)
    let loader = DataLoader(sampler.subset(of: dataset), batchSize: 32 / world)
    var steps = 0
    for epoch in 0..<3 {
        refSampler.setEpoch(epoch); sampler.setEpoch(epoch)
        for (step, (refBatch, batch)) in zip(refLoader, loader).enumerated() {
            refOptimizer.zeroGrad()
            crossEntropy(reference(refBatch.0), refBatch.1).backward()
            refOptimizer.step()
            optimizer.zeroGrad()
            if step % 2 == 1 {
                let half = batch.0.shape[0] / 2
                ddp.noSync {
                    (crossEntropy(ddp(batch.0.narrow(0, start: 0, length: half)), batch.1.narrow(0, start: 0, length: half)) * 0.5).backward()
                }
                (crossEntropy(ddp(batch.0.narrow(0, start: half, length: half)), batch.1.narrow(0, start: half, length: half)) * 0.5).backward()
            } else {
                crossEntropy(ddp(batch.0), batch.1).backward()
            }
            try ddp.finishGradientSync()      // a no-op here: backward finished the sync
            optimizer.step()
            steps += 1
        }
    }
    var worst = 0.0
    for (a, b) in zip(ddp.module.parameters(), reference.parameters()) {
        for (u, v) in zip(a.toDoubleArray(), b.toDoubleArray()) { worst = max(worst, abs(u - v) / max(abs(v), 1e-3)) }
    }
    expect(worst <= 1e-9, "DDP parameters differ from the 1-process reference by \(worst) (rtol 1e-9)")
    var hash: UInt64 = 0xcbf29ce484222325
    for p in ddp.module.parameters() + ddp.module.buffers() {
        for v in p.toDoubleArray() { hash = (hash ^ v.bitPattern) &* 0x100000001b3 }
    }
    let stats = ddp.lastSyncStatistics
    expect(stats.map { $0.bucketsStartedEarly >= 1 && $0.buckets >= 2 } ?? false, "no bucket started during backward: \(String(describing: stats))")
    expect(stats.map { s in s.bucketStartSeconds.count == s.buckets && s.bucketStartSeconds[0] < s.lastGradientSeconds } ?? false,
           "the first bucket's timestamp is not before the last gradient: \(String(describing: stats))")
    // The same step without overlap: every bucket starts after the last gradient, and the averaged gradients are the same bits.
    let copy = makeModel()
    try copy.loadStateDict(ddp.module.stateDict(), strict: true)
    let serial = try DistributedDataParallel(copy, bucketCapMB: 0.004, overlap: false)
    let (bx, by) = (xs.narrow(0, start: rank * 16, length: 16), ys.narrow(0, start: rank * 16, length: 16))
    for net in [ddp, serial] as [Module] { net.zeroGrad(); crossEntropy(net(bx), by).backward() }
    let serialStats = serial.lastSyncStatistics
    expect(serialStats.map { s in s.bucketsStartedEarly == 0 && s.bucketStartSeconds.allSatisfy { $0 >= s.lastGradientSeconds } } ?? false,
           "overlap: false started a bucket during backward: \(String(describing: serialStats))")
    expect(zip(ddp.module.parameters(), copy.parameters()).allSatisfy { $0.grad!.toDoubleArray() == $1.grad!.toDoubleArray() },
           "gradients with and without overlap differ")
    say(String(format: "ddp steps %d buckets %d (%d started during backward) max relative difference %.3g", steps,
               ddp.bucketSizes.count, stats?.bucketsStartedEarly ?? -1, worst))
    say(String(format: "parameter hash %016llx", hash))

case "unused":
    // A parameter that gets no gradient: finishGradientSync completes the sync (its gradient counts as zero).
    final class TwoHeads: Module {
        let used = Linear(4, 2), unused = Linear(4, 2)
        override func forward(_ x: Tensor) -> Tensor { used(x) }
    }
    manualSeed(0)
    let model = TwoHeads().double()
    let ddp = try DistributedDataParallel(model)
    let x = Tensor.ones([3, 4], dtype: .float64) * Double(rank + 1)
    ddp(x).sum().backward()
    try ddp.finishGradientSync()
    guard let g = model.used.weight.grad else { say("FAIL unused: no gradient"); exit(1) }
    // d/dW sum(W x + b) = sum over rows of x: 3 (rank + 1) per entry; the mean over ranks of 3 (r + 1)
    let expected = 3.0 * Double((1...world).reduce(0, +)) / Double(world)
    expect(g.toDoubleArray().allSatisfy { abs($0 - expected) < 1e-12 }, "unused: averaged gradient \(g.toDoubleArray()) != \(expected)")
    expect(model.unused.weight.grad.map { $0.toDoubleArray().allSatisfy { $0 == 0 } } ?? false, "unused: zero gradient for the unused head")
    say("unused OK")

case "ddpbench":
    // Step time of an MLP (784-512-256-10, float32, batch 64 per rank) alone, with DDP, and with DDP without overlap;
    // the bucket timestamps of the last overlapped step.
    manualSeed(0)
    let model = Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
    let x = Tensor.randn(64, 784, generator: Generator(seed: UInt64(rank))), y = Tensor.randint(0, 10, [64], generator: Generator(seed: 9))
    func time(_ net: Module, _ steps: Int) -> Double {
        let opt = SGD(net.parameters(), lr: 0.01)
        let start = Date()
        for _ in 0..<steps { opt.zeroGrad(); crossEntropy(net(x), y).backward(); opt.step() }
        return Date().timeIntervalSince(start) / Double(steps) * 1e3
    }
    // Three copies: DDP's hooks sit on the parameters of the model it wraps, so the one timed alone is not wrapped.
    let copies = (0..<2).map { _ in Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10)) }
    let ddp = try DistributedDataParallel(copies[0], bucketCapMB: 0.5)
    let serial = try DistributedDataParallel(copies[1], bucketCapMB: 0.5, overlap: false)
    _ = time(model, 3); _ = time(ddp, 3); _ = time(serial, 3)   // warm up
    var alone: [Double] = [], parallel: [Double] = [], notOverlapped: [Double] = []
    for _ in 0..<5 {   // alternated, medians of 5 rounds of 20 steps
        try group.barrier(); alone.append(time(model, 20))
        try group.barrier(); parallel.append(time(ddp, 20))
        try group.barrier(); notOverlapped.append(time(serial, 20))
    }
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    let s = ddp.lastSyncStatistics
    say(String(format: "MLP step alone %.2f ms, with DDP %.2f ms, with DDP overlap: false %.2f ms (%d buckets, %d started during backward, last wait %.2f ms)",
               median(alone), median(parallel), median(notOverlapped), s?.buckets ?? 0, s?.bucketsStartedEarly ?? 0, (s?.waitSeconds ?? 0) * 1e3))
    if let s {
        say("bucket all-reduce starts (ms after the first gradient): " + s.bucketStartSeconds.map { String(format: "%.3f", $0 * 1e3) }.joined(separator: " ")
            + String(format: "; last gradient at %.3f ms", s.lastGradientSeconds * 1e3))
    }

case "die", "exit":
    // Rank 1 crashes (SIGKILL), or exits early, while rank 0 waits in a collective: the job must end.
    if rank == 1 { Thread.sleep(forTimeInterval: 0.5); if scenario == "die" { kill(getpid(), SIGKILL) }; exit(3) }
    let t = Tensor.zeros([4])
    try group.allReduce(t)
    say("FAIL allReduce returned after rank 1 died")

case "hang":
    // Rank 1 never calls the collective (but stays alive): the watchdog of rank 0 aborts the job.
    if rank == 1 { Thread.sleep(forTimeInterval: 120); exit(0) }
    try group.allReduce(Tensor.zeros([4]))
    say("FAIL allReduce returned although rank 1 never called it")

case "w4bench":
    // Throughput of W4's CNN (WORKLOADS.md) on synthetic 28x28 images, Adam 1e-3, global batch 128: batch 128 / world
    // per rank through DistributedDataParallel (alone: one process, batch 128). Medians of `NABLA_W4BENCH_REPEATS`
    // (default 3) timings of `NABLA_W4BENCH_STEPS` (default 40) steps after 5 warm-up steps; rank 0 prints.
    let env = ProcessInfo.processInfo.environment
    let steps = Int(env["NABLA_W4BENCH_STEPS"] ?? "") ?? 40, repeats = Int(env["NABLA_W4BENCH_REPEATS"] ?? "") ?? 3
    manualSeed(0)
    let model = Sequential(
        Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
        Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
    let net: Module = world > 1 ? try DistributedDataParallel(model) : model
    let opt = Adam(net.parameters(), lr: 1e-3)
    let perRank = 128 / world
    let data = Generator(seed: UInt64(rank))
    let x = Tensor.randn([perRank * 8, 1, 28, 28], generator: data), y = Tensor.randint(0, 10, [perRank * 8], generator: data)
    func run(_ n: Int) {
        for k in 0..<n {
            let rows = (k % 8) * perRank
            opt.zeroGrad()
            crossEntropy(net(x.narrow(0, start: rows, length: perRank)), y.narrow(0, start: rows, length: perRank)).backward()
            opt.step()
        }
    }
    run(5)
    var rates: [Double] = []
    for _ in 0..<repeats {
        try group.barrier()
        let start = Date()
        run(steps)
        try group.barrier()
        rates.append(Double(steps * 128) / Date().timeIntervalSince(start))
    }
    if rank == 0 {
        say(String(format: "W4 %d process(es) x %d thread(s), global batch 128: %.0f samples/s (median of %d: %@)", world,
                   group.threadsPerRank, rates.sorted()[rates.count / 2], repeats, rates.map { String(format: "%.0f", $0) }.joined(separator: " ")))
    }

case "keras":
    try kerasScenario(group: group, say: say, expect: expect)

case "bandwidth":
    for mb in [1, 25, 100] {
        let n = mb * 1 << 20 / 4
        let t = Tensor.zeros([n], dtype: .float32)
        try group.allReduce(t)
        var times: [Double] = []
        for _ in 0..<7 {
            try group.barrier()
            let start = Date()
            try group.allReduce(t)
            times.append(Date().timeIntervalSince(start))
        }
        let s = times.sorted()[times.count / 2]   // the median of 7
        // bus bandwidth as nccl-tests reports it: 2 (n-1)/n * bytes / time
        let bus = 2 * Double(world - 1) / Double(world) * Double(n * 4) / s / 1e9
        if rank == 0 {
            say(String(format: "allReduce %d MB float32: %.2f ms, bus bandwidth %.2f GB/s (%@)", mb, s * 1e3, bus,
                       group.allReduceAlgorithm.usesRing(bytes: n * 4, worldSize: world) ? "ring" : "MPI_Allreduce"))
        }
    }

default:
    print("usage: nabla-ddp-check collectives|allreduce|mismatch|ddp|keras|w4bench|ddpbench|unused|die|exit|hang|bandwidth|info"); exit(2)
}
exit(failures == 0 ? 0 : 1)
