import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cache of freed host buffers, reused by later tensors of a similar size: what PyTorch's CUDA caching allocator
/// does for GPU memory (and MXNet's pooled storage for the CPU), for the CPU. A training step or a served batch frees
/// and allocates the same large buffers over and over; without the cache the C allocator maps, unmaps and trims them,
/// and the kernel zeroes their pages again on every first touch (W4: 1.1 million page faults per epoch against
/// 0.25 million with the cache, 2.8 s of system time against 0.7 s; docs/performance.md).
///
/// Buffers of at least `minimumBytes` are rounded up to a size class (four per power of two, at most 25 % larger)
/// and, when freed, kept on that class's free list while the cache holds less than `limitBytes`; a buffer that
/// would take it over the limit goes back to the system. On by default with a limit of `defaultLimitBytes` (1 GiB);
/// `NABLA_HOST_CACHE_MB` sets the starting limit in MiB (0 turns the cache off, like `PYTORCH_NO_CUDA_MEMORY_CACHING`).
/// Buffers allocated while the cache was off are freed as before. `MemoryStats` counts the bytes tensors hold, not
/// the cached ones.
/// ```swift
/// HostMemoryCache.limitBytes = 256 << 20   // keep at most 256 MiB of freed buffers
/// HostMemoryCache.emptyCache()             // give them back now (torch.cuda.empty_cache())
/// HostMemoryCache.limitBytes = 0           // off: every buffer goes back to the system when freed
/// ```
public enum HostMemoryCache {
    /// Buffers smaller than this come from the C allocator directly (its bins serve them well).
    public static let minimumBytes = 64 << 10
    /// The limit when `NABLA_HOST_CACHE_MB` is not set: 1 GiB.
    public static let defaultLimitBytes = 1 << 30

    private struct State {
        var limit = HostMemoryCache.limitFromEnvironment()
        var cached = 0
        /// Free buffers by size class, as addresses (Sendable, so the lock can hold them).
        var free: [Int: [UInt]] = [:]
    }
    private static let state = Mutex(State())

    /// The most bytes of freed buffers the cache keeps; 0 turns it off. Lowering it frees what is over.
    public static var limitBytes: Int {
        get { state.withLock { $0.limit } }
        set {
            precondition(newValue >= 0, "HostMemoryCache.limitBytes: expected a size >= 0, got \(newValue)")
            state.withLock { $0.limit = newValue }
            trim(to: newValue)
        }
    }

    /// Bytes of freed buffers held now.
    public static var cachedBytes: Int { state.withLock { $0.cached } }

    /// Frees every cached buffer (the cache stays on).
    public static func emptyCache() { trim(to: 0) }

    /// The bytes a cached buffer of `byteCount` bytes takes (`byteCount >= minimumBytes`): the next multiple of a
    /// quarter of the power of two at or below `byteCount`.
    public static func sizeClass(_ byteCount: Int) -> Int {
        let quarter = 1 << (Int.bitWidth - 1 - byteCount.leadingZeroBitCount - 2)
        return (byteCount + quarter - 1) / quarter * quarter
    }

    /// A 64-byte aligned buffer of at least `byteCount` bytes while the cache is on and `byteCount` is at least
    /// `minimumBytes` (a free one of its class, or a new one), nil otherwise: the caller allocates it itself.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer? {
        guard byteCount >= minimumBytes else { return nil }
        let size = sizeClass(byteCount)
        let (on, reused): (Bool, UInt?) = state.withLock { s in
            guard s.limit > 0 else { return (false, nil) }
            guard let p = s.free[size]?.popLast() else { return (true, nil) }
            s.cached -= size
            return (true, p)
        }
        guard on else { return nil }
        return reused.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            ?? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Takes back a buffer that `allocate(byteCount:)` returned: cached while under the limit, freed otherwise.
    static func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = sizeClass(byteCount), address = UInt(bitPattern: pointer)
        let kept = state.withLock { s -> Bool in
            guard s.cached + size <= s.limit else { return false }
            s.free[size, default: []].append(address)
            s.cached += size
            return true
        }
        if !kept { pointer.deallocate() }
    }

    /// `NABLA_HOST_CACHE_MB` in bytes, or `defaultLimitBytes` when unset; a value that is not a size >= 0 is
    /// reported on stderr and leaves the default.
    private static func limitFromEnvironment() -> Int {
        guard let raw = getenv("NABLA_HOST_CACHE_MB") else { return defaultLimitBytes }
        let text = String(cString: raw)
        guard let mb = Int(text), mb >= 0, mb <= 1 << 40 else {
            FileHandle.standardError.write(Data("nabla: NABLA_HOST_CACHE_MB: expected a size in MiB >= 0, got \"\(text)\"; using the default (\(defaultLimitBytes >> 20))\n".utf8))
            return defaultLimitBytes
        }
        return mb << 20
    }

    private static func trim(to limit: Int) {
        let freed: [UInt] = state.withLock { s in
            var out: [UInt] = []
            for size in s.free.keys.sorted(by: >) where s.cached > limit {
                while s.cached > limit, let p = s.free[size]?.popLast() { out.append(p); s.cached -= size }
            }
            s.free = s.free.filter { !$0.value.isEmpty }
            return out
        }
        for a in freed { UnsafeMutableRawPointer(bitPattern: a)?.deallocate() }
    }
}
