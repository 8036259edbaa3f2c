#ifndef NABLA_LINEAR_SMALL_H
#define NABLA_LINEAR_SMALL_H
#include <stdint.h>

/* A linear layer on a few rows (batch-1 inference) against a weight packed once (linear_small.c): BLAS repacks the
   weight on every call and runs one dependent chain of multiply-adds per output vector, so a [1, 3136] x [3136, 128]
   product is bound by the latency of its fused multiply-adds and by reading the weight from L3. Here the weight is
   read as gemm_packed's panels, four panels at a time, and a caller splits the panels across threads, so each core
   reads (and keeps in its L2) only its share. */

/* The most rows nabla_f32_linear_small takes. */
#define NABLA_LINEAR_SMALL_ROWS 4

/* out[i, j] = Σ_q a[i·lda + q] · B(q, j) (+ bias[j] when bias is not NULL) for rows i < m (m at most
   NABLA_LINEAR_SMALL_ROWS) and the columns of panels p0..<p1 of B (k x n), packed by nabla_f32_pack_b (panels of
   NABLA_F32_PANEL columns); out has row stride ldo. Each sum runs over q in order, the bias added last. */
void nabla_f32_linear_small(const float *a, int64_t lda, int64_t m, int64_t k, int64_t n, const float *bp,
                            const float *bias, float *out, int64_t ldo, int64_t p0, int64_t p1);

#endif
