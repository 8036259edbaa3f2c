/* Winograd F(2x2, 3x3) convolution (see include/nabla_winograd.h), with Lavin & Gray's transforms:
     input   V = Bᵀ d B   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (d: 4x4 input patch)
     filter  U = G g Gᵀ   G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]               (g: 3x3 kernel)
     output  Y = Aᵀ M A   Aᵀ = [1 1 1 0; 0 1 -1 -1]                        (M = Σ over input channels of U ⊙ V)
   The weight gradient comes from the same bilinear form L = Σ (A dY Aᵀ) ⊙ U ⊙ V, so ∂L/∂g = Gᵀ [Σ (A dY Aᵀ) ⊙ V] G:
   the sum over tiles runs in the transformed domain and Gᵀ · G is applied once at the end.

   The transforms run on 8 neighbouring tiles of one tile row and one channel at a time (one vector per position):
   the 4x4 patches of 8 tiles along a row are the even and odd columns of 18 consecutive input columns, so they load
   as whole vectors and deinterleave, from a zero-padded copy of the block's input rows. Each tile row takes a whole
   number of 8-tile "slots" (the last slots of a row are padding: never stored, and zero in the weight gradient).
   A block of tile rows of one image is transformed, each of the 16 positions is one gemm_packed product over
   channels, and the block is transformed back; a block's operands stay in L2. */
#include "nabla_winograd.h"
#include "nabla_gemm_packed.h"
#include "dispatch.h"
#include <string.h>

/* Compiled for x86-64-v4 too: the same 8-wide vector code with AVX-512's 32 registers ran W4 about 5% faster on an
   AVX-512 Xeon (3 934 against 3 748 samples/s, mean of six alternating runs each), with identical results.
   The drivers may not turn the short row copies and clears of the transforms into memcpy / memset calls, which cost
   more than the copies at these sizes (fixed-size copies such as load8 stay inline loads and stores). */
#define NABLA_DISPATCH NABLA_CLONES(NABLA_V4_CLONE "arch=x86-64-v3") __attribute__((no_builtin("memcpy", "memset")))

/* The vector helpers below are always inlined, so the vector ABI of their arguments never matters. */
#pragma clang diagnostic ignored "-Wpsabi"

#define WL 8       /* tiles per vector */
#define WBLOCK 64  /* most slots per block */

typedef float wv8 __attribute__((ext_vector_type(WL)));
typedef int32_t wi8 __attribute__((ext_vector_type(WL)));

static int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

/* Slots of one tile row: its tiles rounded up to whole vectors. */
static int64_t row_slots(const nabla_wino_geom *g) { return round_up((g->ow + 1) / 2, WL); }
/* Most tile rows per block (a block never spans two images). */
static int64_t block_rows(const nabla_wino_geom *g) {
    const int64_t r = WBLOCK / row_slots(g), ty = (g->oh + 1) / 2;
    return r < 1 ? 1 : r > ty ? ty : r;
}
/* Width of a zero-padded input row: the 2·slots + 2 columns that the patches of a tile row read. */
static int64_t padded_width(const nabla_wino_geom *g) { return 2 * row_slots(g) + 2; }
/* Floats of the zero-padded copy of one block's input rows (2·rows + 2 per channel) or output-gradient rows
   (2·rows per channel, 2·slots wide). */
static int64_t padded_block(const nabla_wino_geom *g) {
    const int64_t rows = block_rows(g), in = g->c * (2 * rows + 2) * padded_width(g), out = g->oc * 2 * rows * 2 * row_slots(g);
    return in > out ? in : out;
}

int64_t nabla_wino_tile_rows(const nabla_wino_geom *g) { return g->n * ((g->oh + 1) / 2); }

int64_t nabla_f32_wino_scratch(const nabla_wino_geom *g) {
    const int64_t nbs = block_rows(g) * row_slots(g), C = g->c, OC = g->oc;
    const int64_t conv = 16 * nabla_f32_packed_size(C, nbs) + 16 * OC * nbs;
    const int64_t wgrad = 16 * (C + OC) * nbs + nabla_f32_packed_size(nbs, OC);
    return (conv > wgrad ? conv : wgrad) + padded_block(g);
}

void nabla_f32_wino_filter(const float *w, int64_t oc, int64_t ic, int flip, float *u) {
    const int64_t in = flip ? oc : ic, out = flip ? ic : oc;
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++) {
            const float *k = flip ? w + (i * ic + o) * 9 : w + (o * ic + i) * 9;
            float g[3][3], r[4][3];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) g[a][b] = flip ? k[(2 - a) * 3 + (2 - b)] : k[a * 3 + b];
            for (int j = 0; j < 3; j++) {
                r[0][j] = g[0][j];
                r[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
                r[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
                r[3][j] = g[2][j];
            }
            for (int a = 0; a < 4; a++) {
                const float t[4] = {r[a][0], 0.5f * (r[a][0] + r[a][1] + r[a][2]), 0.5f * (r[a][0] - r[a][1] + r[a][2]), r[a][2]};
                for (int b = 0; b < 4; b++) u[((a * 4 + b) * out + o) * in + i] = t[b];
            }
        }
}

static inline __attribute__((always_inline)) wv8 load8(const float *p) {
    wv8 r;
    memcpy(&r, p, sizeof r);
    return r;
}
static inline __attribute__((always_inline)) void store8(float *p, wv8 v) { memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) wv8 evens(wv8 lo, wv8 hi) {
    return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
}
static inline __attribute__((always_inline)) wv8 odds(wv8 lo, wv8 hi) {
    return __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
}

/* Copies (src) or zeroes (src NULL) n < 8 floats in pieces of 4, 2 and 1. */
static inline __attribute__((always_inline)) void small_copy(float *dst, const float *src, int64_t n) {
    static const float zeros[4] = {0, 0, 0, 0};
    if (n & 4) { memcpy(dst, src ? src : zeros, 4 * sizeof(float)); dst += 4; src = src ? src + 4 : NULL; }
    if (n & 2) { memcpy(dst, src ? src : zeros, 2 * sizeof(float)); dst += 2; src = src ? src + 2 : NULL; }
    if (n & 1) *dst = src ? *src : 0.0f;
}

/* Copies (src) or zeroes (src NULL) n floats: whole vectors, then small_copy. */
static inline __attribute__((always_inline)) void copy_floats(float *dst, const float *src, int64_t n) {
    int64_t j = 0;
    for (; j + WL <= n; j += WL) store8(dst + j, src ? load8(src + j) : (wv8)0);
    small_copy(dst + j, src ? src + j : NULL, n - j);
}

/* buf[j] = row[j - pad] where 0 <= j - pad < len, else 0, for j < n (row NULL: all zero); pad + len <= n. */
static inline __attribute__((always_inline)) void pad_row(float *buf, const float *row, int64_t pad, int64_t len, int64_t n) {
    if (!row) { copy_floats(buf, NULL, n); return; }
    copy_floats(buf, NULL, pad);
    copy_floats(buf + pad, row, len);
    copy_floats(buf + pad + len, NULL, n - pad - len);
}

/* buf [C, rows, bw] = rows y0..<y0+rows of every channel of one image xn [C, H, W], shifted right by `pad` columns,
   zero outside the image. Filled for a whole block before any of it is read, so the reads never wait on these
   stores. */
static inline __attribute__((always_inline)) void pad_block(const float *xn, int64_t C, int64_t H, int64_t W, int64_t y0,
                                                            int64_t rows, int64_t pad, int64_t bw, float *buf) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < rows; i++) {
            const int64_t yy = y0 + i;
            pad_row(buf + (c * rows + i) * bw, yy >= 0 && yy < H ? xn + (c * H + yy) * W : NULL, pad, W, bw);
        }
}

/* Transforms the input patches of tile rows ty0..<ty0+nr of image n (all C channels) into v: channel c, slot s of
   the block (row r of the block: slots r·spr..<(r+1)·spr) at v[p·pstride + c·nbs + s] when !packed (row-major
   [16][C][nbs]), or in gemm_packed's B layout over (C x nbs) when packed:
   v[p·pstride + (s / 16)·C·16 + c·16 + s % 16]. `buf` is scratch for the padded rows. */
static inline __attribute__((always_inline)) void input_block(const float *x, const nabla_wino_geom *g, int64_t n,
                                                              int64_t ty0, int64_t nr, float *buf, float *v,
                                                              int64_t pstride, int packed) {
    const int64_t C = g->c, spr = row_slots(g), bw = padded_width(g), rows = 2 * nr + 2, nbs = nr * spr;
    pad_block(x + n * C * g->h * g->w, C, g->h, g->w, 2 * ty0 - g->ph, rows, g->pw, bw, buf);
    for (int64_t c = 0; c < C; c++)
        for (int64_t r = 0; r < nr; r++)
            for (int64_t s0 = 0; s0 < spr; s0 += WL) {
                wv8 d[4][4], t[4][4];
                for (int i = 0; i < 4; i++) {
                    const float *src = buf + (c * rows + 2 * r + i) * bw + 2 * s0;
                    const wv8 lo = load8(src), hi = load8(src + 8), lo2 = load8(src + 2), hi2 = load8(src + 10);
                    d[i][0] = evens(lo, hi);
                    d[i][1] = odds(lo, hi);
                    d[i][2] = evens(lo2, hi2);
                    d[i][3] = odds(lo2, hi2);
                }
                for (int j = 0; j < 4; j++) {
                    t[0][j] = d[0][j] - d[2][j];
                    t[1][j] = d[1][j] + d[2][j];
                    t[2][j] = d[2][j] - d[1][j];
                    t[3][j] = d[1][j] - d[3][j];
                }
                const int64_t s = r * spr + s0;
                float *dst = v + (packed ? (s / NABLA_F32_PANEL) * C * NABLA_F32_PANEL + c * NABLA_F32_PANEL + s % NABLA_F32_PANEL
                                         : c * nbs + s);
                for (int i = 0; i < 4; i++) {
                    store8(dst + (i * 4 + 0) * pstride, t[i][0] - t[i][2]);
                    store8(dst + (i * 4 + 1) * pstride, t[i][1] + t[i][2]);
                    store8(dst + (i * 4 + 2) * pstride, t[i][2] - t[i][1]);
                    store8(dst + (i * 4 + 3) * pstride, t[i][1] - t[i][3]);
                }
            }
}

/* Stores the first `n` (at most 2·WL) floats of the interleaving of a and b (a0 b0 a1 b1 ...) at dst. */
static inline __attribute__((always_inline)) void store_pairs(float *dst, wv8 a, wv8 b, int64_t n) {
    const wv8 lo = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
    const wv8 hi = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
    if (n >= 2 * WL) { store8(dst, lo); store8(dst + WL, hi); return; }
    float tail[2 * WL];
    store8(tail, lo);
    store8(tail + WL, hi);
    copy_floats(dst, tail, n);
}

/* The larger of a and b per lane, NaN when either is NaN (max pooling propagates NaN). */
static inline __attribute__((always_inline)) wv8 max_nan(wv8 a, wv8 b) {
    const wi8 t = (a > b) | (a != a);
    return (wv8)(((wi8)a & t) | ((wi8)b & ~t));
}

/* ReLU per lane with NaN kept (nabla_f32_relu's rule: x <= 0 gives 0). */
static inline __attribute__((always_inline)) wv8 relu8(wv8 v) { return (wv8)((wi8)v & ~(v <= (wv8)0)); }

/* Aᵀ M A for tile row `tr` into y, plus bias, for output channels k0..<k1; m holds position p, channel k, slot s at
   m[p·pstride + (k - k0)·kstride + s]. Without `pool`, y is [N, OC, OH, OW], and rows and columns past OH, OW (the last tiles
   of odd sizes) are not written. With `pool` (a 2x2, stride-2 max pool after the convolution), y is
   [N, OC, OH/2, OW/2]: each full tile is one pooling window, so its four outputs reduce to their maximum before the
   bias is added (max(a + b) = max(a) + b, since rounding is monotone), and a last partial tile row or column (odd
   sizes) is dropped as the pool drops it. `relu` rectifies what is stored. Both are compile-time constants at every
   call, so each combination is its own loop. */
static inline __attribute__((always_inline)) void output_row(const float *m, const nabla_wino_geom *g, int64_t tr,
                                                             int64_t pstride, int64_t kstride, int64_t base,
                                                             const float *bias, float *y, int64_t k0, int64_t k1,
                                                             const int relu, const int pool) {
    const int64_t OC = g->oc, OH = g->oh, OW = g->ow, ty = (g->oh + 1) / 2, spr = row_slots(g);
    const int64_t n = tr / ty, oy = 2 * (tr % ty);
    if (pool && oy + 1 >= OH) return;    /* a partial last tile row: no pooling window */
    const int64_t PH = OH / 2, PW = OW / 2;
    const int rows = oy + 1 < OH ? 2 : 1;
    for (int64_t k = k0; k < k1; k++) {
        float *yk = pool ? y + ((n * OC + k) * PH + oy / 2) * PW : y + ((n * OC + k) * OH + oy) * OW;
        const wv8 bv = (wv8)(bias ? bias[k] : 0.0f);
        for (int64_t s0 = 0; s0 < spr; s0 += WL) {
            const float *src = m + (k - k0) * kstride + base + s0;
            wv8 mv[16], s[2][4];
            for (int p = 0; p < 16; p++) mv[p] = load8(src + p * pstride);
            for (int j = 0; j < 4; j++) {
                s[0][j] = mv[j] + mv[4 + j] + mv[8 + j];
                s[1][j] = mv[4 + j] - mv[8 + j] - mv[12 + j];
            }
            if (pool) {
                const int64_t cols = PW - s0;    /* whole tiles left in the row; may be 0 for an odd width */
                if (cols <= 0) break;
                wv8 best = max_nan(max_nan(s[0][0] + s[0][1] + s[0][2], s[0][1] - s[0][2] - s[0][3]),
                                   max_nan(s[1][0] + s[1][1] + s[1][2], s[1][1] - s[1][2] - s[1][3]));
                best += bv;
                if (relu) best = relu8(best);
                if (cols >= WL) store8(yk + s0, best);
                else { float tail[WL]; store8(tail, best); copy_floats(yk + s0, tail, cols); }
                continue;
            }
            const int64_t cols = OW - 2 * s0;    /* at least 1: slot s0 < the tiles of a row */
            for (int i = 0; i < rows; i++) {
                wv8 a = s[i][0] + s[i][1] + s[i][2] + bv, b = s[i][1] - s[i][2] - s[i][3] + bv;
                if (relu) { a = relu8(a); b = relu8(b); }
                store_pairs(yk + i * OW + 2 * s0, a, b, cols);
            }
        }
    }
}

/* A dY Aᵀ of tile rows ty0..<ty0+nr of image n of the output gradient into z: position p, channel k, slot s of the
   block at z[p·pstride + k·nbs + s], zero past OH, OW. The sum of the gradient per channel is added into gb unless
   it is NULL. `buf` is scratch for the padded rows. */
static inline __attribute__((always_inline)) void grad_block(const float *gy, const nabla_wino_geom *g, int64_t n,
                                                             int64_t ty0, int64_t nr, float *buf, float *z,
                                                             int64_t pstride, float *gb) {
    const int64_t OC = g->oc, OH = g->oh, OW = g->ow, spr = row_slots(g), bw = 2 * spr, rows = 2 * nr, nbs = nr * spr;
    pad_block(gy + n * OC * OH * OW, OC, OH, OW, 2 * ty0, rows, 0, bw, buf);
    for (int64_t k = 0; k < OC; k++) {
        wv8 total = (wv8)0;
        for (int64_t r = 0; r < nr; r++)
            for (int64_t s0 = 0; s0 < spr; s0 += WL) {
                const float *r0 = buf + (k * rows + 2 * r) * bw + 2 * s0, *r1 = r0 + bw;
                wv8 e[2][2], q[4][2];
                e[0][0] = evens(load8(r0), load8(r0 + 8));
                e[0][1] = odds(load8(r0), load8(r0 + 8));
                e[1][0] = evens(load8(r1), load8(r1 + 8));
                e[1][1] = odds(load8(r1), load8(r1 + 8));
                total += e[0][0] + e[0][1] + e[1][0] + e[1][1];
                for (int j = 0; j < 2; j++) {
                    q[0][j] = e[0][j];
                    q[1][j] = e[0][j] + e[1][j];
                    q[2][j] = e[0][j] - e[1][j];
                    q[3][j] = -e[1][j];
                }
                float *dst = z + k * nbs + r * spr + s0;
                for (int i = 0; i < 4; i++) {
                    store8(dst + (i * 4 + 0) * pstride, q[i][0]);
                    store8(dst + (i * 4 + 1) * pstride, q[i][0] + q[i][1]);
                    store8(dst + (i * 4 + 2) * pstride, q[i][0] - q[i][1]);
                    store8(dst + (i * 4 + 3) * pstride, -q[i][1]);
                }
            }
        if (gb) {
            float sum = 0;
            for (int l = 0; l < WL; l++) sum += total[l];
            gb[k] += sum;
        }
    }
}

/* Transposes the 8x8 block r (row i = r[i]) in place: afterwards r[j] holds column j. */
static inline __attribute__((always_inline)) void transpose8(wv8 r[8]) {
    wv8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int h = 0; h < 2; h++) {
            u[i + 2 * h] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + 2 * h + 1] = __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int j = 0; j < 4; j++) {
        r[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* Packs z [oc, nbs] (row-major) as gemm_packed's B over its transpose (nbs x oc): what nabla_f32_pack_b does with
   trans_b, but in 8x8 blocks transposed in registers (oc and nbs multiples of 8). Panel columns past oc are left
   as they are: gemm_packed never stores what they produce. */
static inline __attribute__((always_inline)) void pack_transposed(const float *z, int64_t oc, int64_t nbs, float *out) {
    for (int64_t k0 = 0; k0 < oc; k0 += WL) {
        float *dst = out + (k0 / NABLA_F32_PANEL) * nbs * NABLA_F32_PANEL + k0 % NABLA_F32_PANEL;
        for (int64_t s0 = 0; s0 < nbs; s0 += WL) {
            wv8 r[8];
            for (int i = 0; i < 8; i++) r[i] = load8(z + (k0 + i) * nbs + s0);
            transpose8(r);
            for (int l = 0; l < 8; l++) store8(dst + (s0 + l) * NABLA_F32_PANEL, r[l]);
        }
    }
}

/* Runs body(n, ty0, nr) over the blocks of tile rows r0..<r1: runs of at most block_rows(g) rows of one image. */
#define FOR_BLOCKS(g, r0, r1, body)                                                                                 \
    do {                                                                                                            \
        const int64_t ty_ = ((g)->oh + 1) / 2, most_ = block_rows(g);                                               \
        for (int64_t b_ = (r0); b_ < (r1);) {                                                                       \
            const int64_t n = b_ / ty_, ty0 = b_ % ty_;                                                             \
            int64_t nr = ty_ - ty0;                                                                                 \
            if (nr > most_) nr = most_;                                                                             \
            if (nr > (r1) - b_) nr = (r1) - b_;                                                                     \
            body;                                                                                                   \
            b_ += nr;                                                                                               \
        }                                                                                                           \
    } while (0)

/* The output transform of tile row `tr` with the epilogue `ep` (NABLA_WINO_RELU, NABLA_WINO_POOL) as constants. */
static inline __attribute__((always_inline)) void output_row_ep(const float *m, const nabla_wino_geom *g, int64_t tr,
                                                                int64_t pstride, int64_t kstride, int64_t base,
                                                                const float *bias, float *y, int64_t k0, int64_t k1,
                                                                int ep) {
    switch (ep & (NABLA_WINO_RELU | NABLA_WINO_POOL)) {
    case 0: output_row(m, g, tr, pstride, kstride, base, bias, y, k0, k1, 0, 0); break;
    case NABLA_WINO_RELU: output_row(m, g, tr, pstride, kstride, base, bias, y, k0, k1, 1, 0); break;
    case NABLA_WINO_POOL: output_row(m, g, tr, pstride, kstride, base, bias, y, k0, k1, 0, 1); break;
    default: output_row(m, g, tr, pstride, kstride, base, bias, y, k0, k1, 1, 1); break;
    }
}

NABLA_DISPATCH
void nabla_f32_wino_conv(const float *x, const nabla_wino_geom *g, const float *u, const float *bias, float *y,
                         int64_t r0, int64_t r1, int64_t k0, int64_t k1, int epilogue, float *scratch) {
    const int64_t C = g->c, OC = g->oc, spr = row_slots(g), ty = (g->oh + 1) / 2, KC = k1 - k0;
    const int64_t ps = nabla_f32_packed_size(C, block_rows(g) * spr);
    float *v = scratch, *m = v + 16 * ps, *buf = m + 16 * OC * block_rows(g) * spr;
    if (KC <= 0) return;
    FOR_BLOCKS(g, r0, r1, {
        const int64_t nbs = nr * spr;
        input_block(x, g, n, ty0, nr, buf, v, ps, 1);
        /* m holds channels k0..<k1 only, channel k at row k - k0. */
        for (int p = 0; p < 16; p++)
            nabla_f32_gemm_packed(KC, nbs, C, u + (p * OC + k0) * C, C, 0, v + p * ps, 0, m + p * KC * nbs, nbs);
        for (int64_t r = 0; r < nr; r++)
            output_row_ep(m, g, n * ty + ty0 + r, KC * nbs, nbs, r * spr, bias, y, k0, k1, epilogue);
    });
}

NABLA_DISPATCH
void nabla_f32_wino_wgrad(const float *x, const float *gy, const nabla_wino_geom *g, int64_t r0, int64_t r1,
                          float *acc, float *gb, float *scratch) {
    const int64_t C = g->c, OC = g->oc, spr = row_slots(g), nbs_max = block_rows(g) * spr;
    float *v = scratch, *z = v + 16 * C * nbs_max, *zp = z + 16 * OC * nbs_max;
    float *buf = zp + nabla_f32_packed_size(nbs_max, OC);
    FOR_BLOCKS(g, r0, r1, {
        const int64_t nbs = nr * spr;
        input_block(x, g, n, ty0, nr, buf, v, C * nbs, 0);
        grad_block(gy, g, n, ty0, nr, buf, z, OC * nbs, gb);
        for (int p = 0; p < 16; p++) {
            if (OC % WL == 0) pack_transposed(z + p * OC * nbs, OC, nbs, zp);
            else nabla_f32_pack_b(z + p * OC * nbs, nbs, 1, nbs, OC, zp);
            nabla_f32_gemm_packed(C, OC, nbs, v + p * C * nbs, nbs, 0, zp, 1, acc + p * C * OC, OC);
        }
    });
}

void nabla_f32_wino_wgrad_output(const float *acc, int64_t oc, int64_t ic, float *gw) {
    for (int64_t k = 0; k < oc; k++)
        for (int64_t c = 0; c < ic; c++) {
            float m[4][4], e[3][4];
            for (int p = 0; p < 16; p++) m[p / 4][p % 4] = acc[(p * ic + c) * oc + k];
            for (int j = 0; j < 4; j++) {
                e[0][j] = m[0][j] + 0.5f * (m[1][j] + m[2][j]);
                e[1][j] = 0.5f * (m[1][j] - m[2][j]);
                e[2][j] = 0.5f * (m[1][j] + m[2][j]) + m[3][j];
            }
            float *dst = gw + (k * ic + c) * 9;
            for (int i = 0; i < 3; i++) {
                dst[i * 3 + 0] = e[i][0] + 0.5f * (e[i][1] + e[i][2]);
                dst[i * 3 + 1] = 0.5f * (e[i][1] - e[i][2]);
                dst[i * 3 + 2] = 0.5f * (e[i][1] + e[i][2]) + e[i][3];
            }
        }
}
