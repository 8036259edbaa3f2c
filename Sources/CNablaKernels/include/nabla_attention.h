#ifndef NABLA_ATTENTION_H
#define NABLA_ATTENTION_H
#include <stdint.h>

/* Row-wise softmax kernels for attention and softmax over a contiguous last dim (float32 and float64).
   A block is `rows` rows of `cols` values, row i at x + i * ld. */

/* In place: x[i, :] = softmax(x[i, :] + mask[i, :]). mask may be NULL (no mask); else row i of the mask starts at
   mask + i * mrs and its columns step by mcs (0 broadcasts one value along the row). */
void nabla_f32_softmax_rows(float *x, int64_t rows, int64_t cols, int64_t ld, const float *mask, int64_t mrs, int64_t mcs);
void nabla_f64_softmax_rows(double *x, int64_t rows, int64_t cols, int64_t ld, const double *mask, int64_t mrs, int64_t mcs);

/* out = softmax(x) row by row, for contiguous [rows, cols] x and out (out may alias x). */
void nabla_f32_softmax_fwd(const float *x, float *out, int64_t rows, int64_t cols);
void nabla_f64_softmax_fwd(const double *x, double *out, int64_t rows, int64_t cols);

/* Softmax backward row by row: out = y * (g - sum(g * y)), contiguous [rows, cols]; out may alias g. */
void nabla_f32_softmax_bwd(const float *g, const float *y, float *out, int64_t rows, int64_t cols);
void nabla_f64_softmax_bwd(const double *g, const double *y, double *out, int64_t rows, int64_t cols);

/* out = log_softmax(x) row by row, for contiguous [rows, cols] x and out (out may alias x). */
void nabla_f32_log_softmax_fwd(const float *x, float *out, int64_t rows, int64_t cols);
void nabla_f64_log_softmax_fwd(const double *x, double *out, int64_t rows, int64_t cols);

/* out = g - exp(y) * rowsum(g): the gradient of log_softmax from its output y (out may alias g). */
void nabla_f32_log_softmax_bwd(const float *g, const float *y, float *out, int64_t rows, int64_t cols);
void nabla_f64_log_softmax_bwd(const double *g, const double *y, double *out, int64_t rows, int64_t cols);

#endif
