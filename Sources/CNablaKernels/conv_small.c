/* Direct convolution kernels for a small reduction size K = C*kh*kw (a first layer on 1- or 3-channel images), where
   a BLAS GEMM with K this small is bound by memory traffic and a [C*kh*kw, N*L] column matrix plus an NCHW reshuffle
   cost more than the arithmetic. Each image's columns are unfolded into a per-thread scratch buffer [K, L] (in cache)
   and multiplied there, writing the NCHW output (or the weight gradient) directly. Also the 2x2 / stride-2 max pool. */
#include "nabla_conv.h"
#include "dispatch.h"
#include <math.h>
#include <string.h>

#define NABLA_DISPATCH NABLA_CLONES(NABLA_V4_CLONE "arch=x86-64-v3")

/* Forward: y[n] [OC, L] = bias + w [OC, K] @ cols_n [K, L]. Blocks of 4 output channels x 16 columns are accumulated in
   registers; leftover channels and columns take plain loops. The bias pointer is tested once per channel, never
   dereferenced inside a vector loop. */
#define DEFINE_CONV_SMALLK(NAME, IM2COL, T)                                                            \
NABLA_DISPATCH void NAME(const T *x, const T *w, const T *bias, T *y, const nabla_conv_geom *g, int64_t OC,  \
                         int64_t n0, int64_t n1, T *cols) {                                            \
    nabla_conv_geom g1 = *g; g1.n = 1;                                                                 \
    const int64_t K = g->c * g->kh * g->kw, L = g->oh * g->ow, img = g->c * g->h * g->w;               \
    for (int64_t n = n0; n < n1; n++) {                                                                \
        IM2COL(x + n * img, cols, &g1, 0, 1);                                                          \
        T *yn = y + n * OC * L;                                                                        \
        int64_t o = 0;                                                                                 \
        for (; o + 4 <= OC; o += 4) {                                                                  \
            const T *w0 = w + o * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;                         \
            const T b0 = bias ? bias[o] : 0, b1 = bias ? bias[o + 1] : 0;                              \
            const T b2 = bias ? bias[o + 2] : 0, b3 = bias ? bias[o + 3] : 0;                          \
            T *y0 = yn + o * L, *y1 = y0 + L, *y2 = y1 + L, *y3 = y2 + L;                              \
            int64_t l = 0;                                                                             \
            for (; l + 16 <= L; l += 16) {                                                             \
                T a0[16], a1[16], a2[16], a3[16];                                                      \
                for (int j = 0; j < 16; j++) { a0[j] = b0; a1[j] = b1; a2[j] = b2; a3[j] = b3; }       \
                for (int64_t k = 0; k < K; k++) {                                                      \
                    const T *c = cols + k * L + l;                                                     \
                    const T v0 = w0[k], v1 = w1[k], v2 = w2[k], v3 = w3[k];                            \
                    for (int j = 0; j < 16; j++) {                                                     \
                        const T cj = c[j];                                                             \
                        a0[j] += v0 * cj; a1[j] += v1 * cj; a2[j] += v2 * cj; a3[j] += v3 * cj;        \
                    }                                                                                  \
                }                                                                                      \
                for (int j = 0; j < 16; j++) { y0[l + j] = a0[j]; y1[l + j] = a1[j]; y2[l + j] = a2[j]; y3[l + j] = a3[j]; } \
            }                                                                                          \
            for (; l < L; l++) {                                                                       \
                T s0 = b0, s1 = b1, s2 = b2, s3 = b3;                                                  \
                for (int64_t k = 0; k < K; k++) {                                                      \
                    const T cj = cols[k * L + l];                                                      \
                    s0 += w0[k] * cj; s1 += w1[k] * cj; s2 += w2[k] * cj; s3 += w3[k] * cj;            \
                }                                                                                      \
                y0[l] = s0; y1[l] = s1; y2[l] = s2; y3[l] = s3;                                        \
            }                                                                                          \
        }                                                                                              \
        for (; o < OC; o++) {                                                                          \
            const T *wr = w + o * K; T *yr = yn + o * L;                                               \
            const T b = bias ? bias[o] : 0;                                                            \
            for (int64_t l = 0; l < L; l++) yr[l] = b;                                                 \
            for (int64_t k = 0; k < K; k++) {                                                          \
                const T v = wr[k]; const T *c = cols + k * L;                                          \
                for (int64_t l = 0; l < L; l++) yr[l] += v * c[l];                                     \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
}

DEFINE_CONV_SMALLK(nabla_f32_conv_smallk, nabla_f32_im2col, float)
DEFINE_CONV_SMALLK(nabla_f64_conv_smallk, nabla_f64_im2col, double)

/* Weight and bias gradients: gw [OC, K] += gy_n [OC, L] @ cols_n^T, gb [OC] += row sums of gy_n, for images n0..<n1.
   Dot products run in 8 independent lanes (so they vectorise without reassociation), 4 taps at a time. */
#define DEFINE_CONV_SMALLK_WGRAD(NAME, IM2COL, T)                                                      \
NABLA_DISPATCH void NAME(const T *x, const T *gy, T *gw, T *gb, const nabla_conv_geom *g, int64_t OC,      \
                         int64_t n0, int64_t n1, T *cols) {                                            \
    nabla_conv_geom g1 = *g; g1.n = 1;                                                                 \
    const int64_t K = g->c * g->kh * g->kw, L = g->oh * g->ow, img = g->c * g->h * g->w;               \
    const int64_t L8 = L & ~(int64_t)7;                                                                \
    for (int64_t n = n0; n < n1; n++) {                                                                \
        IM2COL(x + n * img, cols, &g1, 0, 1);                                                          \
        for (int64_t o = 0; o < OC; o++) {                                                             \
            const T *gr = gy + (n * OC + o) * L;                                                       \
            T *gwr = gw + o * K;                                                                       \
            T sb[8] = {0};                                                                             \
            for (int64_t l = 0; l < L8; l += 8) for (int j = 0; j < 8; j++) sb[j] += gr[l + j];        \
            T tb = 0;                                                                                  \
            for (int64_t l = L8; l < L; l++) tb += gr[l];                                              \
            for (int j = 0; j < 8; j++) tb += sb[j];                                                   \
            gb[o] += tb;                                                                               \
            int64_t k = 0;                                                                             \
            for (; k + 4 <= K; k += 4) {                                                               \
                const T *c0 = cols + k * L, *c1 = c0 + L, *c2 = c1 + L, *c3 = c2 + L;                  \
                T a0[8] = {0}, a1[8] = {0}, a2[8] = {0}, a3[8] = {0};                                  \
                for (int64_t l = 0; l < L8; l += 8)                                                    \
                    for (int j = 0; j < 8; j++) {                                                      \
                        const T v = gr[l + j];                                                         \
                        a0[j] += v * c0[l + j]; a1[j] += v * c1[l + j]; a2[j] += v * c2[l + j]; a3[j] += v * c3[l + j]; \
                    }                                                                                  \
                T s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                                      \
                for (int64_t l = L8; l < L; l++) { const T v = gr[l]; s0 += v * c0[l]; s1 += v * c1[l]; s2 += v * c2[l]; s3 += v * c3[l]; } \
                for (int j = 0; j < 8; j++) { s0 += a0[j]; s1 += a1[j]; s2 += a2[j]; s3 += a3[j]; }    \
                gwr[k] += s0; gwr[k + 1] += s1; gwr[k + 2] += s2; gwr[k + 3] += s3;                    \
            }                                                                                          \
            for (; k < K; k++) {                                                                       \
                const T *c0 = cols + k * L;                                                            \
                T a0[8] = {0};                                                                         \
                for (int64_t l = 0; l < L8; l += 8) for (int j = 0; j < 8; j++) a0[j] += gr[l + j] * c0[l + j]; \
                T s0 = 0;                                                                              \
                for (int64_t l = L8; l < L; l++) s0 += gr[l] * c0[l];                                  \
                for (int j = 0; j < 8; j++) s0 += a0[j];                                               \
                gwr[k] += s0;                                                                          \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
}

DEFINE_CONV_SMALLK_WGRAD(nabla_f32_conv_smallk_wgrad, nabla_f32_im2col, float)
DEFINE_CONV_SMALLK_WGRAD(nabla_f64_conv_smallk_wgrad, nabla_f64_im2col, double)

/* 2x2 max pool with stride 2 and no padding over planes p0..<p1 of x [P, H, W] (out [P, OH, OW], OH = H/2, OW = W/2):
   the same result and indices as nabla_f32_maxpool2d_k with k = 2 (first NaN wins, else the first maximum in row-major
   window order), branch-free. A row of outputs runs in vectors of 8 (or 4 when OW < 8) outputs: 16 (8) consecutive
   inputs of each input row load as one vector and split into even and odd columns. A row whose width is not a
   multiple of the vector ends with one vector that overlaps the previous one (it writes the same values again). */
typedef float mp_v4f __attribute__((ext_vector_type(4)));
typedef float mp_v8f __attribute__((ext_vector_type(8)));
typedef float mp_v16f __attribute__((ext_vector_type(16)));
typedef int32_t mp_v4i __attribute__((ext_vector_type(4)));
typedef int32_t mp_v8i __attribute__((ext_vector_type(8)));
typedef int64_t mp_v4l __attribute__((ext_vector_type(4)));
typedef int64_t mp_v8l __attribute__((ext_vector_type(8)));
typedef int32_t mp_v16i __attribute__((ext_vector_type(16)));

/* ReLU with nabla_f32_relu's rule (x <= 0 gives 0, NaN stays), of a vector and of one float. */
#define MP_RELU(VW, VWI, x) ((VW)((VWI)(x) & ~((x) <= (VW)0)))
#define MP_RELU1(x) ((x) <= 0.0f ? 0.0f : (x))

/* One window step: `best` (and its offset `bi`) takes `v` (offset `off`) when v is larger, or is the first NaN. */
#define MP_STEP(VF, VI, v, off)                                                                                     \
    do {                                                                                                            \
        VI t = (v > best) | ((v != v) & (best == best));                                                            \
        best = (VF)(((VI)v & t) | ((VI)best & ~t));                                                                 \
        bi = (off & t) | (bi & ~t);                                                                                 \
    } while (0)

/* Outputs j..j+N-1 of one output row from input rows r0, r1 (the row's first input at `base` in the plane). */
#define MP_VECTOR(N, VF, VI, VL, VW, VWI, EVEN, ODD)                                                                \
    do {                                                                                                            \
        VW a, b;                                                                                                    \
        memcpy(&a, r0 + 2 * j, sizeof a);                                                                           \
        memcpy(&b, r1 + 2 * j, sizeof b);                                                                           \
        if (relu) { a = MP_RELU(VW, VWI, a); b = MP_RELU(VW, VWI, b); }                                             \
        VF v0 = __builtin_shufflevector(a, a, EVEN), v1 = __builtin_shufflevector(a, a, ODD);                       \
        VF v2 = __builtin_shufflevector(b, b, EVEN), v3 = __builtin_shufflevector(b, b, ODD);                       \
        VF best = v0;                                                                                               \
        VI bi = (VI)0;                                                                                              \
        MP_STEP(VF, VI, v1, (VI)1);                                                                                 \
        MP_STEP(VF, VI, v2, (VI)(int32_t)W);                                                                        \
        MP_STEP(VF, VI, v3, (VI)(int32_t)(W + 1));                                                                  \
        VL at = __builtin_convertvector(bi, VL) + (VL)(base + 2 * j);                                               \
        for (int l = 0; l < N; l++) at[l] += 2 * l;                                                                 \
        memcpy(o + j, &best, sizeof best);                                                                          \
        memcpy(ix + j, &at, sizeof at);                                                                             \
    } while (0)

#define MP_EVEN8 0, 2, 4, 6, 8, 10, 12, 14
#define MP_ODD8 1, 3, 5, 7, 9, 11, 13, 15
#define MP_EVEN4 0, 2, 4, 6
#define MP_ODD4 1, 3, 5, 7

static inline __attribute__((always_inline)) void maxpool2x2_planes(const float *x, float *out, int64_t *idx, int64_t p0,
                                                                    int64_t p1, int64_t H, int64_t W, int64_t OH,
                                                                    int64_t OW, const int relu) {
    for (int64_t p = p0; p < p1; p++) {
        const float *plane = x + p * H * W;
        for (int64_t i = 0; i < OH; i++) {
            const float *r0 = plane + 2 * i * W, *r1 = r0 + W;
            float *o = out + (p * OH + i) * OW;
            int64_t *ix = idx + (p * OH + i) * OW;
            const int64_t base = 2 * i * W;
            if (OW >= 8) {
                for (int64_t j = 0;; j += 8) {
                    if (j + 8 > OW) j = OW - 8;
                    MP_VECTOR(8, mp_v8f, mp_v8i, mp_v8l, mp_v16f, mp_v16i, MP_EVEN8, MP_ODD8);
                    if (j + 8 >= OW) break;
                }
            } else if (OW >= 4) {
                for (int64_t j = 0;; j += 4) {
                    if (j + 4 > OW) j = OW - 4;
                    MP_VECTOR(4, mp_v4f, mp_v4i, mp_v4l, mp_v8f, mp_v8i, MP_EVEN4, MP_ODD4);
                    if (j + 4 >= OW) break;
                }
            } else {
                for (int64_t j = 0; j < OW; j++) {
                    float v0 = r0[2 * j], v1 = r0[2 * j + 1], v2 = r1[2 * j], v3 = r1[2 * j + 1];
                    if (relu) { v0 = MP_RELU1(v0); v1 = MP_RELU1(v1); v2 = MP_RELU1(v2); v3 = MP_RELU1(v3); }
                    float best = v0; int64_t bi = 0;
                    int t = (v1 > best) | ((v1 != v1) & (best == best));
                    best = t ? v1 : best; bi = t ? 1 : bi;
                    t = (v2 > best) | ((v2 != v2) & (best == best));
                    best = t ? v2 : best; bi = t ? W : bi;
                    t = (v3 > best) | ((v3 != v3) & (best == best));
                    best = t ? v3 : best; bi = t ? W + 1 : bi;
                    o[j] = best; ix[j] = base + 2 * j + bi;
                }
            }
        }
    }
}

NABLA_DISPATCH void nabla_f32_maxpool2x2(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1,
                                         int64_t H, int64_t W, int64_t OH, int64_t OW) {
    maxpool2x2_planes(x, out, idx, p0, p1, H, W, OH, OW, 0);
}

NABLA_DISPATCH void nabla_f32_relu_maxpool2x2(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1,
                                              int64_t H, int64_t W, int64_t OH, int64_t OW) {
    maxpool2x2_planes(x, out, idx, p0, p1, H, W, OH, OW, 1);
}

/* The gradient through a ReLU and nabla_f32_maxpool2x2's windows, planes p0..<p1: gx [P, H, W] gets 0 + g (0 where
   pooled is not > 0, NaN included) at the position idx names in each window and 0 at its three others and at rows
   and columns no window covers, each element written once: no zeroing pass and no scatter. */
/* Outputs j..j+N-1 of one row of nabla_f32_maxpool2x2_relu_backward: the masked gradients v, each put at its
   window's picked position (at = 0, 1, W or W + 1 from the window's first element) and 0 at the three others, as two
   rows of 2N floats. */
#define MPB_VECTOR(N, VF, VI, VL, VW, LANE, INTERLEAVE)                                                              \
    do {                                                                                                            \
        VF gv, pv;                                                                                                  \
        VL iv;                                                                                                      \
        memcpy(&gv, gp + k0 + j, sizeof gv);                                                                        \
        memcpy(&pv, pp + k0 + j, sizeof pv);                                                                        \
        memcpy(&iv, ip + k0 + j, sizeof iv);                                                                        \
        const VF v = (VF)((VI)gv & (pv > (VF)0)) + (VF)0;                                                           \
        const VI at = __builtin_convertvector(iv - (VL)(base + 2 * j) - (VL){LANE}, VI);                            \
        const VF e0 = (VF)((VI)v & (at == (VI)0)), e1 = (VF)((VI)v & (at == (VI)1));                                \
        const VF e2 = (VF)((VI)v & (at == (VI)(int32_t)W)), e3 = (VF)((VI)v & (at == (VI)(int32_t)(W + 1)));        \
        const VW top = __builtin_shufflevector(e0, e1, INTERLEAVE);                                                 \
        const VW bottom = __builtin_shufflevector(e2, e3, INTERLEAVE);                                              \
        memcpy(r0 + 2 * j, &top, sizeof top);                                                                      \
        memcpy(r1 + 2 * j, &bottom, sizeof bottom);                                                                 \
    } while (0)

#define MPB_LANE8 0, 2, 4, 6, 8, 10, 12, 14
#define MPB_LANE4 0, 2, 4, 6
#define MPB_INTERLEAVE8 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15
#define MPB_INTERLEAVE4 0, 4, 1, 5, 2, 6, 3, 7

NABLA_DISPATCH void nabla_f32_maxpool2x2_relu_backward(const float *g, const float *pooled, const int64_t *idx, float *gx,
                                                       int64_t p0, int64_t p1, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    for (int64_t p = p0; p < p1; p++) {
        float *plane = gx + p * H * W;
        const float *gp = g + p * OH * OW, *pp = pooled + p * OH * OW;
        const int64_t *ip = idx + p * OH * OW;
        for (int64_t i = 0; i < OH; i++) {
            float *r0 = plane + 2 * i * W, *r1 = r0 + W;
            const int64_t base = 2 * i * W, k0 = i * OW;
            /* Vectors of 8 (or 4) outputs; a row whose width is not a multiple ends with a vector overlapping the one
               before it, which writes the same windows again. */
            if (OW >= 8) {
                for (int64_t j = 0;; j += 8) {
                    if (j + 8 > OW) j = OW - 8;
                    MPB_VECTOR(8, mp_v8f, mp_v8i, mp_v8l, mp_v16f, MPB_LANE8, MPB_INTERLEAVE8);
                    if (j + 8 >= OW) break;
                }
            } else if (OW >= 4) {
                for (int64_t j = 0;; j += 4) {
                    if (j + 4 > OW) j = OW - 4;
                    MPB_VECTOR(4, mp_v4f, mp_v4i, mp_v4l, mp_v8f, MPB_LANE4, MPB_INTERLEAVE4);
                    if (j + 4 >= OW) break;
                }
            } else {
                for (int64_t j = 0; j < OW; j++) {
                    const int64_t k = k0 + j, at = ip[k] - base - 2 * j;
                    const float v = 0.0f + (pp[k] > 0.0f ? gp[k] : 0.0f);
                    r0[2 * j] = at == 0 ? v : 0.0f;
                    r0[2 * j + 1] = at == 1 ? v : 0.0f;
                    r1[2 * j] = at == W ? v : 0.0f;
                    r1[2 * j + 1] = at == W + 1 ? v : 0.0f;
                }
            }
            if (W > 2 * OW) {
                memset(r0 + 2 * OW, 0, (size_t)(W - 2 * OW) * sizeof(float));
                memset(r1 + 2 * OW, 0, (size_t)(W - 2 * OW) * sizeof(float));
            }
        }
        if (H > 2 * OH) memset(plane + 2 * OH * W, 0, (size_t)((H - 2 * OH) * W) * sizeof(float));
    }
}
