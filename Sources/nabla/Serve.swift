import ArgumentParser
import Foundation
import Nabla
import NablaServe

/// `nabla serve --model-name NAME --model-base-path DIR [--rest-api-port 8501] [--host 127.0.0.1]`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the newest version of a model over TF Serving's REST API.",
        discussion: """
            DIR holds numeric version folders (DIR/1, DIR/2, ...) with a model.safetensors from `nabla export` or Keras \
            Model.save. New versions are loaded in the background and swapped in without failing requests. \
            Stops gracefully on SIGTERM or SIGINT. See docs/serving.md.
            """)

    @Option(help: "The model's name in URLs (/v1/models/NAME).") var modelName: String
    @Option(help: "The folder of numeric version folders.") var modelBasePath: String
    @Option(help: "The HTTP port (0 picks a free one).") var restApiPort = 8501
    @Option(help: "The address to bind (127.0.0.1: this machine only; 0.0.0.0: every interface).") var host = "127.0.0.1"
    @Option(help: "Most samples in one forward pass of the dynamic batcher.") var maxBatchSize = 32
    @Option(help: "Longest wait in microseconds for a batch to fill (only while other requests are arriving).") var batchTimeoutMicros = 2000
    @Option(help: "Most samples waiting; requests beyond it get 503.") var maxQueuedRows = 1024
    @Option(help: "Largest request body in bytes (413 above).") var maxBodyBytes = 8 << 20
    @Option(help: "Seconds between checks for new versions.") var fileSystemPollWaitSeconds = 1.0
    @Option(help: "Most MiB of freed tensor buffers kept for reuse (HostMemoryCache, default 1024 or NABLA_HOST_CACHE_MB; 0 turns it off).")
    var hostMemoryCacheMb: Int?
    @Flag(inversion: .prefixedNo, help: "Run each new version on zeros at every batch size before it serves.") var warmUp = true

    func run() async throws {
        // Two malloc arenas and reused buffers (HostMemoryCache, on by default) keep the server's resident memory at its
        // working set (docs/serving.md, "Memory").
        limitMallocArenas()
        if let mb = hostMemoryCacheMb {
            guard mb >= 0 && mb <= 1 << 40 else {
                FileHandle.standardError.write(Data("error: --host-memory-cache-mb: expected a size in MiB from 0 to 2^40, got \(mb)\n".utf8))
                throw ExitCode(1)
            }
            HostMemoryCache.limitBytes = mb << 20
        }
        let cfg = ModelServerConfiguration(
            modelName: modelName, modelBasePath: modelBasePath, host: host, port: restApiPort,
            batching: BatchingOptions(maxBatchSize: maxBatchSize, maxWaitMicroseconds: batchTimeoutMicros, maxQueuedRows: maxQueuedRows),
            maxBodyBytes: maxBodyBytes, pollInterval: .milliseconds(Int64(max(0.05, fileSystemPollWaitSeconds) * 1000)),
            warmUp: warmUp)
        let server: ModelServer
        do { server = try ModelServer(cfg) } catch {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        let host = self.host, name = modelName
        do {
            try await server.run(handlingSignals: true) { port in
                let version = server.servingVersion.map { "version \($0)" } ?? "(no version loaded yet)"
                // Unbuffered, so a supervisor reading a pipe sees the line at once.
                FileHandle.standardOutput.write(Data("Serving \(name) \(version) on http://\(host):\(port)\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("Stopped serving \(name)")
    }
}

/// Runs the server with glibc's malloc capped at two arenas unless the operator chose a number (`MALLOC_ARENA_MAX`, or
/// `GLIBC_TUNABLES` with `arena_max`). With glibc's default (eight per core), the event-loop threads that decode
/// request bodies each grow an arena of their own, and the resident size creeps up for minutes. glibc fixes the
/// arena count once threads have asked for arenas, which the runtime's threads do before `serve` runs, so the only
/// reliable way is the environment at start: the command re-executes itself (same process id) with
/// `MALLOC_ARENA_MAX=2`.
private func limitMallocArenas() {
    #if os(Linux)
    if getenv("MALLOC_ARENA_MAX") != nil { return }
    if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("arena_max") { return }
    setenv("MALLOC_ARENA_MAX", "2", 1)
    var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &argv)
    // execv returned: it failed (no /proc?); serve with glibc's default arenas.
    unsetenv("MALLOC_ARENA_MAX")
    #endif
}
