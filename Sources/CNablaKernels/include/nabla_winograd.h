#ifndef NABLA_WINOGRAD_H
#define NABLA_WINOGRAD_H
#include <stdint.h>

/* Winograd F(2x2, 3x3) convolution for float32 (winograd.c): 3x3 kernels, stride 1, no dilation, groups 1.
   Each 2x2 output tile is computed from a 4x4 input patch with 16 multiplications per channel pair instead of 36,
   as 16 small GEMMs (one per transformed position) between the transformed patches and the transformed filter.
   The same geometry serves the input gradient (a forward conv of the output gradient with the rotated, transposed
   filter and padding 2 - p) and the weight gradient (accumulated in the transformed domain, then transformed back).

   The kernels work on rows of output tiles, numbered over (image, tile row), and take a range r0..<r1 of them, so a
   caller splits the tile rows across its threads, each with its own scratch. */
typedef struct {
    int64_t n, c, h, w;      /* input batch, channels, height, width */
    int64_t ph, pw;          /* zero padding (top/left), each at most 2 */
    int64_t oc, oh, ow;      /* output channels, height, width (oh = h + 2·ph - 2, ow likewise) */
} nabla_wino_geom;

/* Number of rows of 2x2 output tiles: n · ceil(oh / 2). */
int64_t nabla_wino_tile_rows(const nabla_wino_geom *g);
/* Floats of scratch one thread needs for nabla_f32_wino_conv and nabla_f32_wino_wgrad. */
int64_t nabla_f32_wino_scratch(const nabla_wino_geom *g);
/* Transforms w [OC, IC, 3, 3] into u [16, OC, IC] (one OC x IC matrix per transformed position). With `flip`,
   transforms instead the filter of the adjoint convolution: OC input channels, IC output channels, each kernel
   rotated by 180 degrees, into u [16, IC, OC]. */
void nabla_f32_wino_filter(const float *w, int64_t oc, int64_t ic, int flip, float *u);

/* Epilogue flags of nabla_f32_wino_conv: ReLU after the bias; a 2x2, stride-2 max pool (floor mode) of the result. */
#define NABLA_WINO_RELU 1
#define NABLA_WINO_POOL 2

/* y [N, OC, OH, OW] = conv(x [N, C, H, W], the filter transformed into u [16, OC, C]) + bias [OC] (may be NULL),
   for tile rows r0..<r1 and output channels k0..<k1 (so a caller may split either across its threads). `epilogue`
   (NABLA_WINO_RELU | NABLA_WINO_POOL, or 0) is applied before the store; with NABLA_WINO_POOL, y is
   [N, OC, OH/2, OW/2], the max over each 2x2 window (NaN propagates), as a separate max pool would give. All tensors
   contiguous. */
void nabla_f32_wino_conv(const float *x, const nabla_wino_geom *g, const float *u, const float *bias, float *y,
                         int64_t r0, int64_t r1, int64_t k0, int64_t k1, int epilogue, float *scratch);

/* The weight gradient of tile rows r0..<r1 in the transformed domain, added into acc [16, C, OC]: x [N, C, H, W]
   and the output gradient gy [N, OC, OH, OW]. The sum of gy over those rows is added into gb [OC] unless NULL. */
void nabla_f32_wino_wgrad(const float *x, const float *gy, const nabla_wino_geom *g, int64_t r0, int64_t r1,
                          float *acc, float *gb, float *scratch);
/* gw [OC, C, 3, 3] = the weight gradient from its transformed-domain sum acc [16, C, OC]. */
void nabla_f32_wino_wgrad_output(const float *acc, int64_t oc, int64_t ic, float *gw);

#endif
