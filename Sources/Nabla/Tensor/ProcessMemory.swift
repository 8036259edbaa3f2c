import CNablaKernels
import Foundation

/// The process's memory as the kernel and the C allocator see it: what a server exports to watch for leaks and
/// fragmentation (`nabla serve`'s `/metrics`). Zeros where the platform does not say.
///
/// ```swift
/// let m = ProcessMemory.current()
/// print(m.residentBytes, m.heapInUseBytes, m.heapFreeBytes)
/// ```
/// A resident set that grows while `heapInUseBytes` stays flat is fragmentation (free memory the allocator cannot
/// return); one that grows with `heapInUseBytes` is memory still referenced. Tensor buffers of 64 KiB and more are
/// kept by `HostMemoryCache` (its `cachedBytes`), outside both heap counts.
public struct ProcessMemory: Sendable, Equatable {
    /// Resident set size in bytes (Linux `VmRSS`).
    public var residentBytes: Int
    /// Bytes the C allocator handed out and did not get back, its mmap'ed blocks included (glibc `mallinfo2`).
    public var heapInUseBytes: Int
    /// Free bytes the C allocator holds inside its arenas (glibc `mallinfo2().fordblks`).
    public var heapFreeBytes: Int

    /// The current values.
    public static func current() -> ProcessMemory {
        var inUse: Int64 = 0, free: Int64 = 0
        nabla_malloc_totals(&inUse, &free)
        var resident = 0
        // statm's second field is the resident page count.
        if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
           let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            resident = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        return ProcessMemory(residentBytes: resident, heapInUseBytes: Int(inUse), heapFreeBytes: Int(free))
    }
}
