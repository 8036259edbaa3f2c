/* A branch-free float exp shared by the softmax (attention.c) and LSTM (rnn.c) kernels, so their loops vectorise:
   x = n·ln2 + r (rounding by the 1.5·2²³ trick), a degree-6 Cephes polynomial for exp(r) (about 2 ulp), and 2ⁿ
   built in the exponent bits. Below -87 it returns exactly 0 (so a -inf mask gives 0); NaN stays NaN. */
#ifndef NABLA_FAST_EXPF_H
#define NABLA_FAST_EXPF_H
#include <stdint.h>

/* The shared core of Nabla's float exps: for |xc| up to about 104, exp(xc) = 2ⁿ · (the value returned), n stored in
   *n: n by the 1.5·2²³ rounding trick, r = xc − n·ln2 with ln2 in two parts, exp(r) by the degree-6 polynomial.
   Each caller clamps xc and applies 2ⁿ its own way (here in one factor; transcendental.c's full-range exp in two). */
static inline __attribute__((always_inline)) float nabla_expf_reduced(float xc, int32_t *n) {
    const float magic = 12582912.0f;
    float tm = xc * 1.44269504088896341f + magic;
    union { float f; uint32_t i; } u = { tm };
    *n = (int32_t)(u.i - 0x4B400000u);
    float nf = tm - magic;
    float r = xc - nf * 0.693359375f + nf * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    return p * r * r + r + 1.0f;
}

static inline __attribute__((always_inline)) float nabla_fast_expf(float x) {
    float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    int32_t n;
    float y = nabla_expf_reduced(xc, &n);
    union { int32_t i; float f; } s = { (n + 127) << 23 };
    y = y * s.f;
    y = x < -87.0f ? 0.0f : y;
    return x != x ? x : y;
}

#endif
