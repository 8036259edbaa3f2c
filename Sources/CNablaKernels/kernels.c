#include "nabla_kernels.h"
#include "dispatch.h"
#include <math.h>

int nabla_cpu_capability(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 0;
#else
    return 0;
#endif
}

#define NABLA_DISPATCH NABLA_CLONES("avx2,fma")

/* Element-wise loops whose output may be one of their inputs (an in-place op, a compiled graph writing over a dead
   input). Clang's vectoriser guards each loop with a run-time overlap check that also fails when the output *is* an
   input, so in place they ran one element at a time (about 4x slower). Each output element reads only its own
   index, so exact aliasing is safe in vectors: when every input is the output or apart from it, the loop runs with
   the check off; a partial overlap (a shifted view) keeps the sequential loop. */
#if defined(__clang__)
#define NB_ASSUME_SAFE _Pragma("clang loop vectorize(assume_safety)")
#else
#define NB_ASSUME_SAFE _Pragma("GCC ivdep")
#endif

/* Whether `n` bytes at `p` are the same bytes as at `out` or none of them. */
static inline __attribute__((always_inline)) int nb_same_or_apart(const void *p, const void *out, size_t n) {
    const char *x = (const char *)p, *o = (const char *)out;
    return x == o || x + n <= o || o + n <= x;
}

/* `out[i] = BODY` for i < n, in vectors when the inputs `a` and `b` (b may equal a) alias `out` exactly or not at all. */
#define NB_ELEMENTWISE(T, a, b, out, n, BODY)                                                                   \
    do {                                                                                                        \
        const size_t bytes_ = (size_t)(n) * sizeof(T);                                                          \
        if (nb_same_or_apart(a, out, bytes_) && nb_same_or_apart(b, out, bytes_)) {                             \
            NB_ASSUME_SAFE                                                                                      \
            for (int64_t i = 0; i < (n); i++) out[i] = (BODY);                                                  \
        } else {                                                                                                \
            for (int64_t i = 0; i < (n); i++) out[i] = (BODY);                                                  \
        }                                                                                                       \
    } while (0)

#define BINARY(name, T, expr) \
NABLA_DISPATCH void name(const T *a, const T *b, T *out, int64_t n) { \
    NB_ELEMENTWISE(T, a, b, out, n, ({ T x = a[i], y = b[i]; (expr); })); }

BINARY(nabla_f32_add, float, x + y)
BINARY(nabla_f32_sub, float, x - y)
BINARY(nabla_f32_mul, float, x * y)
BINARY(nabla_f32_div, float, x / y)
BINARY(nabla_f64_add, double, x + y)
BINARY(nabla_f64_mul, double, x * y)

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

