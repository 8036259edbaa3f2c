/* Nabla's own all-reduce for large buffers: a ring reduce-scatter followed by a ring all-gather over MPI
   point-to-point messages (the algorithm of gloo, NCCL and Horovod), with the received data combined chunk by chunk.

   The buffer is cut into `size` segments (lengths differ by at most one element; a segment may be empty). In step s
   of the reduce-scatter rank r sends segment (r - s) to its right neighbour and receives segment (r - s - 1) from its
   left one, combining it into its own copy; after size - 1 steps rank r holds the full result of segment r + 1.
   The all-gather then passes the finished segments round the ring, each received straight into place. Every rank
   sends and receives 2 (size - 1) / size of the buffer, the least any all-reduce can.

   The reduce-scatter receives in chunks of `chunk_bytes` into two small scratch buffers (two receives in flight),
   so what it combines is still in cache when it is read: the buffer is read from memory once and written once.
   Messages of one step are matched in order (MPI never lets a message overtake an earlier one of the same sender and
   tag), so two tags suffice. Every element of the result is computed on one rank only and copied to the others, so all ranks get the same
   bits whatever the reduction order (the replicas of data-parallel training stay identical).

   The scratch buffers are reused across calls and are not locked: only one thread may run the ring at a time
   (NablaDistributed calls MPI from its communication thread only). */
#include "nabla_mpi.h"
#include "mpi_p2p.h"
#include <limits.h>
#include <stdlib.h>
#include <time.h>

typedef void (*combine_fn)(void *restrict into, const void *restrict from, int64_t n);

/* into[i] = EXPR(a = into[i], b = from[i]). Plain loops the compiler vectorises; they run at memory speed. */
#define COMBINE(NAME, T, EXPR)                                                               \
    static void NAME(void *restrict into_, const void *restrict from_, int64_t n) {          \
        T *restrict into = into_;                                                            \
        const T *restrict from = from_;                                                      \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T a = into[i], b = from[i];                                                \
            into[i] = (EXPR);                                                                \
        }                                                                                    \
    }
#define COMBINE_ALL(SUFFIX, T)                   \
    COMBINE(sum_##SUFFIX, T, a + b)              \
    COMBINE(max_##SUFFIX, T, b > a ? b : a)      \
    COMBINE(min_##SUFFIX, T, b < a ? b : a)
COMBINE_ALL(u8, uint8_t)
COMBINE_ALL(i32, int32_t)
COMBINE_ALL(i64, int64_t)
COMBINE_ALL(f32, float)
COMBINE_ALL(f64, double)

/* Indexed by NABLA_MPI_BYTE ... NABLA_MPI_DOUBLE, then NABLA_MPI_SUM, MAX, MIN. */
static const combine_fn combiners[5][3] = {
    {sum_u8, max_u8, min_u8},     {sum_i32, max_i32, min_i32}, {sum_i64, max_i64, min_i64},
    {sum_f32, max_f32, min_f32}, {sum_f64, max_f64, min_f64},
};

static void divide(void *data, int64_t n, int dtype, int64_t divisor) {
    if (dtype == NABLA_MPI_FLOAT) {
        float *p = data;
        const float d = (float)divisor;
        for (int64_t i = 0; i < n; i++) p[i] /= d;
    } else if (dtype == NABLA_MPI_DOUBLE) {
        double *p = data;
        const double d = (double)divisor;
        for (int64_t i = 0; i < n; i++) p[i] /= d;
    }
}

static char *scratch;
static size_t scratch_bytes;

static int64_t segment_start(int64_t count, int size, int i) {
    const int64_t q = count / size, r = count % size;
    return i * q + (i < r ? i : r);
}
static int64_t segment_length(int64_t count, int size, int i) { return count / size + (i < count % size ? 1 : 0); }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for `count` requests. Open MPI's MPI_Waitall spins on the CPU until the peer answers; on a machine with
   more runnable threads than cores that spinning takes the core from the very process (or the compute threads)
   being waited for. This polls with MPI_Testall (which also progresses the transfers: with shared memory the
   receiver's copy happens inside it) for WAIT_SPIN_SECONDS, then sleeps between polls, from 10 us doubling up to
   WAIT_SLEEP_MAX_NS. */
#define WAIT_SPIN_SECONDS 50e-6
#define WAIT_SLEEP_MAX_NS 200000L
static int wait_all(int count, void **requests) {
    int done = 0;
    int rc = nabla_mpi_testall(count, requests, &done);
    if (rc || done) return rc;
    const double start = seconds();
    long sleep_ns = 10000;
    for (;;) {
        rc = nabla_mpi_testall(count, requests, &done);
        if (rc || done) return rc;
        if (seconds() - start > WAIT_SPIN_SECONDS) {
            const struct timespec pause = {0, sleep_ns};
            nanosleep(&pause, NULL);
            if (sleep_ns < WAIT_SLEEP_MAX_NS) sleep_ns *= 2;
        }
    }
}

/* Sends `send_n` elements at `send` to `right` while receiving `receive_n` elements from `left`, in chunks of `chunk`
   elements. Every send is posted at once, so the receiver can pull the data (shared memory: straight from this
   process's buffer) whether or not this process is running. With `combine`, each received chunk lands in scratch
   (two in flight) and is combined into `into`; without, everything is received straight into `into`. */
static int exchange(const char *send, int64_t send_n, char *into, int64_t receive_n, int64_t chunk, int dtype,
                    combine_fn combine, int left, int right, int tag) {
    const size_t item = nabla_mpi_item_size(dtype);
    const int64_t sends = (send_n + chunk - 1) / chunk, receives = (receive_n + chunk - 1) / chunk;
    const int64_t most = sends > receives ? sends : receives;
    void **requests = malloc((size_t)(2 * most + 2) * sizeof(void *));
    if (!requests) return -1;
    void **send_requests = requests, **receive_requests = requests + sends;
    int rc = 0;
    for (int64_t k = 0; k < sends && rc == 0; k++)
        rc = nabla_mpi_isend(send + (size_t)(k * chunk) * item, (int)min64(chunk, send_n - k * chunk), dtype, right, tag,
                             &send_requests[k]);
    if (!combine) {
        for (int64_t k = 0; k < receives && rc == 0; k++)
            rc = nabla_mpi_irecv(into + (size_t)(k * chunk) * item, (int)min64(chunk, receive_n - k * chunk), dtype, left,
                                 tag, &receive_requests[k]);
        if (rc == 0) rc = wait_all((int)receives, receive_requests);
    } else {
        for (int64_t k = 0; k < receives && k < 2 && rc == 0; k++)
            rc = nabla_mpi_irecv(scratch + (size_t)k * (size_t)chunk * item, (int)min64(chunk, receive_n - k * chunk),
                                 dtype, left, tag, &receive_requests[k]);
        for (int64_t k = 0; k < receives && rc == 0; k++) {
            char *landed = scratch + (size_t)(k % 2) * (size_t)chunk * item;
            rc = wait_all(1, &receive_requests[k]);
            if (rc) break;
            combine(into + (size_t)(k * chunk) * item, landed, min64(chunk, receive_n - k * chunk));
            if (k + 2 < receives)
                rc = nabla_mpi_irecv(landed, (int)min64(chunk, receive_n - (k + 2) * chunk), dtype, left, tag,
                                     &receive_requests[k + 2]);
        }
    }
    if (rc == 0) rc = wait_all((int)sends, send_requests);
    free(requests);
    return rc;
}

int nabla_ring_allreduce(void *buffer, int64_t count, int dtype, int op, int64_t divisor, int rank, int size,
                         int64_t chunk_bytes) {
    if (dtype < NABLA_MPI_BYTE || dtype > NABLA_MPI_DOUBLE || op < NABLA_MPI_SUM || op > NABLA_MPI_MIN || size < 1 ||
        rank < 0 || rank >= size || count < 0)
        return -1;
    if (size == 1 || count == 0) {
        if (divisor > 1) divide(buffer, count, dtype, divisor);
        return 0;
    }
    const size_t item = nabla_mpi_item_size(dtype);
    int64_t chunk = chunk_bytes / (int64_t)item;
    if (chunk < 1) chunk = 1;
    if (chunk > (1 << 30)) chunk = 1 << 30;
    const int64_t longest = segment_length(count, size, 0);
    if (chunk > longest) chunk = longest;
    if (scratch_bytes < 2 * (size_t)chunk * item) {
        free(scratch);
        scratch_bytes = 0;
        if (posix_memalign((void **)&scratch, 64, 2 * (size_t)chunk * item) != 0) {
            scratch = NULL;
            return -1;
        }
        scratch_bytes = 2 * (size_t)chunk * item;
    }
    char *data = buffer;
    const combine_fn combine = combiners[dtype][op];
    const int right = (rank + 1) % size, left = (rank + size - 1) % size;
    /* reduce-scatter: afterwards this rank holds the result of segment rank + 1 */
    for (int s = 0; s < size - 1; s++) {
        const int out = (rank - s + size) % size, in = (rank - s - 1 + 2 * size) % size;
        const int rc = exchange(data + (size_t)segment_start(count, size, out) * item, segment_length(count, size, out),
                                data + (size_t)segment_start(count, size, in) * item, segment_length(count, size, in),
                                chunk, dtype, combine, left, right, 1);
        if (rc) return rc;
    }
    const int owned = (rank + 1) % size;
    if (divisor > 1)
        divide(data + (size_t)segment_start(count, size, owned) * item, segment_length(count, size, owned), dtype, divisor);
    /* all-gather: each finished segment goes round the ring, received in place (in messages of at most 2^30) */
    for (int s = 0; s < size - 1; s++) {
        const int out = (rank + 1 - s + size) % size, in = (rank - s + size) % size;
        const int rc = exchange(data + (size_t)segment_start(count, size, out) * item, segment_length(count, size, out),
                                data + (size_t)segment_start(count, size, in) * item, segment_length(count, size, in),
                                1 << 30, dtype, NULL, left, right, 2);
        if (rc) return rc;
    }
    return 0;
}
