import Foundation
import Testing
import Nabla

/// `HostMemoryCache`: freed host buffers are reused while the cache is on, bounded by its limit, and given back.
/// One test, because the cache is process-wide: it checks buffer identity on sizes no other test uses, so
/// suites running beside it cannot make it fail.
@Suite struct HostMemoryCacheTests {
    @Test func sizeClassesAreAQuarterOfAnOctaveApart() {
        #expect(HostMemoryCache.sizeClass(64 << 10) == 64 << 10)
        #expect(HostMemoryCache.sizeClass((64 << 10) + 1) == 80 << 10)
        #expect(HostMemoryCache.sizeClass(100_000) == 112 << 10)
        #expect(HostMemoryCache.sizeClass(3 << 20) == 3 << 20)
        for n in [65_536, 70_001, 1_000_003, 37_000_001] {
            let c = HostMemoryCache.sizeClass(n)
            #expect(c >= n && Double(c) <= Double(n) * 1.25, "class \(c) of \(n)")
        }
    }

    @Test func freedBuffersAreReusedWithinTheLimitAndGivenBack() {
        let old = HostMemoryCache.limitBytes
        defer { HostMemoryCache.limitBytes = old }
        if ProcessInfo.processInfo.environment["NABLA_HOST_CACHE_MB"] == nil {
            #expect(old == HostMemoryCache.defaultLimitBytes, "on by default")
        }
        HostMemoryCache.limitBytes = 512 << 20
        let n = 9_437_183                                   // 36 MiB - 4 bytes of float32: a class no other test fills
        var first: UnsafeMutableRawPointer?
        do {
            let a = Tensor.full([n], 1.5)
            first = a.storage.data
            #expect(a[n - 1].item() == 1.5)
        }
        #expect(HostMemoryCache.cachedBytes >= HostMemoryCache.sizeClass(4 * n))
        do {
            let b = Tensor.zeros([n])                    // the same class: the same buffer, cleared
            #expect(b.storage.data == first)
            #expect(b.max().item() == 0 && b.min().item() == 0)
        }
        // Over the limit: freed at once instead of cached.
        HostMemoryCache.limitBytes = 1 << 20
        #expect(HostMemoryCache.cachedBytes <= 1 << 20)
        do { _ = Tensor.zeros([n]) }
        #expect(HostMemoryCache.cachedBytes <= 1 << 20)
        HostMemoryCache.emptyCache()
        #expect(HostMemoryCache.cachedBytes <= 1 << 20)   // other suites may free small buffers into it meanwhile
    }
}
