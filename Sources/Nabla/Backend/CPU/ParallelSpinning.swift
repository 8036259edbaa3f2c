import CNablaKernels

// The spinning pool for short kernels (`nabla_spin_pool_run`): batch-1 inference layers take a few tens of
// microseconds, about what waking a sleeping thread of the general pool costs, so they split across the kernel
// threads only through workers that are still spinning from the call before.

extension Parallel {
    /// Runs `body(0..<n)` on the calling thread and the spinning pool's workers (`Parallel.threads` in all); returns
    /// when all are done. Chunks are claimed one at a time, so when a worker is not running (its core is busy) the
    /// caller runs its chunks rather than wait; a call made while another job runs on the pool, or from inside a
    /// chunk, runs all chunks on the calling thread.
    package static func forEachSpinning(_ n: Int, _ body: (Int) -> Void) {
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
