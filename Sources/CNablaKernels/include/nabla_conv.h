#ifndef NABLA_CONV_H
#define NABLA_CONV_H
#include <stdint.h>

/* Geometry of a 2-D convolution window sweep (1-D convolutions use h = kh = oh = 1). */
typedef struct {
    int64_t n, c, h, w;      /* input batch, channels, height, width */
    int64_t kh, kw;          /* kernel */
    int64_t sh, sw;          /* stride */
    int64_t ph, pw;          /* zero padding (top/left) */
    int64_t dh, dw;          /* dilation */
    int64_t oh, ow;          /* output height, width */
} nabla_conv_geom;

/* im2col for samples n0..<n1: x [N, C, H, W] contiguous -> cols [C*KH*KW, N*OH*OW]
   (sample n's columns start at n*OH*OW in every row); out-of-range taps read 0. */
void nabla_f32_im2col(const float *x, float *cols, const nabla_conv_geom *g, int64_t n0, int64_t n1);
void nabla_f64_im2col(const double *x, double *cols, const nabla_conv_geom *g, int64_t n0, int64_t n1);
/* The adjoint: x[n0..<n1] = sum of the columns that read each pixel (x is overwritten). */
void nabla_f32_col2im(const float *cols, float *x, const nabla_conv_geom *g, int64_t n0, int64_t n1);
void nabla_f64_col2im(const double *cols, double *x, const nabla_conv_geom *g, int64_t n0, int64_t n1);

/* Max pooling over planes p0..<p1 of x [P, H, W]: output row i covers input rows h0[i] + k*dh for k < hn[i]
   (columns likewise); taps outside the plane are skipped. NaN propagates; ties keep the first index.
   idx receives the flat index (row * W + col) inside the plane. */
void nabla_f32_maxpool2d(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W,
                         int64_t OH, int64_t OW, const int64_t *h0, const int64_t *hn, int64_t dh,
                         const int64_t *w0, const int64_t *wn, int64_t dw);
void nabla_f64_maxpool2d(const double *x, double *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W,
                         int64_t OH, int64_t OW, const int64_t *h0, const int64_t *hn, int64_t dh,
                         const int64_t *w0, const int64_t *wn, int64_t dw);
/* Fast path: kernel k x k, stride k, no padding, no dilation. */
void nabla_f32_maxpool2d_k(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W,
                           int64_t OH, int64_t OW, int64_t k);
/* Max-pool backward for planes p0..<p1: gx [P, HW] = 0, then gx[p, idx[p, i]] += g[p, i] for i < L. */
void nabla_f32_maxpool_backward(const float *g, const int64_t *idx, float *gx, int64_t p0, int64_t p1, int64_t HW, int64_t L);
void nabla_f64_maxpool_backward(const double *g, const int64_t *idx, double *gx, int64_t p0, int64_t p1, int64_t HW, int64_t L);

/* dst [B, A, L] = src [A, B, L] (dims 0 and 1 swapped) plus bias[a] when bias is not NULL, for dst rows b0..<b1. */
void nabla_f32_swap01(const float *src, const float *bias, float *dst, int64_t A, int64_t B, int64_t L, int64_t b0, int64_t b1);
void nabla_f64_swap01(const double *src, const double *bias, double *dst, int64_t A, int64_t B, int64_t L, int64_t b0, int64_t b1);

/* Direct convolution for a small K = C*kh*kw (conv_small.c): y [N, OC, OH*OW] = bias + w [OC, K] @ cols_n for images
   n0..<n1, writing the NCHW output directly. bias may be NULL. cols is scratch of K*OH*OW elements (one per thread). */
void nabla_f32_conv_smallk(const float *x, const float *w, const float *bias, float *y, const nabla_conv_geom *g,
                           int64_t oc, int64_t n0, int64_t n1, float *cols);
void nabla_f64_conv_smallk(const double *x, const double *w, const double *bias, double *y, const nabla_conv_geom *g,
                           int64_t oc, int64_t n0, int64_t n1, double *cols);
/* Its weight and bias gradients for images n0..<n1, added into gw [OC, K] and gb [OC] (gy is [N, OC, OH*OW]). */
void nabla_f32_conv_smallk_wgrad(const float *x, const float *gy, float *gw, float *gb, const nabla_conv_geom *g,
                                 int64_t oc, int64_t n0, int64_t n1, float *cols);
void nabla_f64_conv_smallk_wgrad(const double *x, const double *gy, double *gw, double *gb, const nabla_conv_geom *g,
                                 int64_t oc, int64_t n0, int64_t n1, double *cols);
/* 2x2 max pool, stride 2, no padding (OH = H/2, OW = W/2): the results and indices of nabla_f32_maxpool2d_k with k = 2. */
void nabla_f32_maxpool2x2(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W,
                          int64_t OH, int64_t OW);
/* The same pool of relu(x) (nabla_f32_relu's rule), the values and indices of a ReLU, then the pool. */
void nabla_f32_relu_maxpool2x2(const float *x, float *out, int64_t *idx, int64_t p0, int64_t p1, int64_t H, int64_t W,
                               int64_t OH, int64_t OW);
/* The gradient through a ReLU and those windows from the pool's output: gx [P, H, W] = the max-pool backward of
   g · (pooled > 0) at the indices idx (all [P, OH, OW]), each element of gx written once. */
void nabla_f32_maxpool2x2_relu_backward(const float *g, const float *pooled, const int64_t *idx, float *gx,
                                        int64_t p0, int64_t p1, int64_t H, int64_t W, int64_t OH, int64_t OW);

/* The inference epilogue of a convolution (conv_epilogue.c), for planes p0..<p1 of dst (p = n·C + c): the output
   plane [H, W] of image n, channel c, read at src + n·ns + c·cs (contiguous rows), plus bias[c] (bias may be NULL),
   then ReLU when `relu` (x <= 0 gives 0, NaN stays), then, when `pool`, the max over each 2x2 window with stride 2
   (floor mode, NaN propagates), taken before the bias is added (the same value: rounding is monotone). dst is
   [N, C, H/2, W/2] with `pool`, [N, C, H, W] without, contiguous. */
void nabla_f32_conv_epilogue(const float *src, int64_t ns, int64_t cs, const float *bias, float *dst,
                             int64_t C, int64_t H, int64_t W, int64_t p0, int64_t p1, int relu, int pool);

#endif
