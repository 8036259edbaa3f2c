/* Convolution and pooling kernels: im2col / col2im and max pooling (float32 with AVX2 clones, float64 plain). */
#include "nabla_conv.h"
#include "dispatch.h"
#include <math.h>
#include <string.h>

#define NABLA_DISPATCH NABLA_CLONES("avx2,fma")

/* Valid output columns [*lo, *hi) for which 0 <= o * s + off < size. */
static inline void valid_range(int64_t off, int64_t s, int64_t size, int64_t out, int64_t *lo, int64_t *hi) {
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = (size - 1 - off) < 0 ? 0 : (size - 1 - off) / s + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l; *hi = h;
}

#define DEFINE_IM2COL(NAME, T)                                                                        \
NABLA_DISPATCH void NAME(const T *x, T *cols, const nabla_conv_geom *g, int64_t n0, int64_t n1) {     \
    const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, L = OH * OW, NL = g->n * L;             \
    /* Stride 1 with OW == W ("same" padding): the valid taps of consecutive rows are one contiguous run in both \
       the plane and the column row, so each tap is one copy plus zeroed borders. */                  \
    const int same = g->sh == 1 && g->sw == 1 && OW == W;                                             \
    for (int64_t n = n0; n < n1; n++)                                                                 \
    for (int64_t c = 0; c < g->c; c++) {                                                              \
        const T *src = x + (n * g->c + c) * H * W;                                                    \
        for (int64_t ki = 0; ki < g->kh; ki++)                                                        \
        for (int64_t kj = 0; kj < g->kw; kj++) {                                                      \
            T *dst = cols + ((c * g->kh + ki) * g->kw + kj) * NL + n * L;                             \
            const int64_t offw = kj * g->dw - g->pw;                                                  \
            int64_t lo, hi;                                                                           \
            valid_range(offw, g->sw, W, OW, &lo, &hi);                                                \
            if (same) {                                                                               \
                int64_t r0, r1;                                                                       \
                valid_range(ki * g->dh - g->ph, 1, H, OH, &r0, &r1);                                  \
                if (r0 >= r1 || lo >= hi) { memset(dst, 0, (size_t)L * sizeof(T)); continue; }        \
                const int64_t offh = ki * g->dh - g->ph, a = r0 * OW + lo, b = (r1 - 1) * OW + hi;     \
                memset(dst, 0, (size_t)a * sizeof(T));                                                \
                memcpy(dst + a, src + (r0 + offh) * W + lo + offw, (size_t)(b - a) * sizeof(T));       \
                memset(dst + b, 0, (size_t)(L - b) * sizeof(T));                                      \
                if (lo > 0 || hi < OW)                                                                \
                    for (int64_t oh = r0; oh < r1; oh++) {                                            \
                        T *d = dst + oh * OW;                                                         \
                        for (int64_t o = 0; o < lo; o++) d[o] = 0;                                    \
                        for (int64_t o = hi; o < OW; o++) d[o] = 0;                                   \
                    }                                                                                 \
                continue;                                                                             \
            }                                                                                         \
            for (int64_t oh = 0; oh < OH; oh++) {                                                     \
                const int64_t ih = oh * g->sh - g->ph + ki * g->dh;                                   \
                T *d = dst + oh * OW;                                                                 \
                if (ih < 0 || ih >= H) { for (int64_t o = 0; o < OW; o++) d[o] = 0; continue; }       \
                const T *row = src + ih * W + offw;                                                   \
                for (int64_t o = 0; o < lo; o++) d[o] = 0;                                            \
                if (g->sw == 1) { for (int64_t o = lo; o < hi; o++) d[o] = row[o]; }                  \
                else { const int64_t s = g->sw; for (int64_t o = lo; o < hi; o++) d[o] = row[o * s]; } \
                for (int64_t o = hi; o < OW; o++) d[o] = 0;                                           \
            }                                                                                         \
        }                                                                                             \
    }                                                                                                 \
}

#define DEFINE_COL2IM(NAME, T)                                                                        \
NABLA_DISPATCH void NAME(const T *cols, T *x, const nabla_conv_geom *g, int64_t n0, int64_t n1) {     \
    const int64_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, L = OH * OW, NL = g->n * L;             \
    for (int64_t n = n0; n < n1; n++)                                                                 \
    for (int64_t c = 0; c < g->c; c++) {                                                              \
        T *dstPlane = x + (n * g->c + c) * H * W;                                                     \
        memset(dstPlane, 0, (size_t)(H * W) * sizeof(T));                                             \
        for (int64_t ki = 0; ki < g->kh; ki++)                                                        \
        for (int64_t kj = 0; kj < g->kw; kj++) {                                                      \
            const T *src = cols + ((c * g->kh + ki) * g->kw + kj) * NL + n * L;                       \
            const int64_t offw = kj * g->dw - g->pw;                                                  \
            int64_t lo, hi;                                                                           \
            valid_range(offw, g->sw, W, OW, &lo, &hi);                                                \
            for (int64_t oh = 0; oh < OH; oh++) {                                                     \
                const int64_t ih = oh * g->sh - g->ph + ki * g->dh;                                   \
                if (ih < 0 || ih >= H) continue;                                                      \
                const T *s = src + oh * OW;                                                           \
                T *row = dstPlane + ih * W + offw;                                                    \
                if (g->sw == 1) { for (int64_t o = lo; o < hi; o++) row[o] += s[o]; }                 \
                else { const int64_t st = g->sw; for (int64_t o = lo; o < hi; o++) row[o * st] += s[o]; } \
            }                                                                                         \
        }                                                                                             \
    }                                                                                                 \
}

DEFINE_IM2COL(nabla_f32_im2col, float)
DEFINE_IM2COL(nabla_f64_im2col, double)
DEFINE_COL2IM(nabla_f32_col2im, float)
DEFINE_COL2IM(nabla_f64_col2im, double)

#define DEFINE_MAXPOOL(NAME, T)                                                                        \
NABLA_DISPATCH void NAME(const T *x, T *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W, \
                         int64_t OH, int64_t OW, const int64_t *h0, const int64_t *hn, int64_t dh,      \
                         const int64_t *w0, const int64_t *wn, int64_t dw) {                            \
    for (int64_t p = p0; p < p1; p++) {                                                                \
        const T *plane = x + p * H * W;                                                                \
        T *o = out + p * OH * OW;                                                                      \
        int64_t *ix = idx + p * OH * OW;                                                               \
        for (int64_t i = 0; i < OH; i++)                                                               \
        for (int64_t j = 0; j < OW; j++) {                                                             \
            T best = -INFINITY; int64_t bi = -1;                                                       \
            for (int64_t a = 0; a < hn[i]; a++) {                                                      \
                const int64_t r = h0[i] + a * dh;                                                      \
                if (r < 0 || r >= H) continue;                                                         \
                for (int64_t b = 0; b < wn[j]; b++) {                                                  \
                    const int64_t cc = w0[j] + b * dw;                                                 \
                    if (cc < 0 || cc >= W) continue;                                                   \
                    const T v = plane[r * W + cc];                                                     \
                    if (bi < 0 || v > best || isnan(v)) { best = v; bi = r * W + cc; if (isnan(v)) goto done_##NAME; } \
                }                                                                                      \
            }                                                                                          \
            done_##NAME:                                                                               \
            o[i * OW + j] = best; ix[i * OW + j] = bi;                                                 \
        }                                                                                              \
    }                                                                                                  \
}

DEFINE_MAXPOOL(nabla_f32_maxpool2d, float)
DEFINE_MAXPOOL(nabla_f64_maxpool2d, double)

NABLA_DISPATCH void nabla_f32_maxpool2d_k(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W,
                                          int64_t OH, int64_t OW, int64_t k) {
    for (int64_t p = p0; p < p1; p++) {
        const float *plane = x + p * H * W;
        float *o = out + p * OH * OW;
        int64_t *ix = idx + p * OH * OW;
        for (int64_t i = 0; i < OH; i++)
        for (int64_t j = 0; j < OW; j++) {
            int64_t bi = i * k * W + j * k;
            float best = plane[bi];
            if (!isnan(best)) {
                for (int64_t a = 0; a < k; a++)
                for (int64_t b = 0; b < k; b++) {
                    const int64_t q = (i * k + a) * W + j * k + b;
                    const float v = plane[q];
                    if (v > best || isnan(v)) { best = v; bi = q; if (isnan(v)) goto done_k; }
                }
            }
            done_k:
            o[i * OW + j] = best; ix[i * OW + j] = bi;
        }
    }
}

#define DEFINE_MAXPOOL_BACKWARD(NAME, T)                                                                \
NABLA_DISPATCH void NAME(const T *g, const int64_t *idx, T *gx, int64_t p0, int64_t p1, int64_t HW, int64_t L) { \
    for (int64_t p = p0; p < p1; p++) {                                                                 \
        T *d = gx + p * HW;                                                                             \
        memset(d, 0, (size_t)HW * sizeof(T));                                                           \
        const T *s = g + p * L; const int64_t *ix = idx + p * L;                                        \
        for (int64_t i = 0; i < L; i++) d[ix[i]] += s[i];                                               \
    }                                                                                                   \
}

DEFINE_MAXPOOL_BACKWARD(nabla_f32_maxpool_backward, float)
DEFINE_MAXPOOL_BACKWARD(nabla_f64_maxpool_backward, double)

/* dst [B, A, L] = src [A, B, L] with dims 0 and 1 swapped, plus bias[a] when bias is not NULL; rows b0..<b1 of dst. */
#define DEFINE_SWAP01(NAME, T)                                                                          \
NABLA_DISPATCH void NAME(const T *src, const T *bias, T *dst, int64_t A, int64_t B, int64_t L, int64_t b0, int64_t b1) { \
    for (int64_t b = b0; b < b1; b++)                                                                   \
    for (int64_t a = 0; a < A; a++) {                                                                   \
        const T *s = src + (a * B + b) * L; T *d = dst + (b * A + a) * L;                               \
        if (bias) { const T v = bias[a]; for (int64_t l = 0; l < L; l++) d[l] = s[l] + v; }             \
        else memcpy(d, s, (size_t)L * sizeof(T));                                                       \
    }                                                                                                   \
}

DEFINE_SWAP01(nabla_f32_swap01, float)
DEFINE_SWAP01(nabla_f64_swap01, double)
