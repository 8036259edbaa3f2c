#ifndef NABLA_GEMM_PACKED_H
#define NABLA_GEMM_PACKED_H
#include <stdint.h>

/* GEMM against a B packed once and reused for many products (see gemm_packed.c): the recurrent products of an
   RNN, where the same weight meets a new small A at every time step. BLAS repacks B on every call, and threads
   each call; these run on the calling thread, so a caller splits rows across its own threads with no sync.

   B (k×n) is packed into column panels of NABLA_F32_PANEL (float) or NABLA_F64_PANEL (double) columns, each panel
   k consecutive rows of panel width, zero-padded past n. */
#define NABLA_F32_PANEL 16
#define NABLA_F64_PANEL 8

/* Elements the packed form of a k×n matrix needs. */
int64_t nabla_f32_packed_size(int64_t k, int64_t n);
int64_t nabla_f64_packed_size(int64_t k, int64_t n);

/* Packs B (k×n) into `out`: element (i, j) of B is b[i·ldb + j], or b[j·ldb + i] when `trans_b` (B given as its
   n×k transpose, like cblas' op(B)). */
void nabla_f32_pack_b(const float *b, int64_t ldb, int trans_b, int64_t k, int64_t n, float *out);
void nabla_f64_pack_b(const double *b, int64_t ldb, int trans_b, int64_t k, int64_t n, double *out);

/* C (m×n, row stride ldc) = A (m×k) · B, from B packed by nabla_?_pack_b, added to C when `accumulate` is nonzero,
   written over it otherwise. Element (i, q) of A is a[i·lda + q], or a[q·lda + i] when `trans_a`. */
void nabla_f32_gemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, int trans_a,
                           const float *bp, int accumulate, float *c, int64_t ldc);
void nabla_f64_gemm_packed(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda, int trans_a,
                           const double *bp, int accumulate, double *c, int64_t ldc);

#endif
