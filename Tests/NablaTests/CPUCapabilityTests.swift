import Testing
import Nabla

@Suite struct CPUCapabilityTests {
    /// The reported capability agrees with the two other places that read the CPU: the blocked GEMM's AVX-512 test
    /// (the tiles' own check, in another file) and the cpuid level OpenBLAS's kernels are chosen by.
    @Test func agreesWithTheGemmTilesAndTheCPU() {
        let capability = CPUCapability.current
        #expect((capability == .avx512) == BlockedGemm.available)
        if capability == .avx512 { #expect(BLASLibrary.cpuLevel == 2) }
        #expect((capability == .default) == (BLASLibrary.cpuLevel == 0))
        #expect(["AVX512", "AVX2", "DEFAULT"].contains(capability.description))
    }
}
