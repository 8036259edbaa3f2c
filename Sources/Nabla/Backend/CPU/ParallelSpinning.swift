import CNablaKernels

// The kernel threads' fork-join pool (`nabla_spin_pool_run`): workers that spin for a while after each job, so that
// the next one (a layer, an op of a training step) finds them awake. Waking a sleeping thread costs tens of
// microseconds: as much as a batch-1 layer's work, and for the larger kernels, which went through libdispatch before,
// a wake-up at each of a training step's fork-joins (W3 50 000 -> 58 000 samples/s, W7 112 -> 110 ms a step; see
// "One pool for every kernel" in docs/performance.md).

extension Parallel {
    /// Runs `body(0..<n)` on the calling thread and the pool's workers (`Parallel.threads` in all); returns when all
    /// are done. Chunks are claimed one at a time, so when a worker is not running (its core is busy) the caller runs
    /// its chunks rather than wait; a call made while another job runs on the pool (from another thread), or from
    /// inside a chunk, runs all its chunks on the calling thread. Chunks must not wait for each other.
    package static func forEach(_ n: Int, _ body: (Int) -> Void) {
        if n <= 1 || threadCount < 2 { for i in 0..<n { body(i) }; return }
        withoutActuallyEscaping(body) { body in
            var box = body
            withUnsafeMutablePointer(to: &box) { p in
                nabla_spin_pool_run(Int64(n), Int64(threadCount), { context, i in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
                }, p)
            }
        }
    }

    /// How long an idle worker of the spinning pool spins before it sleeps, in microseconds (default 200; 0 makes
    /// the workers sleep at once, for machines where spinning takes cores other processes need).
    public static var spinMicroseconds: Int {
        get { Int(nabla_spin_pool_spin_us()) }
        set {
            check(newValue >= 0, "Parallel.spinMicroseconds: expected a non-negative time, got \(newValue)")
            nabla_spin_pool_set_spin_us(Int64(newValue))
        }
    }

    /// Jobs of the spinning pool that ran on more than one thread, and chunks its workers ran, since the start.
    package static var spinningPoolCounters: (sharedJobs: Int, workerChunks: Int) {
        (Int(nabla_spin_pool_shared_jobs()), Int(nabla_spin_pool_worker_chunks()))
    }
}
