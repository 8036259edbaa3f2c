/* A linear layer on a few rows against a pre-packed weight (see include/nabla_linear_small.h). */
#include "nabla_linear_small.h"
#include "nabla_gemm_packed.h"
#include "dispatch.h"
#include <string.h>

#define NABLA_DISPATCH NABLA_CLONES(NABLA_V4_CLONE "arch=x86-64-v3")

#pragma clang diagnostic ignored "-Wpsabi"

typedef float ls_v16f __attribute__((ext_vector_type(NABLA_F32_PANEL)));

#define LS_PANELS 4   /* panels per pass: M·4 independent accumulators hide the multiply-add latency */

/* Rows 0..<M of the NP panels from panel P on (M, NP constants at each call). */
static inline __attribute__((always_inline)) void ls_block(const float *a, int64_t lda, const int M, int64_t k, int64_t n,
                                                           const float *bp, const int NP, int64_t P, const float *bias,
                                                           float *out, int64_t ldo) {
    ls_v16f acc[NABLA_LINEAR_SMALL_ROWS][LS_PANELS];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < NP; j++) acc[i][j] = (ls_v16f)0;
    const float *b0 = bp + P * NABLA_F32_PANEL * k;
    for (int64_t q = 0; q < k; q++)
        for (int j = 0; j < NP; j++) {
            ls_v16f bq;
            memcpy(&bq, b0 + (j * k + q) * NABLA_F32_PANEL, sizeof bq);
            for (int i = 0; i < M; i++) acc[i][j] += a[i * lda + q] * bq;
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < NP; j++) {
            const int64_t col = (P + j) * NABLA_F32_PANEL;
            const int64_t cnt = n - col < NABLA_F32_PANEL ? n - col : NABLA_F32_PANEL;
            float tmp[NABLA_F32_PANEL];
            memcpy(tmp, &acc[i][j], sizeof tmp);
            float *o = out + i * ldo + col;
            for (int64_t l = 0; l < cnt; l++) o[l] = bias ? tmp[l] + bias[col + l] : tmp[l];
        }
}

#define LS_CASE(M, NP) case (M - 1) * LS_PANELS + NP - 1: ls_block(a, lda, M, k, n, bp, NP, P, bias, out, ldo); break;
#define LS_CASES(M) LS_CASE(M, 1) LS_CASE(M, 2) LS_CASE(M, 3) LS_CASE(M, 4)

NABLA_DISPATCH void nabla_f32_linear_small(const float *a, int64_t lda, int64_t m, int64_t k, int64_t n, const float *bp,
                                           const float *bias, float *out, int64_t ldo, int64_t p0, int64_t p1) {
    if (m < 1 || m > NABLA_LINEAR_SMALL_ROWS) return;
    for (int64_t P = p0; P < p1; P += LS_PANELS) {
        const int np = (int)(p1 - P < LS_PANELS ? p1 - P : LS_PANELS);
        switch ((int)(m - 1) * LS_PANELS + np - 1) {
            LS_CASES(1) LS_CASES(2) LS_CASES(3) LS_CASES(4)
            default: break;
        }
    }
}
