import Foundation
import Testing

/// Two ranks on two simulated machines: `Scripts/mpirun-two-hosts.sh` puts each rank in its own network namespace
/// (joined by a veth pair, hostfile of the two IP addresses, Open MPI's TCP transport only) and bounds the run by
/// 120 s. The test is cancelled (reported as skipped) only when the script cannot make the namespaces (not root, no
/// `ip netns`), and says why.
extension MPIRunTests {
    static var twoHostScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/mpirun-two-hosts.sh").path
    }

    /// Runs `nabla-ddp-check scenario` across the two namespaces; cancels the test when they cannot be made.
    func acrossTwoHosts(_ scenario: String) throws -> MPIRun.Result {
        let check = try #require(MPIRun.checkPath, "nabla-ddp-check is not built; run swift build --build-tests")
        let r = try MPIRun.launch([Self.twoHostScript, "--timeout", "120", check, scenario], np: 0, timeout: 150)
        if r.status == 77 {
            let reason = r.output.split(separator: "\n").first { $0.contains("SKIPPED") }.map(String.init) ?? r.output
            print("MPIRunTests: two-host test skipped: \(reason)")
            try Test.cancel("two network namespaces could not be made: \(reason)")
        }
        return r
    }

    @Test(.timeLimit(.minutes(4))) func ddpTrainsAcrossTwoHostsOverTCP() throws {
        guard try mpirunOrSkip() else { return }
        // Each rank alone on its "machine": its own host name, one local rank.
        let info = try acrossTwoHosts("info")
        #expect(info.status == 0 && !info.timedOut, "\(info.output)")
        for rank in 0..<2 { #expect(info.output.contains("rank \(rank): world 2 local 0/1"), "\(info.output)") }
        // The DDP training check (2 × 16 = 1 × 32 in float64, equal parameter hashes) over TCP.
        let r = try acrossTwoHosts("ddp")
        #expect(r.status == 0 && !r.timedOut, "\(r.output)")
        #expect(!r.output.contains("FAIL"), "\(r.output)")
        let hashes = r.lastWords(ofLinesContaining: "parameter hash")
        #expect(hashes.count == 2 && Set(hashes).count == 1, "replicas differ: \(r.output)")
        // Keras fit, Horovod's way (2 × 64 = 1 × 128 in float64), over TCP.
        let k = try acrossTwoHosts("keras")
        #expect(k.status == 0 && !k.timedOut, "\(k.output)")
        #expect(!k.output.contains("FAIL") && k.output.components(separatedBy: "keras steps 22").count - 1 == 2, "\(k.output)")
        // The all-reduce checks over TCP; the buffers from 256 KB take Nabla's ring.
        let a = try acrossTwoHosts("allreduce")
        #expect(a.status == 0 && !a.timedOut, "\(a.output)")
        #expect(!a.output.contains("FAIL") && a.output.components(separatedBy: "allreduce OK").count - 1 == 2, "\(a.output)")
        print("MPIRunTests: two hosts over TCP: ddp passed in \(String(format: "%.1f", r.seconds)) s, keras fit in \(String(format: "%.1f", k.seconds)) s")
    }
}
