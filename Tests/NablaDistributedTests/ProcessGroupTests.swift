import Testing
import NablaDistributed
import NablaNN

/// Without a launcher, a process is a group of one: collectives are the identity and MPI is never loaded.
@Suite(.serialized) struct ProcessGroupTests {
    @Test func aProcessWithoutALauncherIsAGroupOfOne() throws {
        let group = try ProcessGroup.initialize(backend: .mpi, environment: [:])
        #expect(group.rank == 0 && group.worldSize == 1 && group.localRank == 0)
        #expect(group.mpiThreadLevel == nil)
        let t = Tensor([1.0, -2.0, 3.0])
        try group.allReduce(t, op: .mean)
        #expect(t.toDoubleArray() == [1, -2, 3])
        let parts = try group.allGather(Tensor([[1, 2], [3, 4]]).t())
        #expect(parts.count == 1 && parts[0].toDoubleArray() == [1, 3, 2, 4])
        #expect(try group.reduceScatter(Tensor([5.0, 6.0])).toDoubleArray() == [5, 6])
        try group.barrier()
        try group.allReduceAsync(t).wait()
        #expect(throws: DistributedError.self) { try group.allReduce(Tensor([1, 2]), op: .mean) }
    }

    /// What Keras `fit` and the examples check before starting MPI: a launcher's rank or a size above one.
    @Test func isLaunchedReadsTheLauncherEnvironment() {
        #expect(!ProcessGroup.isLaunched(environment: [:]))
        #expect(!ProcessGroup.isLaunched(environment: ["OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_RANK": "0"]))
        #expect(ProcessGroup.isLaunched(environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"]))
        #expect(ProcessGroup.isLaunched(environment: ["SLURM_PROCID": "0", "SLURM_NTASKS": "4"]))
        #expect(ProcessGroup.isLaunched(environment: ["PMIX_RANK": "0"]))
        #expect(ProcessGroup.isLaunched(environment: ["NABLA_DISTRIBUTED_FORCE_MPI": "1"]))
    }

    @Test func ddpInAGroupOfOneLeavesGradientsAlone() throws {
        let group = try ProcessGroup.initialize(backend: .mpi, environment: [:])
        let model = Linear(3, 2)
        let ddp = try DistributedDataParallel(model, group: group)
        ddp(Tensor.ones([4, 3])).sum().backward()
        try ddp.finishGradientSync()
        #expect(model.weight.grad?.toDoubleArray() == [Double](repeating: 4, count: 6))
        #expect(ddp.namedParameters().map(\.0) == ["module.weight", "module.bias"])
    }
}
