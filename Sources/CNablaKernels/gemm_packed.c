/* GEMM against a pre-packed B (see include/nabla_gemm_packed.h). A register-tiled micro-kernel: a tile of 6 rows
   of C by one panel of B (16 floats or 8 doubles, two vectors) is held in 12 vector accumulators while k runs;
   every step broadcasts one element of each of the 6 rows of A and does 12 fused multiply-adds. B panels are
   walked in blocks of NB_KC rows so a block stays in L1 while all row tiles of A pass over it. Written with
   clang's portable vector types: AVX2 + FMA in the x86-64-v3 clone, plain SSE2 (or NEON) elsewhere, and a 16-row
   AVX-512 tile (below) on CPUs that have it. */
#include "nabla_gemm_packed.h"
#include "dispatch.h"
#include "gemm_tile.h"
#include <string.h>

#define NABLA_DISPATCH NABLA_CLONES("arch=x86-64-v3")

#define NB_KC 256

/* The blocking both drivers share, inside a function with the gemm_packed arguments (`ta` constant): K in blocks of
   NB_KC rows, B in panels of NR columns, the rows of A in tiles of MR (the last one shorter), each run through
   gemm_tile.h's switch over the row count. */
#define NB_BLOCKS(T, NR, MR, CASES)                                                                                 \
    for (int64_t k0 = 0; k0 < k; k0 += NB_KC) {                                                                     \
        const int64_t kc = k - k0 < NB_KC ? k - k0 : NB_KC;                                                         \
        const int acc = accumulate || k0 > 0;                                                                       \
        const nb_tile_epilogue *ep = NULL;                                                                          \
        for (int64_t p = 0; p < n; p += NR) {                                                                       \
            const T *panel = bp + p * k + k0 * NR;                                                                  \
            const int64_t nc = n - p < NR ? n - p : NR;                                                             \
            T *cp = c + p;                                                                                          \
            for (int64_t i = 0; i < m;) {                                                                           \
                const T *ai = ta ? a + k0 * lda + i : a + i * lda + k0;                                             \
                const int64_t rows = m - i < MR ? m - i : MR;                                                       \
                switch (rows) { CASES default: break; }                                                             \
                i += rows;                                                                                          \
            }                                                                                                       \
        }                                                                                                           \
    }


#if NABLA_GEMM_TILE512
#define DEFINE_PACKED_512(P, T, V2)                                                                                 \
NABLA_DEFINE_TILE512(P, T, V2)                                                                                      \
                                                                                                                    \
static inline __attribute__((always_inline)) void P##_drive512_body(const int ta, int64_t m, int64_t n, int64_t k,  \
                                                                   const T *a, int64_t lda, const T *bp,            \
                                                                   int accumulate, T *c, int64_t ldc) {             \
    enum { NR = (int)(sizeof(V2) / sizeof(T)) };                                                                    \
    NB_BLOCKS(T, NR, NB_MR512, NB_CASES16(P##_tile512))                                                             \
}                                                                                                                   \
                                                                                                                    \
__attribute__((target("arch=x86-64-v4"), min_vector_width(512)))                                                  \
static void P##_drive512(int ta, int64_t m, int64_t n, int64_t k, const T *a, int64_t lda, const T *bp,             \
                         int accumulate, T *c, int64_t ldc) {                                                       \
    if (ta) P##_drive512_body(1, m, n, k, a, lda, bp, accumulate, c, ldc);                                          \
    else P##_drive512_body(0, m, n, k, a, lda, bp, accumulate, c, ldc);                                             \
}
DEFINE_PACKED_512(f32, float, nb_v16f)
DEFINE_PACKED_512(f64, double, nb_v8d)
#else
#define f32_drive512 f32_drive
#define f64_drive512 f64_drive
#endif

#define DEFINE_PACKED(P, T, V, W)                                                                                   \
int64_t nabla_##P##_packed_size(int64_t k, int64_t n) { return (n + 2 * W - 1) / (2 * W) * (2 * W) * k; }          \
                                                                                                                    \
void nabla_##P##_pack_b(const T *b, int64_t ldb, int trans_b, int64_t k, int64_t n, T *out) {                       \
    const int64_t nr = 2 * W;                                                                                       \
    for (int64_t p = 0; p < n; p += nr) {                                                                           \
        T *dst = out + p * k;                                                                                       \
        int64_t w = n - p < nr ? n - p : nr;                                                                        \
        if (!trans_b && w == nr) { /* whole panel rows: one fixed-size copy each (0.39 -> 0.10 ns per element) */   \
            for (int64_t i = 0; i < k; i++) memcpy(dst + i * nr, b + i * ldb + p, sizeof(T) * 2 * W);               \
            continue;                                                                                               \
        }                                                                                                           \
        for (int64_t i = 0; i < k; i++) {                                                                           \
            for (int64_t j = 0; j < w; j++) dst[i * nr + j] = trans_b ? b[(p + j) * ldb + i] : b[i * ldb + p + j];  \
            for (int64_t j = w; j < nr; j++) dst[i * nr + j] = 0;                                                   \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
                                                                                                                    \
NABLA_DEFINE_TILE6(P, T, V, W)                                                                                      \
                                                                                                                    \
static inline __attribute__((always_inline)) void P##_drive(const int ta, int64_t m, int64_t n, int64_t k,        \
                                                           const T *a, int64_t lda, const T *bp, int accumulate,    \
                                                           T *c, int64_t ldc) {                                     \
    NB_BLOCKS(T, 2 * W, NB_MR, NB_CASES6(P##_tile))                                                                 \
}                                                                                                                   \
                                                                                                                    \
NABLA_DISPATCH void nabla_##P##_gemm_packed(int64_t m, int64_t n, int64_t k, const T *a, int64_t lda, int trans_a,  \
                                            const T *bp, int accumulate, T *c, int64_t ldc) {                       \
    if (k == 0) {                                                                                                   \
        if (!accumulate) for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(T));             \
        return;                                                                                                     \
    }                                                                                                               \
    if (NB_HAS_AVX512()) { P##_drive512(trans_a, m, n, k, a, lda, bp, accumulate, c, ldc); return; }               \
    if (trans_a) P##_drive(1, m, n, k, a, lda, bp, accumulate, c, ldc);                                             \
    else P##_drive(0, m, n, k, a, lda, bp, accumulate, c, ldc);                                                     \
}

DEFINE_PACKED(f32, float, nb_v8f, 8)
DEFINE_PACKED(f64, double, nb_v4d, 4)
