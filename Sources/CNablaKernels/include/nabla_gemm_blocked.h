#ifndef NABLA_GEMM_BLOCKED_H
#define NABLA_GEMM_BLOCKED_H
#include <stdint.h>

/* A cache-blocked float32 GEMM on Nabla's AVX-512 register tile (see gemm_blocked.c), on the calling thread; a
   caller splits C's rows or columns across its own threads. Row-major, with cblas_sgemm's meaning of the
   arguments, and beta restricted to 0 (C written over) or 1 (C added to). */

/* Whether this CPU runs nabla_f32_gemm (AVX-512F/VL/DQ/BW on x86-64 Linux); 0 elsewhere. */
int nabla_f32_gemm_available(void);

/* Whether nabla_f32_gemm is measured faster than OpenBLAS 0.3.21 on this CPU: AMD CPUs with AVX-512 (Zen 4,
   where OpenBLAS runs its Cooper Lake kernels). Intel's AVX-512 cores, with two 512-bit FMA units, have not
   been measured against OpenBLAS's SkylakeX kernels, so they stay on OpenBLAS. */
int nabla_f32_gemm_preferred(void);

/* Whether nabla_f32_gemm copies each block of A before reading it (A's row stride lda puts a tile's rows in
   fewer than 4 L1 sets), once for every 256 columns of C. */
int nabla_f32_gemm_copies_a(int64_t lda);

/* C (m×n, row stride ldc) = alpha · op(A) · op(B) (+ C when `accumulate`). op(A) is m×k: element (i, q) is
   a[i·lda + q], or a[q·lda + i] when `trans_a`; op(B) is k×n: element (q, j) is b[q·ldb + j], or b[j·ldb + q]
   when `trans_b`. Only on CPUs where nabla_f32_gemm_available() is 1. */
void nabla_f32_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc);

#endif
