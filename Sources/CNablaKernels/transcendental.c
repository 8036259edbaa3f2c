/* float32 exp, log, sigmoid, tanh and SiLU over whole arrays, written so their loops vectorise (no libm call per
   element), over the full float range: these are the public ops, so unlike the clamped exp of the softmax and
   LSTM kernels (fast_expf.h) they overflow to +inf, underflow through the subnormals to 0, and keep NaN.

   exp: x = n·ln2 + r with |r| ≤ ln2/2 (n by the 1.5·2²³ rounding trick, r by a two-part ln2), exp(r) by Cephes'
   degree-6 polynomial, then 2ⁿ applied as two factors 2^⌊n/2⌋·2^⌈n/2⌉, each a normal float, so the product
   overflows and goes subnormal exactly where exp does. log: x = m·2ᵉ with m in [√½, √2) (subnormal inputs are
   scaled by 2²³ first), log(m) by Cephes' degree-8 polynomial in m − 1. tanh: Cephes' odd polynomial below 0.625,
   1 − 2/(exp(2|x|) + 1) above it (no cancellation near 0). Each is within a few ulps of the correctly rounded
   result (TranscendentalKernelTests); sigmoid and SiLU use PyTorch's vectorised forms 1/(1 + exp(−x)) and
   x/(1 + exp(−x)). */
#include "nabla_kernels.h"
#include "dispatch.h"
#include "elementwise.h"
#include "fast_expf.h"
#include <stdint.h>

#define NABLA_DISPATCH NABLA_CLONES(NABLA_V4_CLONE "arch=x86-64-v3")

static inline __attribute__((always_inline)) float nb_bits_to_float(uint32_t i) {
    union { uint32_t i; float f; } u = { i };
    return u.f;
}

static inline __attribute__((always_inline)) uint32_t nb_float_to_bits(float f) {
    union { float f; uint32_t i; } u = { f };
    return u.i;
}

/* exp(x) over the whole float range. */
static inline __attribute__((always_inline)) float nb_exp(float x) {
    /* Past these bounds exp is 0 or +inf anyway; NaN fails both tests and stays NaN. */
    float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
    int32_t n;
    float y = nabla_expf_reduced(xc, &n);
    /* n is in [-150, 129] for the clamped x (garbage for NaN, whose y is NaN): both halves give normal scales. */
    int32_t n1 = n >> 1, n2 = n - n1;
    n1 = n1 < -126 ? -126 : (n1 > 127 ? 127 : n1);
    n2 = n2 < -126 ? -126 : (n2 > 127 ? 127 : n2);
    return y * nb_bits_to_float((uint32_t)(n1 + 127) << 23) * nb_bits_to_float((uint32_t)(n2 + 127) << 23);
}

/* log(x): −inf at ±0, NaN below 0 and for NaN, +inf at +inf. */
static inline __attribute__((always_inline)) float nb_log(float x) {
    int sub = x < 1.17549435e-38f;                    /* subnormal (or ≤ 0, handled at the end) */
    float xs = sub ? x * 8388608.0f : x;
    uint32_t bits = nb_float_to_bits(xs);
    int32_t e = (int32_t)((bits >> 23) & 0xff) - 127 - (sub ? 23 : 0);
    float m = nb_bits_to_float((bits & 0x007fffffu) | 0x3f800000u);   /* [1, 2) */
    int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    e += big;
    float f = m - 1.0f, z = f * f, ef = (float)e;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z - 2.12194440e-4f * ef - 0.5f * z;
    float r = (f + y) + 0.693359375f * ef;
    r = x == 0.0f ? -__builtin_inff() : r;
    r = x < 0.0f ? __builtin_nanf("") : r;
    r = x == __builtin_inff() ? x : r;
    return x != x ? x : r;
}

/* tanh(x), computed on |x| and given x's sign (so ±0 keep theirs); ±inf give ±1. */
static inline __attribute__((always_inline)) float nb_tanh(float x) {
    float a = __builtin_fabsf(x);
    float z = a * a;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * a + a;
    float large = 1.0f - 2.0f / (nb_exp(2.0f * a) + 1.0f);
    return __builtin_copysignf(a < 0.625f ? small : large, x);   /* NaN takes `large`, which is NaN */
}

NABLA_DISPATCH void nabla_f32_exp(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, nb_exp(a[i])); }
NABLA_DISPATCH void nabla_f32_log(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, nb_log(a[i])); }
NABLA_DISPATCH void nabla_f32_tanh(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, nb_tanh(a[i])); }
NABLA_DISPATCH void nabla_f32_sigmoid(const float *a, float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, a, out, n, 1.0f / (1.0f + nb_exp(-a[i])));
}
NABLA_DISPATCH void nabla_f32_silu(const float *a, float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, a, out, n, a[i] / (1.0f + nb_exp(-a[i])));
}
