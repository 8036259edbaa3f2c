/* The float error function and exact GELU, written so their loops vectorise (no libm call per element).

   erf(z) for |z| < 1 is z·P(z²); from 1 on, erfc(|z|) = exp(−z²)·Q(t) with t = 1/(1 + |z|/2). P (degree 5) and Q
   (t times a degree-7 polynomial) are least-squares fits of the relative error, made for Nabla in double precision
   against mpmath (relative errors 4e-8 and 1.5e-8 on their ranges), so float rounding dominates the result (a few ulps).
   GELU's Φ(x) = (1 + erf(x/√2))/2 takes erfc's form below −√2, so its left tail keeps its relative precision
   instead of cancelling (1 + erf). NaN stays NaN, ±∞ give erf ±1 and GELU +∞ / NaN (−∞·0, as x·Φ(x) gives in double). */
#include "nabla_kernels.h"
#include "dispatch.h"
#include "elementwise.h"
#include "fast_expf.h"
#include <math.h>

#define NABLA_DISPATCH NABLA_CLONES("arch=x86-64-v3")

/* erf(z)/z for |z| < 1, as a polynomial in z². */
static inline __attribute__((always_inline)) float erf_small_ratio(float z2) {
    float p = -5.6679951862e-04f;
    p = p * z2 + 4.9274198530e-03f;
    p = p * z2 - 2.6720893598e-02f;
    p = p * z2 + 1.1280578876e-01f;
    p = p * z2 - 3.7612390676e-01f;
    return p * z2 + 1.1283791471e+00f;
}

/* erfc(a) for a ≥ 1 (any a is computed; the caller selects), given a² as the rounded square `sq` plus its rounding
   error `lost` (so exp(−a²) does not inherit the square's rounding, 1e-7 · a², a relative error of up to 1e-5). */
static inline __attribute__((always_inline)) float erfc_large(float a, float sq, float lost) {
    float t = 1.0f / (1.0f + 0.5f * a);
    float q = 9.4710609189e-02f;
    q = q * t - 2.2963123181e-01f;
    q = q * t + 8.6294909733e-02f;
    q = q * t + 5.8683675068e-02f;
    q = q * t + 1.7958092096e-01f;
    q = q * t + 2.4680736907e-01f;
    q = q * t + 2.8205547229e-01f;
    q = q * t + 2.8209776893e-01f;
    float e = nabla_fast_expf(-sq) * (1.0f - lost);
    return e * (q * t);
}

/* The rounding error of v·v, exactly (0 where exp(−v²/2) is 0 anyway, so ±∞ gives no NaN). */
static inline __attribute__((always_inline)) float square_error(float v, float square) {
    return fabsf(v) < 14.0f ? fmaf(v, v, -square) : 0.0f;
}

NABLA_DISPATCH void nabla_erf_f32(const float *x, float *y, int64_t n) {
    NB_ELEMENTWISE(float, x, x, y, n, ({
        float z = x[i], a = fabsf(z);
        float small = z * erf_small_ratio(z * z);
        float sq = z * z;
        float large = 1.0f - erfc_large(a, sq, square_error(z, sq));
        large = z < 0 ? -large : large;
        a < 1.0f ? small : large;
    }));
}

NABLA_DISPATCH void nabla_gelu_f32(const float *x, float *y, int64_t n) {
    NB_ELEMENTWISE(float, x, x, y, n, ({
        float v = x[i], z = v * 0.70710678118654752440f, a = fabsf(z);
        float mid = 0.5f + 0.5f * z * erf_small_ratio(z * z);
        float sq = v * v;   /* z² = v²/2: halving is exact, so the square's error is v·v's alone */
        float half = 0.5f * erfc_large(a, 0.5f * sq, 0.5f * square_error(v, sq));
        float tail = z < 0 ? half : 1.0f - half;
        v * (a < 1.0f ? mid : tail);
    }));
}
