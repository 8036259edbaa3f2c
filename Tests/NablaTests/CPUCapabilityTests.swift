import Testing
import Nabla

@Suite struct CPUCapabilityTests {
    /// The reported capability agrees with the two other places that read the CPU: the blocked GEMM's check (AVX2
    /// and FMA, or AVX-512, in another file) and the cpuid level OpenBLAS's kernels are chosen by.
    @Test func agreesWithTheGemmTilesAndTheCPU() {
        let capability = CPUCapability.current
        #expect((capability != .default) == BlockedGemm.available)
        if capability == .avx512 { #expect(BLASLibrary.cpuLevel == 2) }
        #expect((capability == .default) == (BLASLibrary.cpuLevel == 0))
        #expect(["AVX512", "AVX2", "DEFAULT"].contains(capability.description))
    }
}
