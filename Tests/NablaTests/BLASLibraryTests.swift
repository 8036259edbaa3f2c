import Foundation
import Testing
import Nabla

@Suite struct BLASLibraryTests {
    @Test func reloadsOnlyWhenOpenBLASChoseKernelsWithoutAVX2() {
        #expect(BLASLibrary.betterCore(detected: "Prescott", cpuLevel: 2) == "SkylakeX")
        #expect(BLASLibrary.betterCore(detected: "Prescott", cpuLevel: 1) == "Haswell")
        #expect(BLASLibrary.betterCore(detected: "Sandybridge", cpuLevel: 1) == "Haswell")
        #expect(BLASLibrary.betterCore(detected: "Prescott", cpuLevel: 0) == nil)
        for kept in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"] {
            #expect(BLASLibrary.betterCore(detected: kept, cpuLevel: 2) == nil, "\(kept)")
        }
    }

    @Test func runsKernelsTheCPUSupportsAndLeavesTheEnvironmentAlone() {
        // The environment is read only after OpenBLAS is loaded: another test may load it concurrently, and the
        // load sets OPENBLAS_* for a moment where they are unset.
        let product = Tensor([[1.0, 2], [3, 4]]).matmul(Tensor([[5.0, 6], [7, 8]]))  // loads OpenBLAS
        #expect(product.toDoubleArray() == [19, 22, 43, 50])
        #expect(BLASLibrary.configuration.contains("OpenBLAS"))
        #expect(!BLASLibrary.core.isEmpty)
        let coreType = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        let tuningOff = getenv("NABLA_BLAS_TUNING").map { String(cString: $0) } == "0"
        let timeoutSet = getenv("OPENBLAS_THREAD_TIMEOUT") != nil
        // Nabla's own timeout was removed from the environment again after the load.
        #expect(BLASLibrary.threadTimeout == (tuningOff || timeoutSet ? nil : 18))
        if coreType != nil || tuningOff {
            #expect(BLASLibrary.detectedCore == nil)  // the machine's choice is kept
        } else {
            #expect(BLASLibrary.betterCore(detected: BLASLibrary.core, cpuLevel: BLASLibrary.cpuLevel) == nil,
                    "OpenBLAS runs \(BLASLibrary.core) kernels on a CPU of level \(BLASLibrary.cpuLevel)")
        }
        if BLASLibrary.detectedCore != nil { #expect(coreType == nil) }  // set for the reload only, then removed
    }
}
