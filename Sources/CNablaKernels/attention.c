/* Row-wise softmax kernels (see include/nabla_attention.h): one read for the maximum, one pass that writes
   exp(x - max) and sums it, one scaling pass, all on a row that stays in L1. float32 uses a branch-free
   Cephes-style exp (about 2 ulp) so the loops vectorise; float64 uses libm's exp. */
#include "nabla_attention.h"
#include "dispatch.h"
#include "fast_expf.h"
#include <math.h>
#include <stddef.h>

/* Row sums and maxima may be reassociated so they vectorise (the order of a float sum is not part of the contract). */
#pragma clang fp reassociate(on)

#define NABLA_DISPATCH NABLA_CLONES("avx2")

static inline double nb_att_exp(double x) { return exp(x); }

#define SOFTMAX_KERNELS(T, SUF, EXP, NEG_INF)                                                                 \
static inline __attribute__((always_inline)) T SUF##_row_max(const T *x, int64_t n) {                        \
    T m = NEG_INF;                                                                                            \
    for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;                                                  \
    return m;                                                                                                 \
}                                                                                                             \
/* exp(src - m) into dst, returning the sum; then scales dst by 1 / sum. A NaN anywhere gives a NaN row. */   \
static inline __attribute__((always_inline)) void SUF##_row_finish(const T *src, T *dst, int64_t n, T m) {    \
    T s = 0;                                                                                                  \
    for (int64_t j = 0; j < n; j++) { T e = EXP(src[j] - m); dst[j] = e; s += e; }                            \
    T inv = (T)1 / s;                                                                                         \
    for (int64_t j = 0; j < n; j++) dst[j] *= inv;                                                            \
}                                                                                                             \
static inline __attribute__((always_inline)) int SUF##_has_nan(const T *x, int64_t n) {                      \
    int bad = 0;                                                                                              \
    for (int64_t j = 0; j < n; j++) bad |= x[j] != x[j];                                                      \
    return bad;                                                                                               \
}                                                                                                             \
/* The max of a row that holds a NaN is NaN (PyTorch propagates it); the vectorised max skips NaNs. */       \
static inline __attribute__((always_inline)) T SUF##_safe_max(const T *x, int64_t n) {                       \
    T m = SUF##_row_max(x, n);                                                                                \
    return SUF##_has_nan(x, n) ? (T)NAN : m;                                                                  \
}                                                                                                             \
NABLA_DISPATCH void nabla_##SUF##_softmax_rows(T *x, int64_t rows, int64_t cols, int64_t ld, const T *mask,   \
                                               int64_t mrs, int64_t mcs) {                                   \
    for (int64_t i = 0; i < rows; i++) {                                                                      \
        T *r = x + i * ld;                                                                                    \
        if (mask != NULL) {                                                                                   \
            const T *mr = mask + i * mrs;                                                                     \
            if (mcs == 1) { for (int64_t j = 0; j < cols; j++) r[j] += mr[j]; }                               \
            else if (mcs == 0) { T c = mr[0]; for (int64_t j = 0; j < cols; j++) r[j] += c; }                 \
            else { for (int64_t j = 0; j < cols; j++) r[j] += mr[j * mcs]; }                                  \
        }                                                                                                     \
        SUF##_row_finish(r, r, cols, SUF##_safe_max(r, cols));                                                \
    }                                                                                                         \
}                                                                                                             \
NABLA_DISPATCH void nabla_##SUF##_softmax_fwd(const T *x, T *out, int64_t rows, int64_t cols) {              \
    for (int64_t i = 0; i < rows; i++) {                                                                      \
        const T *r = x + i * cols;                                                                            \
        SUF##_row_finish(r, out + i * cols, cols, SUF##_safe_max(r, cols));                                   \
    }                                                                                                         \
}                                                                                                             \
NABLA_DISPATCH void nabla_##SUF##_softmax_bwd(const T *g, const T *y, T *out, int64_t rows, int64_t cols) {  \
    for (int64_t i = 0; i < rows; i++) {                                                                      \
        const T *gr = g + i * cols, *yr = y + i * cols;                                                       \
        T *o = out + i * cols;                                                                                \
        T d = 0;                                                                                              \
        for (int64_t j = 0; j < cols; j++) d += gr[j] * yr[j];                                                \
        for (int64_t j = 0; j < cols; j++) o[j] = yr[j] * (gr[j] - d);                                        \
    }                                                                                                         \
}

SOFTMAX_KERNELS(float, f32, nabla_fast_expf, -INFINITY)
SOFTMAX_KERNELS(double, f64, nb_att_exp, -INFINITY)
