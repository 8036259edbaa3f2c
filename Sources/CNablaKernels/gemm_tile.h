/* The register tile shared by the GEMMs of gemm_packed.c (a B packed once, A read in place) and gemm_blocked.c
   (cache-blocked, B packed per block): on AVX-512, NB_MR512 rows of C by one 16-float (or 8-double) panel of B,
   held in one vector accumulator per row while k runs. Private to CNablaKernels. */
#ifndef NABLA_GEMM_TILE_H
#define NABLA_GEMM_TILE_H
#include <stdint.h>
#include <string.h>

/* The loops over a tile's rows are unrolled in full, so its accumulator array lives in registers. Left as loops (the
   stores at the end were, being long), the array needs an address: it sat on the stack, zeroed by a memset call and
   spilled and reloaded around the k loop at every tile (3% of W5, 4-12% of the recurrent products). */
#if defined(__clang__)
#define NB_UNROLL _Pragma("clang loop unroll(full)")
#else
#define NB_UNROLL
#endif

/* What a tile does to its rows of C as it stores them, besides writing or (`acc`) adding its sums: `bias` (the
   panel's row of elements) added to every row, then `res` (the tile's rows `ldr` apart) added, then, where `relu`
   is 1, a ReLU (NaN kept, -0 to +0, as nabla_f32_relu). Without a bias or residual they point to -0.0 (ldr 0),
   which adds nothing to any value, so the store has no branch but one on the epilogue itself (a branch on each
   step multiplied the tile's code eightfold and slowed products without one). Each step is one addition to the
   element in a register, in the order of the passes over C it replaces, so C gets the same bits. Pointers are to
   the tile's element type. */
typedef struct {
    const void *bias, *res;
    int64_t ldr;
    int relu;
} nb_tile_epilogue;

/* x (a vector of floats or doubles; its bits are masked through the comparison's integer vector) with every element
   that is neither above 0 nor NaN set to +0 where `relu` is 1; unchanged where it is 0. */
#define NB_RELU_IF(x, relu)                                                                                         \
    do {                                                                                                            \
        const __typeof__((x) > 0) keep_ = ((x) > 0) | ((x) != (x)) | (__typeof__((x) > 0))((relu) - 1);             \
        (x) = (__typeof__(x))((__typeof__(keep_))(x) & keep_);                                                      \
    } while (0)

/* Row r of a partial tile (its first nc elements at `row`, sums already stored) through the epilogue `ep`: out of
   line (partial tiles are rare, and inlined this loop took most of the tiles' code). */
#define NB_DEFINE_EPILOGUE_ROW(T, P)                                                                                \
__attribute__((noinline, unused)) static void nb_tile_epilogue_row_##P(T *row, const nb_tile_epilogue *ep,       \
                                                                        int64_t r, int64_t nc) {                    \
    const T *bias = (const T *)ep->bias, *res = (const T *)ep->res + r * ep->ldr;                                   \
    for (int64_t j = 0; j < nc; j++) {                                                                              \
        T v = row[j] + bias[j];                                                                                     \
        v += res[j];                                                                                                \
        row[j] = ep->relu && !(v > 0 || v != v) ? 0 : v;                                                            \
    }                                                                                                               \
}
NB_DEFINE_EPILOGUE_ROW(float, f32)
NB_DEFINE_EPILOGUE_ROW(double, f64)
#define nb_tile_epilogue_row(row, ep, r, nc)                                                                        \
    _Generic((row), float *: nb_tile_epilogue_row_f32, double *: nb_tile_epilogue_row_f64)(row, ep, r, nc)

/* A tile function runs with a constant row count: one switch case per count from 1 to MR, each calling
   TILE(ta, R, kc, ai, lda, panel, cp + i * ldc, ldc, nc, acc, ep) with the caller's variables of those names (`ep`
   a const nb_tile_epilogue * for the tile's first row, or NULL). */
#define NB_CASE(TILE, R) case R: TILE(ta, R, kc, ai, lda, panel, cp + i * ldc, ldc, nc, acc, ep); break;
#define NB_CASES6(TILE) NB_CASE(TILE, 6) NB_CASE(TILE, 5) NB_CASE(TILE, 4) NB_CASE(TILE, 3) NB_CASE(TILE, 2)     \
                        NB_CASE(TILE, 1)
#define NB_CASES16(TILE) NB_CASE(TILE, 16) NB_CASE(TILE, 15) NB_CASE(TILE, 14) NB_CASE(TILE, 13) NB_CASE(TILE, 12)  \
                         NB_CASE(TILE, 11) NB_CASE(TILE, 10) NB_CASE(TILE, 9) NB_CASE(TILE, 8) NB_CASE(TILE, 7)      \
                         NB_CASES6(TILE)

/* The portable tile (AVX2 + FMA in x86-64-v3 code): NB_MR rows of C by one panel of 2·W columns (16 floats or 8
   doubles), held in two vectors a row, 12 accumulators in AVX2's 16 registers. Every step broadcasts one element of
   each row of A and does 12 fused multiply-adds. C[0..mr, 0..nc) (+)= A[0..mr, 0..kc) · the panel block b (kc rows
   of 2·W); A(r, q) is a[r·lda + q], or a[q·lda + r] when `ta`. Written over C unless `acc`. */
#define NB_MR 6
/* How many steps of k ahead a tile prefetches a transposed A (`ta`), whose every step reads a new line: a file may
   define it before including this one (gemm_blocked.c: 4); 0, none. */
#ifndef NB_TA_PREFETCH
#define NB_TA_PREFETCH 0
#endif
typedef float nb_v8f __attribute__((ext_vector_type(8)));
typedef double nb_v4d __attribute__((ext_vector_type(4)));
#define NABLA_DEFINE_TILE6(P, T, V, W)                                                                              \
static inline __attribute__((always_inline)) void P##_tile(const int ta, const int mr, int64_t kc, const T *a,      \
                                                          int64_t lda, const T *b, T *c, int64_t ldc, int64_t nc,   \
                                                          int acc, const nb_tile_epilogue *ep) {                    \
    V c0[NB_MR], c1[NB_MR];                                                                                         \
    NB_UNROLL for (int r = 0; r < NB_MR; r++) { c0[r] = (V)0; c1[r] = (V)0; }                                       \
    for (int64_t q = 0; q < kc; q++) {                                                                              \
        V b0, b1;                                                                                                   \
        if (ta && NB_TA_PREFETCH) __builtin_prefetch(a + (q + NB_TA_PREFETCH) * lda, 0, 3);                       \
        memcpy(&b0, b + q * 2 * W, sizeof b0);                                                                      \
        memcpy(&b1, b + q * 2 * W + W, sizeof b1);                                                                  \
        for (int r = 0; r < mr; r++) {                                                                              \
            T ar = ta ? a[q * lda + r] : a[r * lda + q];                                                            \
            c0[r] += ar * b0;                                                                                       \
            c1[r] += ar * b1;                                                                                       \
        }                                                                                                           \
    }                                                                                                               \
    if (nc == 2 * W) {                                                                                              \
        NB_UNROLL for (int r = 0; r < mr; r++) {                                                                    \
            T *cr = c + r * ldc;                                                                                    \
            V x0 = c0[r], x1 = c1[r];                                                                               \
            V y0, y1;                                                                                               \
            if (acc) {                                                                                              \
                memcpy(&y0, cr, sizeof y0);                                                                         \
                memcpy(&y1, cr + W, sizeof y1);                                                                     \
                x0 += y0; x1 += y1;                                                                                 \
            }                                                                                                       \
            if (ep) {                                                                                               \
                const T *bias = (const T *)ep->bias, *res = (const T *)ep->res + r * ep->ldr;                       \
                memcpy(&y0, bias, sizeof y0); memcpy(&y1, bias + W, sizeof y1);                                     \
                x0 += y0; x1 += y1;                                                                                 \
                memcpy(&y0, res, sizeof y0); memcpy(&y1, res + W, sizeof y1);                                       \
                x0 += y0; x1 += y1;                                                                                 \
                NB_RELU_IF(x0, ep->relu); NB_RELU_IF(x1, ep->relu);                                                 \
            }                                                                                                       \
            memcpy(cr, &x0, sizeof x0);                                                                             \
            memcpy(cr + W, &x1, sizeof x1);                                                                         \
        }                                                                                                           \
    } else {                                                                                                        \
        NB_UNROLL for (int r = 0; r < mr; r++) {                                                                    \
            T tmp[2 * W], *cr = c + r * ldc;                                                                        \
            memcpy(tmp, &c0[r], sizeof c0[r]);                                                                      \
            memcpy(tmp + W, &c1[r], sizeof c1[r]);                                                                  \
            for (int64_t j = 0; j < nc; j++) cr[j] = acc ? cr[j] + tmp[j] : tmp[j];                                 \
            if (ep) nb_tile_epilogue_row(cr, ep, r, nc);                                                            \
        }                                                                                                           \
    }                                                                                                               \
}

#if defined(__x86_64__) && defined(__linux__) && !defined(NABLA_NO_AVX512)
#define NABLA_GEMM_TILE512 1
/* AVX-512: one 512-bit vector holds a whole panel row (2·W elements), so a tile of NB_MR512 rows keeps one
   accumulator per row in the 32 vector registers and does twice the AVX2 tile's work per fused multiply-add
   (16 rows: W5's 64-row blocks and W4's 64 output channels split evenly; W5 ran 9 600 → 11 300–11 800
   samples/s). The packed layout is the same, and each element of C is the same chain of fused multiply-adds in the same order,
   so both paths give bit-identical results. */
#define NB_MR512 16
typedef float nb_v16f __attribute__((ext_vector_type(16)));
typedef double nb_v8d __attribute__((ext_vector_type(8)));

static int nb_avx512_state = -1;
static int nb_detect_avx512(void) {
    __builtin_cpu_init();
    nb_avx512_state = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
    return nb_avx512_state;
}
#define NB_HAS_AVX512() (nb_avx512_state >= 0 ? nb_avx512_state : nb_detect_avx512())

/* One tile: C[0..mr, 0..nc) (+)= A[0..mr, 0..kc) · the panel block b (kc rows of NR); A(r, q) is a[r·lda + q], or
   a[q·lda + r] when `ta`. Written over C unless `acc`. */
#define NABLA_DEFINE_TILE512(P, T, V2)                                                                                 \
static inline __attribute__((always_inline)) void P##_tile512(const int ta, const int mr, int64_t kc, const T *a,   \
                                                             int64_t lda, const T *b, T *c, int64_t ldc,            \
                                                             int64_t nc, int acc, const nb_tile_epilogue *ep) {     \
    enum { NR = (int)(sizeof(V2) / sizeof(T)) };                                                                    \
    V2 cr[NB_MR512];                                                                                                \
    NB_UNROLL for (int r = 0; r < NB_MR512; r++) cr[r] = (V2)0;                                                     \
    for (int64_t q = 0; q < kc; q++) {                                                                              \
        V2 bq;                                                                                                      \
        if (ta && NB_TA_PREFETCH) __builtin_prefetch(a + (q + NB_TA_PREFETCH) * lda, 0, 3);                       \
        memcpy(&bq, b + q * NR, sizeof bq);                                                                         \
        for (int r = 0; r < mr; r++) cr[r] += (ta ? a[q * lda + r] : a[r * lda + q]) * bq;                          \
    }                                                                                                               \
    NB_UNROLL for (int r = 0; r < mr; r++) {                                                                        \
        T tmp[NR], *row = c + r * ldc;                                                                              \
        if (nc == NR) {                                                                                             \
            V2 x = cr[r], y;                                                                                        \
            if (acc) { memcpy(&y, row, sizeof y); x += y; }                                                         \
            if (ep) {                                                                                               \
                memcpy(&y, ep->bias, sizeof y); x += y;                                                             \
                memcpy(&y, (const T *)ep->res + r * ep->ldr, sizeof y); x += y;                                     \
                NB_RELU_IF(x, ep->relu);                                                                            \
            }                                                                                                       \
            memcpy(row, &x, sizeof x);                                                                              \
        } else {                                                                                                    \
            memcpy(tmp, &cr[r], sizeof tmp);                                                                        \
            for (int64_t j = 0; j < nc; j++) row[j] = acc ? row[j] + tmp[j] : tmp[j];                               \
            if (ep) nb_tile_epilogue_row(row, ep, r, nc);                                                           \
        }                                                                                                           \
    }                                                                                                               \
}
#else
#define NB_HAS_AVX512() 0
#endif

#endif
