/* The inference epilogue of a convolution (see nabla_conv_epilogue in include/nabla_conv.h): bias, ReLU and a 2x2,
   stride-2 max pool applied to a convolution's output while it is still in cache, instead of three passes of their
   own over memory (and int64 pooling indices that inference never reads). */
#include "nabla_conv.h"
#include "dispatch.h"
#include <string.h>

#define NABLA_DISPATCH NABLA_CLONES(NABLA_V4_CLONE "arch=x86-64-v3")

#pragma clang diagnostic ignored "-Wpsabi"

typedef float ep_v8f __attribute__((ext_vector_type(8)));
typedef float ep_v16f __attribute__((ext_vector_type(16)));
typedef int32_t ep_v8i __attribute__((ext_vector_type(8)));

/* max(a, b), NaN when either is NaN (max pooling propagates NaN). */
static inline __attribute__((always_inline)) ep_v8f ep_max(ep_v8f a, ep_v8f b) {
    const ep_v8i t = (a > b) | (a != a);
    return (ep_v8f)(((ep_v8i)a & t) | ((ep_v8i)b & ~t));
}
static inline __attribute__((always_inline)) float ep_max1(float a, float b) { return a > b || a != a ? a : b; }

/* ReLU with nabla_f32_relu's rule (x <= 0 gives 0; NaN stays NaN). */
static inline __attribute__((always_inline)) ep_v8f ep_relu(ep_v8f v) { return (ep_v8f)((ep_v8i)v & ~(v <= (ep_v8f)0)); }
static inline __attribute__((always_inline)) float ep_relu1(float v) { return v <= 0.0f ? 0.0f : v; }

/* One plane: (relu)(max over 2x2 windows of src + b) into dst [H/2, W/2]. Rows run in vectors of 8 outputs from 16
   consecutive inputs of each of the two input rows (even and odd columns); a row whose pooled width is not a multiple
   of 8 ends with a vector that overlaps the one before it, and rows narrower than 8 run one output at a time. */
static inline __attribute__((always_inline)) void pool_plane(const float *src, float b, float *dst, int64_t H,
                                                             int64_t W, const int relu) {
    const int64_t PH = H / 2, PW = W / 2;
    const ep_v8f bv = (ep_v8f)b;
    for (int64_t i = 0; i < PH; i++) {
        const float *r0 = src + 2 * i * W, *r1 = r0 + W;
        float *o = dst + i * PW;
        if (PW >= 8) {
            for (int64_t j = 0;; j += 8) {
                if (j + 8 > PW) j = PW - 8;
                ep_v16f a, c;
                memcpy(&a, r0 + 2 * j, sizeof a);
                memcpy(&c, r1 + 2 * j, sizeof c);
                const ep_v8f a0 = __builtin_shufflevector(a, a, 0, 2, 4, 6, 8, 10, 12, 14);
                const ep_v8f a1 = __builtin_shufflevector(a, a, 1, 3, 5, 7, 9, 11, 13, 15);
                const ep_v8f c0 = __builtin_shufflevector(c, c, 0, 2, 4, 6, 8, 10, 12, 14);
                const ep_v8f c1 = __builtin_shufflevector(c, c, 1, 3, 5, 7, 9, 11, 13, 15);
                ep_v8f v = ep_max(ep_max(a0, a1), ep_max(c0, c1)) + bv;
                if (relu) v = ep_relu(v);
                memcpy(o + j, &v, sizeof v);
                if (j + 8 >= PW) break;
            }
        } else {
            for (int64_t j = 0; j < PW; j++) {
                float v = ep_max1(ep_max1(r0[2 * j], r0[2 * j + 1]), ep_max1(r1[2 * j], r1[2 * j + 1])) + b;
                o[j] = relu ? ep_relu1(v) : v;
            }
        }
    }
}

/* One plane without pooling: (relu)(src + b) into dst [H, W]. */
static inline __attribute__((always_inline)) void bias_plane(const float *src, float b, float *dst, int64_t hw,
                                                             const int relu) {
    for (int64_t i = 0; i < hw; i++) {
        const float v = src[i] + b;
        dst[i] = relu ? ep_relu1(v) : v;
    }
}

NABLA_DISPATCH void nabla_f32_conv_epilogue(const float *src, int64_t ns, int64_t cs, const float *bias, float *dst,
                                            int64_t C, int64_t H, int64_t W, int64_t p0, int64_t p1, int relu, int pool) {
    const int64_t out = pool ? (H / 2) * (W / 2) : H * W;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t n = p / C, c = p % C;
        const float *s = src + n * ns + c * cs;
        const float b = bias ? bias[c] : 0.0f;
        float *d = dst + p * out;
        if (pool) {
            if (relu) pool_plane(s, b, d, H, W, 1);
            else pool_plane(s, b, d, H, W, 0);
        } else {
            if (relu) bias_plane(s, b, d, H * W, 1);
            else bias_plane(s, b, d, H * W, 0);
        }
    }
}
