import Testing
import NablaDistributed

/// `NABLA_ALLREDUCE` and the size rule that picks Nabla's ring or `MPI_Allreduce`.
struct AllReduceAlgorithmTests {
    @Test func theEnvironmentNamesTheAlgorithm() throws {
        #expect(try AllReduceAlgorithm.from(environment: [:]) == .auto)
        #expect(try AllReduceAlgorithm.from(environment: ["NABLA_ALLREDUCE": ""]) == .auto)
        #expect(try AllReduceAlgorithm.from(environment: ["NABLA_ALLREDUCE": "ring"]) == .ring)
        #expect(try AllReduceAlgorithm.from(environment: ["NABLA_ALLREDUCE": " MPI "]) == .mpi)
        #expect(throws: DistributedError.invalidArgument("NABLA_ALLREDUCE=tree: expected one of auto, ring, mpi")) {
            try AllReduceAlgorithm.from(environment: ["NABLA_ALLREDUCE": "tree"])
        }
    }

    @Test func autoTakesTheRingFromTheThreshold() {
        let threshold = AllReduceAlgorithm.ringThresholdBytes
        #expect(!AllReduceAlgorithm.auto.usesRing(bytes: threshold - 1, worldSize: 2))
        #expect(AllReduceAlgorithm.auto.usesRing(bytes: threshold, worldSize: 2))
        #expect(AllReduceAlgorithm.auto.usesRing(bytes: 100 << 20, worldSize: 64))
        #expect(AllReduceAlgorithm.ring.usesRing(bytes: 4, worldSize: 3))
        #expect(!AllReduceAlgorithm.mpi.usesRing(bytes: 100 << 20, worldSize: 2))
        // a group of one has nothing to exchange
        #expect(!AllReduceAlgorithm.ring.usesRing(bytes: 100 << 20, worldSize: 1))
    }
}
