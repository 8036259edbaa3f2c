import Synchronization

/// Bytes of tensor storage the backends hold, now and at the peak: PyTorch's `torch.cuda.memory_allocated()` /
/// `max_memory_allocated()` / `reset_peak_memory_stats()`, for every device together.
///
/// Counts the buffers storages take from a backend (everything above `Storage`'s inline size, 256 bytes); the small
/// buffers that live inside their storage objects are not counted. Cheap enough to stay on: two atomic operations
/// per backend allocation.
/// ```swift
/// MemoryStats.resetPeak()
/// let loss = step(x, y)
/// print(MemoryStats.peakBytes - before)   // the step's transient memory
/// ```
public enum MemoryStats {
    private static let current = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)

    /// Bytes held now.
    public static var currentBytes: Int { current.load(ordering: .relaxed) }

    /// The most bytes held at once since the process started or the last `resetPeak()`.
    public static var peakBytes: Int { peak.load(ordering: .relaxed) }

    /// Starts a new peak from the bytes held now.
    public static func resetPeak() { peak.store(current.load(ordering: .relaxed), ordering: .relaxed) }

    /// Raises the peak to `bytes` if it is lower (a profiler that reset the peak to measure one part gives back the
    /// peak it found, so an outer measurement still sees it).
    static func raisePeak(to bytes: Int) {
        var seen = peak.load(ordering: .relaxed)
        while bytes > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: bytes, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// A backend allocation of `bytes`.
    @inline(__always) static func allocated(_ bytes: Int) {
        let now = current.wrappingAdd(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// A backend buffer of `bytes` freed.
    @inline(__always) static func freed(_ bytes: Int) { current.wrappingSubtract(bytes, ordering: .relaxed) }
}
