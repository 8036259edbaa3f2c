#ifndef NABLA_NORM_H
#define NABLA_NORM_H
#include <stdint.h>

/* LayerNorm over contiguous rows of n values (float32 and float64). w and b may be NULL (no affine weight / bias). */

/* out[i, :] = (x[i, :] - mean_i) * rstd_i * w + b for rows [0, rows); writes mean[i] and rstd[i]. */
void nabla_f32_layernorm_fwd(const float *x, const float *w, const float *b, float *out, float *mean, float *rstd,
                             int64_t rows, int64_t n, double eps);
void nabla_f64_layernorm_fwd(const double *x, const double *w, const double *b, double *out, double *mean, double *rstd,
                             int64_t rows, int64_t n, double eps);

/* dx[i, :] = rstd_i * (g w - mean(g w) - xhat * mean(g w xhat)); adds sum_i g * xhat into dw_acc and sum_i g into
   db_acc (double accumulators of n values each, never NULL). */
void nabla_f32_layernorm_bwd(const float *x, const float *g, const float *w, const float *mean, const float *rstd,
                             float *dx, double *dw_acc, double *db_acc, int64_t rows, int64_t n);
void nabla_f64_layernorm_bwd(const double *x, const double *g, const double *w, const double *mean, const double *rstd,
                             double *dx, double *dw_acc, double *db_acc, int64_t rows, int64_t n);

#endif
