/// Iteration over N operands of one shape with arbitrary strides, after merging dims that are
/// laid out back-to-back in every operand. The body receives each innermost row as pointers'
/// element offsets, a length and per-operand inner strides, and runs the tight loop itself.
struct StridedLoop {
    var shape: [Int]
    var strides: [[Int]]   // per operand, same length as shape
    var offsets: [Int]

    /// Prepares a loop; dims of size 1 are dropped and compatible neighbours merged. A shape with a zero
    /// dimension becomes one empty row (`[0]`), so that the loops run no body and divide by no zero size.
    init(shape: [Int], strides: [[Int]], offsets: [Int]) {
        if shape.contains(0) {
            self.shape = [0]
            self.strides = Array(repeating: [1], count: strides.count)
            self.offsets = offsets
            return
        }
        var sh: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = sh.last, (0..<strides.count).allSatisfy({ st[$0].last! == strides[$0][d] * shape[d] }) {
                sh[sh.count - 1] = last * shape[d]
                for k in 0..<strides.count { st[k][st[k].count - 1] = strides[k][d] }
            } else {
                sh.append(shape[d])
                for k in 0..<strides.count { st[k].append(strides[k][d]) }
            }
        }
        if sh.isEmpty { sh = [1]; for k in 0..<strides.count { st[k] = [1] } }
        self.shape = sh
        self.strides = st
        self.offsets = offsets
    }

    /// Number of innermost rows.
    var rows: Int { shape.dropLast().reduce(1, *) }
    /// Length of an innermost row.
    var rowLength: Int { shape[shape.count - 1] }

    /// Calls `body(rowOffsets, innerStrides, length)` for rows `range`, operands' offsets per row.
    func forRows(_ range: Range<Int>, _ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>, Int) -> Void) {
        guard !range.isEmpty, rowLength > 0 else { return }
        let n = strides.count
        let nd = shape.count
        let inner = (0..<n).map { strides[$0][nd - 1] }
        var idx = [Int](repeating: 0, count: max(nd - 1, 1))
        var offs = [Int](repeating: 0, count: n)
        // Unravel the first row index.
        var r = range.lowerBound
        var d = nd - 2
        while d >= 0 { idx[d] = r % shape[d]; r /= shape[d]; d -= 1 }
        for k in 0..<n {
            var o = offsets[k]
            for dd in 0..<(nd - 1) { o += idx[dd] * strides[k][dd] }
            offs[k] = o
        }
        inner.withUnsafeBufferPointer { innerP in
            offs.withUnsafeMutableBufferPointer { offP in
                for _ in range {
                    body(UnsafeBufferPointer(offP), innerP, shape[nd - 1])
                    // advance the row counter
                    var d = nd - 2
                    while d >= 0 {
                        idx[d] += 1
                        for k in 0..<n { offP[k] += strides[k][d] }
                        if idx[d] < shape[d] { break }
                        for k in 0..<n { offP[k] -= strides[k][d] * shape[d] }
                        idx[d] = 0
                        d -= 1
                    }
                }
            }
        }
    }

    /// Runs `forRows` over all rows, split across the kernel threads when the work is large: by rows, or, when there
    /// are fewer rows than threads (a broadcast scalar's zero strides merge a whole tensor into one row, as in the
    /// backward of `mean()`), by pieces of each row.
    func run(_ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>, Int) -> Void) {
        let rows = self.rows, length = rowLength
        let total = rows * length
        guard total > 0 else { return }
        let chunks = Parallel.chunks(work: total, items: rows), pieces = Parallel.chunks(work: total, items: total)
        if rows < Parallel.threads, pieces > rows {
            runPieces(pieces, body)
            return
        }
        if chunks <= 1 { forRows(0..<rows, body); return }
        withoutActuallyEscaping(body) { body in
            Parallel.forEach(chunks) { c in
                let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
                if lo < hi { forRows(lo..<hi, body) }
            }
        }
    }

    /// `run` over `pieces` ranges of whole vectors of the rows laid end to end, each row's piece handed to `body`
    /// with its operands' offsets moved to the piece's start.
    private func runPieces(_ pieces: Int, _ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>, Int) -> Void) {
        let length = rowLength, total = rows * length, n = strides.count
        let step = ((total + pieces - 1) / pieces + 15) & ~15
        withoutActuallyEscaping(body) { body in
            Parallel.forEach(pieces) { c in
                var at = c * step
                let end = min(total, at + step)
                while at < end {
                    let row = at / length, start = at % length, count = min(length - start, end - at)
                    forRows(row..<(row + 1)) { offs, inner, _ in
                        let moved = (0..<n).map { offs[$0] + start * inner[$0] }
                        moved.withUnsafeBufferPointer { body($0, inner, count) }
                    }
                    at += count
                }
            }
        }
    }
}

/// The kernel thread pool: sized to the cores, used only above a size threshold; its workers spin between jobs
/// (`Parallel.forEach` in ParallelSpinning.swift).
package enum Parallel {
    /// Elements below which kernels stay on the calling thread.
    public static let grain = 32_768
    @exclusivity(unchecked) nonisolated(unsafe) static var threadCount: Int = max(1, min(System.coreCount, 64))

    /// Number of worker threads kernels split large work across.
    public static var threads: Int { threadCount }

    /// Sets the kernel thread count (and OpenBLAS's) — `torch.set_num_threads`.
    public static func setThreads(_ n: Int) {
        check(n >= 1, "setNumThreads: expected at least 1 thread, got \(n)")
        threadCount = n
        BLAS.setThreads(n)
    }

    /// How many chunks to split `work` elements spread over `items` independent items into.
    static func chunks(work: Int, items: Int) -> Int {
        if work < grain || items < 2 || threadCount < 2 { return 1 }
        return min(threadCount, items, work / (grain / 2))
    }

    /// Splits `0..<count` into contiguous ranges of at least `minChunk` elements and runs `body` on them
    /// concurrently, one range per thread; small counts run on the calling thread. For elementwise kernels
    /// outside the core (optimizer steps), whose elements are independent of each other.
    package static func forRanges(_ count: Int, minChunk: Int = grain, _ body: (Range<Int>) -> Void) {
        let n = count < 2 * minChunk || threadCount < 2 ? 1 : min(threadCount, count / minChunk)
        if n == 1 { if count > 0 { body(0..<count) }; return }
        let step = ((count + n - 1) / n + 15) & ~15  // whole vectors per chunk
        forEach(n) { i in
            let lo = i * step, hi = min(count, lo + step)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Splits `0..<items` into `chunks` contiguous ranges and runs `body(range, partial, scratch)` for each on the
    /// kernel threads, where `partial` is the range's own zeroed buffer of `width` elements and `scratch` its own
    /// uninitialised buffer of `scratch` elements; returns the elementwise sum of the partial buffers (reductions
    /// such as weight gradients, summed over the batch without sharing an accumulator between threads).
    static func sumOfPartials<T: BinaryFloatingPoint>(
        items: Int, chunks: Int, width: Int, scratch: Int,
        _ body: (Range<Int>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) -> Void
    ) -> [T] {
        let partial = UnsafeMutablePointer<T>.allocate(capacity: chunks * width)
        partial.initialize(repeating: 0, count: chunks * width)
        defer { partial.deallocate() }
        forEach(chunks) { c in
            let lo = items * c / chunks, hi = items * (c + 1) / chunks
            guard lo < hi else { return }
            let buffer = UnsafeMutablePointer<T>.allocate(capacity: max(scratch, 1))
            defer { buffer.deallocate() }
            body(lo..<hi, partial + c * width, buffer)
        }
        return (0..<width).map { i in
            var s = partial[i]
            for c in 1..<max(chunks, 1) { s += partial[c * width + i] }
            return s
        }
    }
}

/// Wraps a non-Sendable value that is known to be used safely across threads.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the machine.
package enum System {
    /// Number of online CPU cores.
    public static var coreCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
