import Foundation
import Testing
import NablaDistributed
import Nabla

/// Runs `nabla-ddp-check SCENARIO` under `mpirun -np 2` and returns its exit status and output.
///
/// Without `mpirun` on the PATH the tests fail under `CI=true` (`make deps` installs openmpi-bin) and are skipped
/// with a note otherwise.
enum MPIRun {
    /// The helper executable, built beside the test bundle (`swift build --build-tests`).
    static var checkPath: String? { executable("nabla-ddp-check") }

    /// An executable of the package, built beside the test bundle.
    static func executable(_ name: String) -> String? {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [me.deletingLastPathComponent(), me.deletingLastPathComponent().deletingLastPathComponent()]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates += ["debug", "release"].map { root.appendingPathComponent(".build/\($0)") }
        return candidates.map { $0.appendingPathComponent(name).path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var mpirun: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/bin"])
            .map { $0 + "/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var available: Bool { mpirun != nil }
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    struct Result {
        var status: Int32; var output: String; var seconds: Double; var timedOut: Bool
        /// The last word of each output line containing `marker` (one per rank: a parameter hash).
        func lastWords(ofLinesContaining marker: String) -> [String] {
            output.split(separator: "\n").filter { $0.contains(marker) }.map { $0.split(separator: " ").last.map(String.init) ?? "" }
        }
    }

    /// `mpirun --allow-run-as-root --oversubscribe -np N nabla-ddp-check scenario`, killed after `timeout` seconds.
    static func run(_ scenario: String, np: Int = 2, timeout: Double = 60, environment: [String: String] = [:]) throws -> Result {
        let check = try #require(checkPath, "nabla-ddp-check is not built; run swift build --build-tests")
        return try launch([check, scenario], np: np, timeout: timeout, environment: environment)
    }

    /// `mpirun --allow-run-as-root --oversubscribe -np N command...` (np 0: the command without mpirun).
    static func launch(_ command: [String], np: Int = 2, timeout: Double = 60, environment: [String: String] = [:]) throws -> Result {
        let mpirun = try #require(mpirun, "mpirun not found: install Open MPI (`make deps` installs openmpi-bin libopenmpi-dev)")
        let process = Process()
        var args = ["--allow-run-as-root", "--oversubscribe", "-np", String(np)]
        for (k, v) in environment { args += ["-x", "\(k)=\(v)"] }
        if np == 0 {
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: mpirun)
            process.arguments = args + command
        }
        var env = ProcessInfo.processInfo.environment
        env["OMPI_MCA_btl"] = env["OMPI_MCA_btl"] ?? "self,vader,tcp"   // no InfiniBand probing in containers
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        // Each job alone: its own session directory (not the /tmp/ompi.HOST.UID that every mpirun of this user on
        // the machine shares, other test runs included), and PMIx's plain hash store instead of its shared-memory
        // store, whose locks Open MPI 4 / PMIx tear down at exit with sporadic `PMIX ERROR ... gds_ds12_lock` /
        // `ds21` errors after the ranks have finished.
        let session = FileManager.default.temporaryDirectory.appendingPathComponent("nabla-mpi-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: session) }
        env["OMPI_MCA_orte_tmpdir_base"] = session
        env["PMIX_MCA_gds"] = env["PMIX_MCA_gds"] ?? "hash"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let start = Date()
        try process.run()
        let reader = Thread.detachNewThreadWithResult { pipe.fileHandleForReading.readDataToEndOfFile() }
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout { timedOut = true; process.terminate(); break }
            usleep(50_000)
        }
        process.waitUntilExit()
        let data = reader.value
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self),
                      seconds: Date().timeIntervalSince(start), timedOut: timedOut)
    }
}

/// A value computed on a background thread.
final class ThreadResult<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: T?
    func set(_ value: T) { condition.lock(); result = value; condition.broadcast(); condition.unlock() }
    var value: T {
        condition.lock(); defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

extension Thread {
    static func detachNewThreadWithResult<T>(_ body: @escaping () -> T) -> ThreadResult<T> {
        let box = ThreadResult<T>()
        let b = UncheckedSendable(body)
        Thread.detachNewThread { box.set(b.value()) }
        return box
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The tests run one `mpirun` at a time (each starts 2 processes on a 2-core machine).
@Suite(.serialized) struct MPIRunTests {
    /// Skips (locally) or fails (under CI=true) when mpirun is missing.
    func mpirunOrSkip() throws -> Bool {
        if MPIRun.available { return true }
        if MPIRun.required { Issue.record("mpirun not found under CI=true: `make deps` installs openmpi-bin libopenmpi-dev") }
        else { print("MPIRunTests: mpirun not found; skipped (install openmpi-bin, or run make deps)") }
        return false
    }

    @Test(.timeLimit(.minutes(2))) func collectivesMatchLocalReferences() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("collectives")
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(r.output.components(separatedBy: "collectives OK").count - 1 == 2, "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
    }

    /// Nabla's ring all-reduce on every size (`NABLA_ALLREDUCE=ring`) and the automatic choice (the ring from 256 KB),
    /// on 2 and 3 ranks: fewer elements than ranks, counts that split unevenly, segments of several chunks, every
    /// dtype and op against local references, and the same bits on every rank.
    @Test(.timeLimit(.minutes(3)), arguments: [(2, "ring"), (3, "ring"), (2, "auto")])
    func allReduceMatchesReferences(np: Int, algorithm: String) throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("allreduce", np: np, timeout: 150, environment: ["NABLA_ALLREDUCE": algorithm])
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(r.output.components(separatedBy: "allreduce OK").count - 1 == np, "\(r.output)")
        #expect(r.output.contains("checks, \(algorithm))"), "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
    }

    /// Every collective on 3 ranks with every all-reduce on the ring (DDP's and Keras' tests cover 2 ranks with the
    /// automatic choice).
    @Test(.timeLimit(.minutes(2))) func collectivesOnThreeRanksWithTheRing() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("collectives", np: 3, timeout: 100, environment: ["NABLA_ALLREDUCE": "ring"])
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(r.output.components(separatedBy: "collectives OK").count - 1 == 3, "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
    }

    @Test(.timeLimit(.minutes(2))) func mismatchedShapesAndDtypesFailOnEveryRank() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("mismatch")
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        for rank in 0..<2 {
            #expect(r.output.contains("rank \(rank): shape error: distributed: allReduce: the ranks disagree"), "\(r.output)")
            #expect(r.output.contains("rank \(rank): dtype error: distributed: allReduce: the ranks disagree"), "\(r.output)")
            #expect(r.output.contains("rank \(rank): mean error: distributed: allReduce: op mean needs a floating-point tensor"), "\(r.output)")
            #expect(r.output.contains("rank \(rank): mismatch done"), "\(r.output)")
            #expect(r.output.contains("rank \(rank): model error: distributed: broadcast: the ranks disagree"), "\(r.output)")
        }
        #expect(r.output.contains("rank 1: allReduce(shape [5], torch.float32, op sum)"), "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
    }

    @Test(.timeLimit(.minutes(2))) func twoRanksOfSixteenEqualOneProcessOfThirtyTwo() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("ddp")
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
        let hashes = r.lastWords(ofLinesContaining: "parameter hash")
        #expect(hashes.count == 2 && Set(hashes).count == 1, "replicas differ: \(r.output)")
        #expect(r.output.contains("ddp steps 6"), "\(r.output)")
    }

    /// Keras `fit` under mpirun, Horovod's way: 2 ranks × batch 64 give the weights and epoch logs of 1 process × batch
    /// 128 (float64, 22 Adam steps including a short last batch); only rank 0 prints and runs file-writing callbacks.
    @Test(.timeLimit(.minutes(2))) func kerasFitTwoRanksOfSixtyFourEqualOneProcessOfOneHundredTwentyEight() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("keras")
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
        let hashes = r.lastWords(ofLinesContaining: "keras steps 22")
        #expect(hashes.count == 2 && Set(hashes).count == 1, "replicas differ: \(r.output)")
        // verbose 2 prints one line per epoch, on rank 0 only
        #expect(r.output.components(separatedBy: "Epoch 2/2").count - 1 == 1, "\(r.output)")
    }

    @Test(.timeLimit(.minutes(2))) func unusedParametersFinishWithFinishGradientSync() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("unused")
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(r.output.components(separatedBy: "unused OK").count - 1 == 2, "\(r.output)")
    }

    @Test(.timeLimit(.minutes(2))) func aDeadRankEndsTheJob() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("die", timeout: 60)
        #expect(!r.timedOut, "mpirun did not end the job after rank 1 died: \(r.output)")
        #expect(r.status != 0, "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
        print("MPIRunTests: dead rank: job ended in \(String(format: "%.1f", r.seconds)) s")
    }

    @Test(.timeLimit(.minutes(2))) func aRankThatExitsEarlyEndsTheJob() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("exit", timeout: 60)
        #expect(!r.timedOut, "mpirun did not end the job after rank 1 exited: \(r.output)")
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("MPI_Finalize did not complete in 10 s"), "\(r.output)")
        print("MPIRunTests: early exit: job ended in \(String(format: "%.1f", r.seconds)) s")
    }

    @Test(.timeLimit(.minutes(2))) func theWatchdogAbortsAHungCollective() throws {
        guard try mpirunOrSkip() else { return }
        let r = try MPIRun.run("hang", timeout: 60, environment: ["NABLA_DISTRIBUTED_TIMEOUT": "3"])
        #expect(!r.timedOut, "the watchdog did not end the job: \(r.output)")
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("collective `allReduce` has waited 3 s"), "\(r.output)")
        print("MPIRunTests: hung collective: job ended in \(String(format: "%.1f", r.seconds)) s")
    }
}

/// `mpirun -np 2 nabla train` against one process with twice the batch, on the first 512 Fashion-MNIST images, and
/// resumed under mpirun against uninterrupted
/// (in the serialized suite: one mpirun at a time).
extension MPIRunTests {
    func trainConfig(batch: Int, output: String) -> String {
        """
        name: tiny-ddp
        seed: 5
        data: {dataset: fashion-mnist, limit: 512, normalize: {mean: 0.286, std: 0.353}}
        model:
          input: [784]
          layers: [{linear: 32}, relu, {linear: 10}]
        solver: {optimizer: adam, lr: 0.001, epochs: 2, batch_size: \(batch)}
        output: \(output)
        """
    }

    @Test(.timeLimit(.minutes(3))) func mpirunTrainMatchesOneProcessWithTheGlobalBatch() throws {
        guard MPIRun.available else {
            if MPIRun.required { Issue.record("mpirun not found under CI=true: `make deps` installs openmpi-bin libopenmpi-dev") }
            return
        }
        let nabla = try #require(MPIRun.executable("nabla"), "nabla is not built")
        let dir = NSTemporaryDirectory() + "nabla-ddp-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try trainConfig(batch: 64, output: dir + "/one").write(toFile: dir + "/one.yaml", atomically: true, encoding: .utf8)
        try trainConfig(batch: 32, output: dir + "/two").write(toFile: dir + "/two.yaml", atomically: true, encoding: .utf8)
        let one = try MPIRun.launch([nabla, "train", dir + "/one.yaml"], np: 0, timeout: 60)
        #expect(one.status == 0, "\(one.output)")
        let two = try MPIRun.launch([nabla, "train", dir + "/two.yaml"], np: 2, timeout: 60)
        #expect(two.status == 0 && !two.timedOut, "\(two.output)")
        // only rank 0 prints
        #expect(two.output.components(separatedBy: "Test accuracy").count - 1 == 1, "\(two.output)")
        #expect(two.output.components(separatedBy: "Total params").count - 1 == 1, "\(two.output)")
        #expect(two.output.contains("Epoch 2/2") && two.output.contains("8/8"), "\(two.output)")   // 512 / (32 x 2) steps
        #expect(FileManager.default.fileExists(atPath: dir + "/two/checkpoints/epoch-0002.safetensors"))
        let a = try loadSafetensors(from: dir + "/one/model.safetensors")
        let b = try loadSafetensors(from: dir + "/two/model.safetensors")
        #expect(a.keys == b.keys && !a.keys.isEmpty)
        var worst: Float = 0
        for k in a.keys {
            for (u, v) in zip(a[k]!.toArray(Float.self), b[k]!.toArray(Float.self)) { worst = max(worst, abs(u - v)) }
        }
        #expect(worst < 1e-4, "2 ranks x batch 32 differ from 1 process x batch 64 by \(worst)")
        // One epoch, then --resume to two under mpirun: the same weights, bit for bit.
        let part = try MPIRun.launch([nabla, "train", dir + "/two.yaml", "--epochs", "1", "--output", dir + "/part"], np: 2, timeout: 60)
        #expect(part.status == 0, "\(part.output)")
        let resumed = try MPIRun.launch([nabla, "train", dir + "/two.yaml", "--resume", "--output", dir + "/part"], np: 2, timeout: 60)
        #expect(resumed.status == 0 && resumed.output.contains("Resuming from"), "\(resumed.output)")
        #expect(FileManager.default.contents(atPath: dir + "/part/model.safetensors") == FileManager.default.contents(atPath: dir + "/two/model.safetensors"),
                "a resumed mpirun training differs from an uninterrupted one")
        print("DistributedTrainTests: max |difference| of the weights after 16 Adam steps: \(worst)")
    }
}
