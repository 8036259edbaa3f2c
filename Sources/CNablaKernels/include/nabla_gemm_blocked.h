#ifndef NABLA_GEMM_BLOCKED_H
#define NABLA_GEMM_BLOCKED_H
#include <stdint.h>

/* A cache-blocked float32 GEMM on Nabla's register tiles, AVX-512 or AVX2 (see gemm_blocked.c), on the calling thread
   (nabla_f32_gemm) or on a team of the caller's threads (nabla_f32_gemm_team_*). Row-major, with cblas_sgemm's meaning of the
   arguments, and beta restricted to 0 (C written over) or 1 (C added to). */

/* Whether this CPU runs nabla_f32_gemm (AVX-512F/VL/DQ/BW, or AVX2 + FMA, on x86-64 Linux); 0 elsewhere. */
int nabla_f32_gemm_available(void);

/* Makes an AVX-512 CPU run the AVX2 tile (`on` 1) or its own again (0): the two give the same results bit for bit,
   which the tests check. Any time, from any thread. */
void nabla_f32_gemm_use_avx2_tile(int on);

/* Whether nabla_f32_gemm is measured faster than OpenBLAS 0.3.21 on this CPU: AMD CPUs where it is available
   (Zen 4 against OpenBLAS's Cooper Lake kernels with the AVX-512 tile, and against its Zen kernels with the AVX2
   tile). Intel's AVX-512 cores, with two 512-bit FMA units, have not been measured against OpenBLAS's SkylakeX
   kernels, so they stay on OpenBLAS. */
int nabla_f32_gemm_preferred(void);

/* Whether nabla_f32_gemm copies each block of A before reading it (A's row stride lda puts a tile's rows in
   fewer than 4 L1 sets), once for every 256 columns of C. */
int nabla_f32_gemm_copies_a(int64_t lda);

/* C (m×n, row stride ldc) = alpha · op(A) · op(B) (+ C when `accumulate`). op(A) is m×k: element (i, q) is
   a[i·lda + q], or a[q·lda + i] when `trans_a`; op(B) is k×n: element (q, j) is b[q·ldb + j], or b[j·ldb + q]
   when `trans_b`. Only on CPUs where nabla_f32_gemm_available() is 1. */
void nabla_f32_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc);

/* One product shared by several threads, each claiming blocks of C as it comes free (so that a thread slowed by
   another process does less of it), with op(B) packed once for all. Every thread of the caller's pool calls
   nabla_f32_gemm_team_run with the team, which returns when no block is left; a thread that calls it after the
   others have finished returns at once, so the pool may run the calls one after another. Then
   nabla_f32_gemm_team_destroy, after every run has returned. `threads`: how many will run it, which sets the block
   size (about eight blocks a thread). m, n and k at least 1. The result is the same, bit for bit, as
   nabla_f32_gemm's. */
typedef struct nabla_gemm_team nabla_gemm_team;
nabla_gemm_team *nabla_f32_gemm_team_create(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                            const float *a, int64_t lda, const float *b, int64_t ldb, int accumulate,
                                            float *c, int64_t ldc, int threads);
void nabla_f32_gemm_team_run(nabla_gemm_team *team);
void nabla_f32_gemm_team_destroy(nabla_gemm_team *team);
/* Sets what the team does to C besides the product, before any run: `bias` (n floats, or NULL) is added to every row
   of C (then `accumulate` must be 0): C = bias + op(A)·op(B), the same bits as a product summed onto a C that holds
   the bias; then `residual` (m rows of n, ldr apart, or NULL) is added, and a ReLU applied when `relu` (NaN kept,
   -0 made +0). The register tiles apply them to their sums as they store them. */
void nabla_f32_gemm_team_epilogue(nabla_gemm_team *team, const float *bias, const float *residual, int64_t ldr,
                                  int relu);
/* How many blocks of C the team hands out (for tests). */
int64_t nabla_f32_gemm_team_chunks(const nabla_gemm_team *team);

#endif
