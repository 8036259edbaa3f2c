import Foundation
import CNablaMPI
import Nabla

/// The collectives a group can run; the first field of the description the ranks exchange.
enum CollectiveKind: Int64 {
    case allReduce = 1, broadcast, allGather, reduceScatter
    var name: String {
        switch self {
        case .allReduce: return "allReduce"
        case .broadcast: return "broadcast"
        case .allGather: return "allGather"
        case .reduceScatter: return "reduceScatter"
        }
    }
}

/// What a rank passes to a collective, as 16 integers: kind, dtype, op, root, rank count of the shape, element
/// count, up to 9 dimensions and a hash of the whole shape.
struct CallDescription: Equatable {
    static let width = 16
    var fields: [Int64]

    init(_ kind: CollectiveKind, _ tensor: Tensor, op: ReduceOp, root: Int) {
        var f = [Int64](repeating: 0, count: Self.width)
        f[0] = kind.rawValue; f[1] = Int64(tensor.dtype.rawValue); f[2] = Int64(op.rawValue); f[3] = Int64(root)
        f[4] = Int64(tensor.shape.count); f[5] = Int64(tensor.count)
        for (i, d) in tensor.shape.prefix(9).enumerated() { f[6 + i] = Int64(d) }
        var hash: UInt64 = 0xcbf29ce484222325
        for d in tensor.shape { hash = (hash ^ UInt64(truncatingIfNeeded: d)) &* 0x100000001b3 }
        f[15] = Int64(bitPattern: hash)
        fields = f
    }

    init(fields: ArraySlice<Int64>) { self.fields = Array(fields) }

    var summary: String {
        let kind = CollectiveKind(rawValue: fields[0])?.name ?? "?"
        let dtype = DType(rawValue: Int(fields[1])).map { "\($0)" } ?? "?"
        let ndim = Int(fields[4])
        let dims = fields[6..<(6 + min(ndim, 9))].map(String.init).joined(separator: ", ") + (ndim > 9 ? ", ..." : "")
        var s = "\(kind)(shape [\(dims)], \(dtype)"
        if fields[0] == CollectiveKind.allReduce.rawValue || fields[0] == CollectiveKind.reduceScatter.rawValue {
            s += ", op \(ReduceOp(rawValue: Int(fields[2])).map { "\($0)" } ?? "?")"
        }
        if fields[0] == CollectiveKind.broadcast.rawValue { s += ", src \(fields[3])" }
        return s + ")"
    }
}

extension ProcessGroup {
    // MARK: - Synchronous collectives

    /// Reduces `tensor` across ranks with `op`, leaving the result in `tensor` on every rank (`all_reduce`).
    ///
    /// Contiguous tensors are reduced in place; a non-contiguous one through a contiguous copy written back.
    /// Large buffers go round Nabla's ring all-reduce, small ones through `MPI_Allreduce` (`allReduceAlgorithm`);
    /// the ring gives every rank the same bits.
    /// ```swift
    /// try group.allReduce(t, op: .mean)
    /// ```
    public func allReduce(_ tensor: Tensor, op: ReduceOp = .sum) throws { try allReduceAsync(tensor, op: op).wait() }

    /// Replaces `tensor` on every rank by rank `src`'s (`broadcast`).
    public func broadcast(_ tensor: Tensor, src: Int = 0) throws { try broadcastAsync(tensor, src: src).wait() }

    /// Every rank's `tensor`, in rank order (`all_gather`); all ranks pass the same shape and dtype.
    public func allGather(_ tensor: Tensor) throws -> [Tensor] {
        let (work, result) = allGatherAsync(tensor)
        try work.wait()
        return result
    }

    /// Reduces `input` across ranks with `op` and gives rank `r` the `r`-th of `worldSize` equal slices of the
    /// result along dimension 0 (`reduce_scatter_tensor`). `input.shape[0]` must be divisible by `worldSize`.
    public func reduceScatter(_ input: Tensor, op: ReduceOp = .sum) throws -> Tensor {
        let (work, result) = reduceScatterAsync(input, op: op)
        try work.wait()
        return result
    }

    // MARK: - Asynchronous collectives

    /// Starts `allReduce` on the communication thread; `tensor` holds the result after `wait()`.
    ///
    /// Neither read nor write `tensor` until `wait()` returns.
    public func allReduceAsync(_ tensor: Tensor, op: ReduceOp = .sum) -> Work {
        let buffer = tensor.isContiguous ? tensor : tensor.contiguous()
        let call = CallDescription(.allReduce, tensor, op: op, root: 0)
        let size = worldSize
        return submit(call, writeBack: (buffer, tensor)) { [self] in
            if op == .sum && tensor.dtype == .bool {
                throw DistributedError.invalidArgument("allReduce: op sum is not defined for bool tensors (use max or min)")
            }
            if op == .mean && !tensor.dtype.isFloatingPoint {
                throw DistributedError.invalidArgument("allReduce: op mean needs a floating-point tensor, got \(tensor.dtype)")
            }
            guard usesMPI else { return }
            if allReduceAlgorithm.usesRing(bytes: buffer.count * buffer.dtype.itemSize, worldSize: size) {
                try mpiCheck("ring all-reduce (MPI_Isend/MPI_Irecv)", nabla_ring_allreduce(
                    rawPointer(buffer), Int64(buffer.count), mpiType(buffer.dtype), mpiOp(op), op == .mean ? Int64(size) : 1,
                    Int32(rank), Int32(size), AllReduceAlgorithm.ringChunkBytes))
                return
            }
            try mpiCheck("MPI_Allreduce", nabla_mpi_allreduce(nil, rawPointer(buffer), Int64(buffer.count),
                                                              mpiType(buffer.dtype), mpiOp(op)))
            if op == .mean { divide(buffer, by: size) }
        }
    }

    /// Starts `broadcast` on the communication thread; `tensor` holds rank `src`'s values after `wait()`.
    public func broadcastAsync(_ tensor: Tensor, src: Int = 0) -> Work {
        let buffer = tensor.isContiguous ? tensor : tensor.contiguous()
        let call = CallDescription(.broadcast, tensor, op: .sum, root: src)
        return submit(call, writeBack: (buffer, tensor)) { [self] in
            guard src >= 0 && src < worldSize else {
                throw DistributedError.invalidArgument("broadcast: src \(src) is not a rank of a group of \(worldSize)")
            }
            guard usesMPI else { return }
            try mpiCheck("MPI_Bcast", nabla_mpi_bcast(rawPointer(buffer), Int64(buffer.count), mpiType(buffer.dtype), Int32(src)))
        }
    }

    /// Starts `allGather`; the returned tensors hold every rank's values after `wait()`.
    public func allGatherAsync(_ tensor: Tensor) -> (work: Work, result: [Tensor]) {
        let input = tensor.isContiguous ? tensor : tensor.contiguous()
        let output = Tensor.zeros([worldSize * input.count], dtype: input.dtype)
        let call = CallDescription(.allGather, tensor, op: .sum, root: 0)
        let work = submit(call, writeBack: nil) { [self] in
            guard usesMPI else { output.copy_(input.reshape([input.count])); return }
            guard input.count <= 1 << 30 else {
                throw DistributedError.invalidArgument("allGather: at most 2^30 elements per rank, got \(input.count)")
            }
            try mpiCheck("MPI_Allgather", nabla_mpi_allgather(rawPointer(input), Int64(input.count), rawPointer(output),
                                                              mpiType(input.dtype)))
        }
        let n = input.count
        return (work, (0..<worldSize).map { output.narrow(0, start: $0 * n, length: n).view(tensor.shape) })
    }

    /// Starts `reduceScatter`; the returned tensor holds this rank's slice after `wait()`.
    public func reduceScatterAsync(_ input: Tensor, op: ReduceOp = .sum) -> (work: Work, result: Tensor) {
        let source = input.isContiguous ? input : input.contiguous()
        let rows = input.shape.first ?? 0
        var outShape = input.shape
        if !outShape.isEmpty { outShape[0] = rows / worldSize }
        let output = Tensor.zeros(outShape, dtype: input.dtype)
        let call = CallDescription(.reduceScatter, input, op: op, root: 0)
        let size = worldSize
        let work = submit(call, writeBack: nil) { [self] in
            guard !input.shape.isEmpty && rows % size == 0 else {
                throw DistributedError.invalidArgument(
                    "reduceScatter: input shape \(input.shape): dimension 0 must be divisible by the world size \(size)")
            }
            if op == .sum && input.dtype == .bool {
                throw DistributedError.invalidArgument("reduceScatter: op sum is not defined for bool tensors (use max or min)")
            }
            if op == .mean && !input.dtype.isFloatingPoint {
                throw DistributedError.invalidArgument("reduceScatter: op mean needs a floating-point tensor, got \(input.dtype)")
            }
            guard usesMPI else { output.copy_(source); return }
            guard output.count <= 1 << 30 else {
                throw DistributedError.invalidArgument("reduceScatter: at most 2^30 result elements per rank, got \(output.count)")
            }
            try mpiCheck("MPI_Reduce_scatter_block", nabla_mpi_reduce_scatter_block(
                rawPointer(source), rawPointer(output), Int64(output.count), mpiType(input.dtype), mpiOp(op)))
            if op == .mean { divide(output, by: size) }
        }
        return (work, output)
    }

    // MARK: - Machinery

    /// Queues a collective: the ranks first exchange `call` (a mismatch throws on every rank), then `body` runs.
    /// `writeBack` copies a non-contiguous tensor's contiguous result back into it when the caller waits.
    func submit(_ call: CallDescription, writeBack: (buffer: Tensor, target: Tensor)?, _ body: @escaping () throws -> Void) -> Work {
        let kind = CollectiveKind(rawValue: call.fields[0])?.name ?? "collective"
        let completion: (() -> Void)? = writeBack.map { pair in
            {
                if pair.buffer !== pair.target { noGrad { _ = pair.target.copy_(pair.buffer) } } else { pair.target.markModifiedInPlace() }
            }
        }
        return comm.submit(kind, completion: completion) { [self] in
            if usesMPI { try exchange(call, kind: kind) }
            try body()
        }
    }

    /// Allgathers every rank's description of the call and throws `.mismatch` unless they are all equal.
    /// Runs on the communication thread.
    func exchange(_ call: CallDescription, kind: String) throws {
        var mine = call.fields
        var all = [Int64](repeating: 0, count: CallDescription.width * worldSize)
        try all.withUnsafeMutableBufferPointer { out in
            try mpiCheck("MPI_Allgather", nabla_mpi_allgather(&mine, Int64(CallDescription.width), out.baseAddress,
                                                              Int32(NABLA_MPI_INT64)))
        }
        let calls = (0..<worldSize).map { r in
            CallDescription(fields: all[(r * CallDescription.width)..<((r + 1) * CallDescription.width)])
        }
        if calls.allSatisfy({ $0 == calls[0] }) { return }
        throw DistributedError.mismatch(
            collective: kind, details: calls.enumerated().map { "rank \($0.offset): \($0.element.summary)" }.joined(separator: "; "))
    }
}

/// The MPI element type of `dtype`.
func mpiType(_ dtype: DType) -> Int32 {
    switch dtype {
    case .bool: return Int32(NABLA_MPI_BYTE)
    case .int32: return Int32(NABLA_MPI_INT32)
    case .int64: return Int32(NABLA_MPI_INT64)
    case .float32: return Int32(NABLA_MPI_FLOAT)
    case .float64: return Int32(NABLA_MPI_DOUBLE)
    }
}

/// The MPI reduction of `op` (`mean` sums, then divides).
func mpiOp(_ op: ReduceOp) -> Int32 {
    switch op {
    case .sum, .mean: return Int32(NABLA_MPI_SUM)
    case .max: return Int32(NABLA_MPI_MAX)
    case .min: return Int32(NABLA_MPI_MIN)
    }
}

/// The address of a contiguous CPU tensor's first element.
func rawPointer(_ t: Tensor) -> UnsafeMutableRawPointer {
    switch t.dtype {
    case .bool: return UnsafeMutableRawPointer(t.unsafeMutablePointer(Bool.self))
    case .int32: return UnsafeMutableRawPointer(t.unsafeMutablePointer(Int32.self))
    case .int64: return UnsafeMutableRawPointer(t.unsafeMutablePointer(Int64.self))
    case .float32: return UnsafeMutableRawPointer(t.unsafeMutablePointer(Float.self))
    case .float64: return UnsafeMutableRawPointer(t.unsafeMutablePointer(Double.self))
    }
}

/// Divides a contiguous floating-point tensor by `n` in place.
func divide(_ t: Tensor, by n: Int) {
    guard n > 1 else { return }
    let count = t.count
    switch t.dtype {
    case .float32:
        let p = t.unsafeMutablePointer(Float.self), d = Float(n)
        for i in 0..<count { p[i] /= d }
    case .float64:
        let p = t.unsafeMutablePointer(Double.self), d = Double(n)
        for i in 0..<count { p[i] /= d }
    default: break
    }
}
