#include "nabla_kernels.h"
#include "dispatch.h"
#include "elementwise.h"
#include "gemm_tile.h"
#include <math.h>

int nabla_cpu_capability(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    /* The GEMM tiles' own AVX-512 test (0 in a build without AVX-512 paths); the x86-64-v4 clones ask for its
       features and more, which every AVX-512 CPU with these has. */
    return NB_HAS_AVX512() ? 3 : 2;
#else
    return 0;
#endif
}

#define NABLA_DISPATCH NABLA_CLONES("avx2,fma")

#define BINARY(name, T, expr) \
NABLA_DISPATCH void name(const T *a, const T *b, T *out, int64_t n) { \
    NB_ELEMENTWISE(T, a, b, out, n, ({ T x = a[i], y = b[i]; (expr); })); }

BINARY(nabla_f32_add, float, x + y)
BINARY(nabla_f32_sub, float, x - y)
BINARY(nabla_f32_mul, float, x * y)
BINARY(nabla_f32_div, float, x / y)
BINARY(nabla_f64_add, double, x + y)
BINARY(nabla_f64_mul, double, x * y)

/* One strided run of a broadcasting binary op: out[k·so] = a[k·sa] ∘ b[k·sb]. The unit-stride run and the runs
   against one broadcast element (a row times a column's entry, a tensor plus a scalar) run in vectors; a broadcast
   element is read once, before the run; other strides run one element at a time. */
#define BINARY_RUN(name, T)                                                                                     \
NABLA_DISPATCH void name(int op, const T *a, int64_t sa, const T *b, int64_t sb, T *out, int64_t so, int64_t n) { \
    switch (op) {                                                                                               \
    case NABLA_BINARY_ADD: BINARY_RUN_OP(T, +) break;                                                           \
    case NABLA_BINARY_SUB: BINARY_RUN_OP(T, -) break;                                                           \
    case NABLA_BINARY_MUL: BINARY_RUN_OP(T, *) break;                                                           \
    default: BINARY_RUN_OP(T, /) break;                                                                         \
    }                                                                                                           \
}
#define BINARY_RUN_OP(T, OP)                                                                                    \
    if (so == 1 && sa == 1 && sb == 1) NB_ELEMENTWISE(T, a, b, out, n, a[i] OP b[i]);                           \
    else if (so == 1 && sa == 1 && sb == 0) { const T y = b[0]; NB_ELEMENTWISE(T, a, a, out, n, a[i] OP y); }   \
    else if (so == 1 && sa == 0 && sb == 1) { const T x = a[0]; NB_ELEMENTWISE(T, b, b, out, n, x OP b[i]); }   \
    else for (int64_t k = 0; k < n; k++) out[k * so] = a[k * sa] OP b[k * sb];

BINARY_RUN(nabla_f32_binary_run, float)
BINARY_RUN(nabla_f64_binary_run, double)

NABLA_DISPATCH void nabla_f32_add_scalar(const float *a, float s, float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, a, out, n, a[i] + s);
}
NABLA_DISPATCH void nabla_f32_mul_scalar(const float *a, float s, float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, a, out, n, a[i] * s);
}
NABLA_DISPATCH void nabla_f32_axpby(const float *a, float alpha, const float *b, float beta,
                                    float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, b, out, n, a[i] * alpha + b[i] * beta);
}
NABLA_DISPATCH void nabla_f32_relu(const float *a, float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, a, out, n, a[i] <= 0.0f ? 0.0f : a[i]);  /* NaN propagates */
}
NABLA_DISPATCH void nabla_f32_neg(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, -a[i]); }
NABLA_DISPATCH void nabla_f32_abs(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, fabsf(a[i])); }
NABLA_DISPATCH void nabla_f32_square(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, a[i] * a[i]); }
NABLA_DISPATCH void nabla_f32_sqrt(const float *a, float *out, int64_t n) { NB_ELEMENTWISE(float, a, a, out, n, __builtin_elementwise_sqrt(a[i])); }
NABLA_DISPATCH void nabla_f32_reciprocal(const float *a, float *out, int64_t n) {
    NB_ELEMENTWISE(float, a, a, out, n, 1.0f / a[i]);
}
NABLA_DISPATCH void nabla_f32_relu_backward(const float *g, const float *x, float *out, int64_t n) {
    NB_ELEMENTWISE(float, g, x, out, n, x[i] > 0.0f ? g[i] : 0.0f);
}

/* Pairwise-blocked sums: 8 independent float64 accumulators keep the result independent of threading. */
NABLA_DISPATCH double nabla_f32_sum(const float *a, int64_t n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)a[i + k];
    double s = 0;
    for (; i < n; i++) s += (double)a[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}
NABLA_DISPATCH double nabla_f64_sum(const double *a, int64_t n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k];
    double s = 0;
    for (; i < n; i++) s += a[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}
NABLA_DISPATCH void nabla_f32_colsum_acc(const float *x, int64_t rows, int64_t cols, double *acc) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        for (int64_t c = 0; c < cols; c++) acc[c] += (double)row[c];
    }
}
NABLA_DISPATCH void nabla_f64_colsum_acc(const double *x, int64_t rows, int64_t cols, double *acc) {
    for (int64_t r = 0; r < rows; r++) {
        const double *row = x + r * cols;
        for (int64_t c = 0; c < cols; c++) acc[c] += row[c];
    }
}
NABLA_DISPATCH float nabla_f32_max(const float *a, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) { float x = a[i]; if (x > m || x != x) m = x; }
    return m;
}

