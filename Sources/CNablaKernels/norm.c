/* LayerNorm row kernels (see include/nabla_norm.h): two reads of a row for the statistics (mean, then the
   centred sum of squares, so no cancellation), one fused write of the affine output; the backward reads x and g
   twice per row and accumulates the weight and bias gradients in double. Loops are unswitched on the optional
   weight and bias pointers, so no vectorised loop reads through NULL. */
#include "nabla_norm.h"
#include "dispatch.h"
#include <math.h>
#include <stddef.h>

/* Row sums may be reassociated so they vectorise. */
#pragma clang fp reassociate(on)

#define NABLA_DISPATCH NABLA_CLONES("avx2")

#define LAYERNORM_KERNELS(T, SUF)                                                                             \
NABLA_DISPATCH void nabla_##SUF##_layernorm_fwd(const T *x, const T *w, const T *b, T *out, T *mean, T *rstd, \
                                                int64_t rows, int64_t n, double eps) {                        \
    for (int64_t i = 0; i < rows; i++) {                                                                      \
        const T *r = x + i * n;                                                                               \
        T *o = out + i * n;                                                                                   \
        T s = 0;                                                                                              \
        for (int64_t j = 0; j < n; j++) s += r[j];                                                            \
        T m = n > 0 ? s / (T)n : 0;                                                                           \
        T v = 0;                                                                                              \
        for (int64_t j = 0; j < n; j++) { T d = r[j] - m; v += d * d; }                                       \
        T rs = (T)(1.0 / sqrt((double)v / (double)(n > 0 ? n : 1) + eps));                                   \
        mean[i] = m; rstd[i] = rs;                                                                            \
        if (w != NULL && b != NULL) { for (int64_t j = 0; j < n; j++) o[j] = (r[j] - m) * rs * w[j] + b[j]; } \
        else if (w != NULL) { for (int64_t j = 0; j < n; j++) o[j] = (r[j] - m) * rs * w[j]; }                \
        else if (b != NULL) { for (int64_t j = 0; j < n; j++) o[j] = (r[j] - m) * rs + b[j]; }                \
        else { for (int64_t j = 0; j < n; j++) o[j] = (r[j] - m) * rs; }                                      \
    }                                                                                                         \
}                                                                                                             \
static inline __attribute__((always_inline)) void SUF##_ln_bwd_body(const T *x, const T *g, const T *w,       \
        const T *mean, const T *rstd, T *dx, double *dw, double *db, int64_t rows, int64_t n, int has_w) {    \
    const T inv_n = (T)1 / (T)(n > 0 ? n : 1);                                                                \
    for (int64_t i = 0; i < rows; i++) {                                                                      \
        const T *xr = x + i * n, *gr = g + i * n;                                                             \
        T *d = dx + i * n;                                                                                    \
        const T m = mean[i], rs = rstd[i];                                                                    \
        T a = 0, c = 0;                                                                                       \
        for (int64_t j = 0; j < n; j++) {                                                                     \
            T xh = (xr[j] - m) * rs, gj = gr[j];                                                              \
            T gw = has_w ? gj * w[j] : gj;                                                                    \
            a += gw; c += gw * xh;                                                                            \
            dw[j] += (double)(gj * xh); db[j] += (double)gj;                                                  \
        }                                                                                                     \
        a *= inv_n; c *= inv_n;                                                                               \
        for (int64_t j = 0; j < n; j++) {                                                                     \
            T xh = (xr[j] - m) * rs;                                                                          \
            T gw = has_w ? gr[j] * w[j] : gr[j];                                                              \
            d[j] = rs * (gw - a - xh * c);                                                                    \
        }                                                                                                     \
    }                                                                                                         \
}                                                                                                             \
NABLA_DISPATCH void nabla_##SUF##_layernorm_bwd(const T *x, const T *g, const T *w, const T *mean,            \
        const T *rstd, T *dx, double *dw_acc, double *db_acc, int64_t rows, int64_t n) {                      \
    if (w != NULL) SUF##_ln_bwd_body(x, g, w, mean, rstd, dx, dw_acc, db_acc, rows, n, 1);                    \
    else SUF##_ln_bwd_body(x, g, NULL, mean, rstd, dx, dw_acc, db_acc, rows, n, 0);                           \
}

LAYERNORM_KERNELS(float, f32)
LAYERNORM_KERNELS(double, f64)
