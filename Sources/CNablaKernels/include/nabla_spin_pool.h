#ifndef NABLA_SPIN_POOL_H
#define NABLA_SPIN_POOL_H
#include <stdint.h>

/* The fork-join pool of the kernel threads (`Parallel.forEach`). Its workers spin for a bounded time after each job
   before they sleep, so calls that follow each other closely (a model's layers, one request after another, the ops
   of a training step) find them awake, as onnxruntime's spinning pool and OpenMP's active wait do: waking a sleeping
   thread costs tens of microseconds, as much as a batch-1 layer's work (libdispatch, which the larger kernels used
   before, woke its thread for each of W7's 29 fork-joins a step).

   Chunks are claimed one at a time by the caller and the workers alike, so a worker that is not running (the core is
   taken by another process) costs no waiting: the caller runs the chunks nobody has claimed. The caller only waits
   for chunks a worker has started. One job at a time: a call made while a job runs (from another thread, or nested
   inside a chunk) runs its chunks on the calling thread. */

/* One chunk of a job: body(context, index). */
typedef void (*nabla_spin_pool_body)(void *context, int64_t index);

/* Runs body(context, i) for i in 0..<n on the calling thread and at most `threads` - 1 workers (started on first
   use, at most 63); returns when all n have run. */
void nabla_spin_pool_run(int64_t n, int64_t threads, nabla_spin_pool_body body, void *context);

/* How long an idle worker spins, in microseconds, before it sleeps (default 200, or NABLA_SPIN_US from the
   environment at the first job; 0: sleep at once). */
void nabla_spin_pool_set_spin_us(int64_t microseconds);
int64_t nabla_spin_pool_spin_us(void);

/* Jobs that ran on more than one thread, and chunks that workers (not the caller) ran, since the start: the
   counters the tests read to see that the workers take part. */
int64_t nabla_spin_pool_shared_jobs(void);
int64_t nabla_spin_pool_worker_chunks(void);

#endif
