/* The spinning fork-join pool for short kernels (see include/nabla_spin_pool.h).

   A job is published by bumping `gen`; its chunks are claimed by compare-and-swap on `claim`, whose upper 32 bits
   are the job's generation and lower 32 the next chunk: a worker that read a job's fields late can only claim a
   chunk of the job it read them for, and while it holds an unfinished chunk the caller cannot return, so the job's
   context stays alive. Idle workers spin on `gen` for spin_us, then sleep on a condition variable; the caller takes
   the mutex to wake them only when one has said it sleeps.

   A spinning worker yields its core every 64 pauses (`sched_yield`, which returns at once when no other thread
   wants the core): without that it held the core that OpenBLAS's own worker needed for the products left to
   OpenBLAS, and W3 fell from 50 000 to 31 000-48 000 samples/s (25 000 with a 2 ms spin) once every kernel ran
   here. */
#include "nabla_spin_pool.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MAX_WORKERS 63

static _Atomic uint32_t gen;
static _Atomic uint64_t claim;
static _Atomic int64_t done;
static _Atomic(nabla_spin_pool_body) job_body;
static _Atomic(void *) job_context;
static _Atomic int64_t job_n;
static _Atomic int busy;
static _Atomic int sleepers;
static _Atomic int64_t spin_ns = 200000;
static _Atomic int spin_set;    /* set explicitly: the environment is not read */
static _Atomic int64_t shared_jobs, worker_chunks;
static int workers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Claims and runs chunks of job `g` until none is left; returns how many this thread ran. */
static int64_t run_chunks(uint32_t g, nabla_spin_pool_body body, void *context, int64_t n) {
    int64_t ran = 0;
    uint64_t c = atomic_load_explicit(&claim, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(c >> 32) != g || (int64_t)(c & 0xffffffffu) >= n) return ran;
        if (!atomic_compare_exchange_weak_explicit(&claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        body(context, (int64_t)(c & 0xffffffffu));
        ran++;
        atomic_fetch_add_explicit(&done, 1, memory_order_release);
        c = atomic_load_explicit(&claim, memory_order_acquire);
    }
}

/* Waits until `gen` differs from `seen`: spins for spin_ns, then sleeps. */
static uint32_t wait_for_job(uint32_t seen) {
    const int64_t limit = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    if (limit > 0) {
        const int64_t start = now_ns();
        for (int i = 0;; i++) {
            const uint32_t g = atomic_load_explicit(&gen, memory_order_acquire);
            if (g != seen) return g;
            cpu_relax();
            if ((i & 63) == 63) {
                if (now_ns() - start > limit) break;
                sched_yield();
            }
        }
    }
    pthread_mutex_lock(&lock);
    atomic_fetch_add(&sleepers, 1);
    uint32_t g;
    while ((g = atomic_load(&gen)) == seen) pthread_cond_wait(&wake, &lock);
    atomic_fetch_sub(&sleepers, 1);
    pthread_mutex_unlock(&lock);
    return g;
}

static void *worker_main(void *arg) {
    uint32_t seen = (uint32_t)(uintptr_t)arg;
    for (;;) {
        const uint32_t g = wait_for_job(seen);
        seen = g;
        nabla_spin_pool_body body = atomic_load_explicit(&job_body, memory_order_relaxed);
        void *context = atomic_load_explicit(&job_context, memory_order_relaxed);
        const int64_t n = atomic_load_explicit(&job_n, memory_order_relaxed);
        const int64_t ran = run_chunks(g, body, context, n);
        if (ran) atomic_fetch_add_explicit(&worker_chunks, ran, memory_order_relaxed);
    }
    return NULL;
}

/* Starts workers until there are `want` (called with `busy` held, so by one thread at a time). The first call reads
   NABLA_SPIN_US (the spin time in microseconds) from the environment, unless the time was set explicitly. */
static void ensure_workers(int want) {
    static int started;
    if (!started) {
        started = 1;
        const char *env = getenv("NABLA_SPIN_US");
        const long long us = env && *env ? strtoll(env, NULL, 10) : -1;
        if (us >= 0 && !atomic_load(&spin_set)) atomic_store(&spin_ns, (int64_t)us * 1000);
    }
    if (want > MAX_WORKERS) want = MAX_WORKERS;
    while (workers < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&t, &attr, worker_main, (void *)(uintptr_t)atomic_load(&gen));
        pthread_attr_destroy(&attr);
        if (failed) break;    /* fewer workers: the caller runs what they would have */
        workers++;
    }
}

void nabla_spin_pool_run(int64_t n, int64_t threads, nabla_spin_pool_body body, void *context) {
    int expected = 0;
    if (n <= 0) return;
    if (n == 1 || threads < 2 || n > 0xffffffffLL ||
        !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (int64_t i = 0; i < n; i++) body(context, i);
        return;
    }
    ensure_workers((int)(threads - 1 < n - 1 ? threads - 1 : n - 1));
    const uint32_t g = atomic_load_explicit(&gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&job_body, body, memory_order_relaxed);
    atomic_store_explicit(&job_context, context, memory_order_relaxed);
    atomic_store_explicit(&job_n, n, memory_order_relaxed);
    atomic_store_explicit(&done, 0, memory_order_relaxed);
    atomic_store_explicit(&claim, (uint64_t)g << 32, memory_order_release);
    atomic_store(&gen, g);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    const int64_t mine = run_chunks(g, body, context, n);
    if (mine < n) atomic_fetch_add_explicit(&shared_jobs, 1, memory_order_relaxed);
    /* What is left runs on workers now: wait for it, yielding the core after a while (the worker may be waiting
       for it). */
    for (int i = 0; atomic_load_explicit(&done, memory_order_acquire) < n; i++) {
        if (i < 4096) cpu_relax(); else sched_yield();
    }
    atomic_store_explicit(&busy, 0, memory_order_release);
}

void nabla_spin_pool_set_spin_us(int64_t microseconds) {
    atomic_store(&spin_set, 1);
    atomic_store(&spin_ns, microseconds < 0 ? 0 : microseconds * 1000);
}

int64_t nabla_spin_pool_spin_us(void) { return atomic_load(&spin_ns) / 1000; }
int64_t nabla_spin_pool_shared_jobs(void) { return atomic_load(&shared_jobs); }
int64_t nabla_spin_pool_worker_chunks(void) { return atomic_load(&worker_chunks); }
