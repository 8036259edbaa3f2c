#ifndef NABLA_KERNELS_H
#define NABLA_KERNELS_H
#include <stdint.h>
#include <stddef.h>
/* Included here as well as by the umbrella directory, so that an existing build's cached clang module of
   CNablaKernels is rebuilt with it (a new header alone in the directory does not invalidate the cache). */
#include "nabla_thread_state.h"
#include "nabla_process_memory.h"

/* The instruction set the kernels run on: 3 = AVX-512 (F, VL, DQ, BW: the GEMM tiles and the x86-64-v4 clones), 2 =
   AVX2 + FMA, 0 = baseline; 3 only in a build with the AVX-512 paths (without NABLA_NO_AVX512, dispatch.h). */
int nabla_cpu_capability(void);

/* Contiguous float32 kernels (AVX2+FMA with a baseline clone chosen once at load time). */
void nabla_f32_add(const float *a, const float *b, float *out, int64_t n);
void nabla_f32_sub(const float *a, const float *b, float *out, int64_t n);
void nabla_f32_mul(const float *a, const float *b, float *out, int64_t n);
void nabla_f32_div(const float *a, const float *b, float *out, int64_t n);
/* One strided run of a broadcasting binary op: out[k·so] = a[k·sa] op b[k·sb] for k < n, op one of these codes.
   Unit strides and a broadcast element (stride 0) of either operand run in vectors; out may be a or b. */
enum { NABLA_BINARY_ADD = 0, NABLA_BINARY_SUB = 1, NABLA_BINARY_MUL = 2, NABLA_BINARY_DIV = 3 };
void nabla_f32_binary_run(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *out, int64_t so,
                          int64_t n);
void nabla_f64_binary_run(int op, const double *a, int64_t sa, const double *b, int64_t sb, double *out, int64_t so,
                          int64_t n);
void nabla_f32_add_scalar(const float *a, float s, float *out, int64_t n);
void nabla_f32_mul_scalar(const float *a, float s, float *out, int64_t n);
/* out[i] = a[i] * alpha + b[i] * beta */
void nabla_f32_axpby(const float *a, float alpha, const float *b, float beta, float *out, int64_t n);
void nabla_f32_relu(const float *a, float *out, int64_t n);
/* IEEE-exact unary ops over n contiguous floats (the values Swift's `-x`, `abs`, `x * x`, `squareRoot()` and `1 / x`
   give, in vectors; out may be a). */
void nabla_f32_neg(const float *a, float *out, int64_t n);
void nabla_f32_abs(const float *a, float *out, int64_t n);
void nabla_f32_square(const float *a, float *out, int64_t n);
void nabla_f32_sqrt(const float *a, float *out, int64_t n);
void nabla_f32_reciprocal(const float *a, float *out, int64_t n);
/* exp, log, tanh, sigmoid and SiLU over n contiguous floats (transcendental.c): vectorised, over the full range
   (overflow to inf, subnormals, NaN), within a few ulps of the correctly rounded values; out may be a. */
void nabla_f32_exp(const float *a, float *out, int64_t n);
void nabla_f32_log(const float *a, float *out, int64_t n);
void nabla_f32_tanh(const float *a, float *out, int64_t n);
void nabla_f32_sigmoid(const float *a, float *out, int64_t n);
void nabla_f32_silu(const float *a, float *out, int64_t n);
/* out[i] = g[i] * (x[i] > 0) */
void nabla_f32_relu_backward(const float *g, const float *x, float *out, int64_t n);
double nabla_f32_sum(const float *a, int64_t n);
/* acc[c] += sum over r of x[r * cols + c] (x contiguous [rows, cols]); the column sums of a matrix, in double. */
void nabla_f32_colsum_acc(const float *x, int64_t rows, int64_t cols, double *acc);
void nabla_f64_colsum_acc(const double *x, int64_t rows, int64_t cols, double *acc);
float nabla_f32_max(const float *a, int64_t n);

/* Contiguous float64 kernels. */
void nabla_f64_add(const double *a, const double *b, double *out, int64_t n);
void nabla_f64_mul(const double *a, const double *b, double *out, int64_t n);
double nabla_f64_sum(const double *a, int64_t n);

/* erf and exact GELU on float32 without a libm call per element (erf.c): relative error a few float ulps. */
void nabla_erf_f32(const float *x, float *y, int64_t n);
void nabla_gelu_f32(const float *x, float *y, int64_t n);

#endif
