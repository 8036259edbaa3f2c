/* A cache-blocked float32 GEMM on the 16-row AVX-512 tile, or on CPUs without AVX-512 the 6-row AVX2 one
   (gemm_tile.h). On Zen 4 it runs W7's products at 1.0-1.3× OpenBLAS 0.3.21's speed on two threads and attention's
   128×128×64 at 1.14-1.18× on one (C harness); W7's training step went from 113-116 to 108-110 ms. With the AVX2
   tile, in a build without AVX-512 on the same machine, W7 ran 7.0-9.5 ms a step faster than on OpenBLAS's Zen
   kernels (five processes switching the two at every step).

   Loops, outermost first: columns of C in blocks of GB_NC; k in blocks of GB_KC, for which the kc×nc block of
   op(B) is packed into 16-column panels (256 KB: stays in L2), alpha folded in; rows of C in blocks of GB_MC;
   then every panel, and every tile of the row block against it (the panel stays in L1 across the tiles).
   C is written on the first k block (beta = 0 needs no zeroing pass, unlike OpenBLAS's) and added to after.

   A is read in place unless its rows collide in L1: the 16 rows of a tile lie lda floats apart, and at lda = 1024
   (4 KB) all 16 map to the same L1 set, which holds 8 lines (measured: 99 against 210 GFLOP/s). Such a block is
   first copied into a buffer with a padded row stride, which costs about 1% of its arithmetic.

   On several threads a product runs as a team (nabla_f32_gemm_team_*): C in chunks that the threads claim as they
   come free, op(B) packed once into a buffer all of them read. Each element of C is the same chain of fused
   multiply-adds however the work is cut, so every split gives the one-thread result bit for bit. */
#include "nabla_gemm_blocked.h"
#include "nabla_gemm_packed.h"
/* The tiles prefetch a transposed A four steps of k ahead (gemm_tile.h): a tile reads one new line of it every step,
   whose latency the out-of-order window did not hide. In a C harness the AVX2 tile ran W7's 768×256×4096 weight
   gradient at 100 against 91 GFLOP/s on one thread (the AVX-512 one at 101-104); W7, switching it at every step
   (five processes each): 1.0-2.1 ms a step faster on the AVX2 tile, 0.03-0.52 on the AVX-512 one. */
#define NB_TA_PREFETCH 4
#include "gemm_tile.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define GB_NC 256
#define GB_KC 256
#define GB_MC 64
/* The most floats of packed op(B) a team holds for all its threads (16 MB: W1's 2048² products; W7's largest is 4 MB). */
#define GB_SHARED_MAX ((size_t)1 << 22)
/* Row stride of a copied block of row-major A: GB_KC + 16 floats, 17 cache lines, so the 16 rows of a tile fall
   in 16 different L1 sets. A transposed block (rows along k) is read one line per step and needs no padding. */
#define GB_LDA (GB_KC + 16)

#if defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>

/* Per-thread scratch: a packed block of B and a copied block of A, allocated on a thread's first product and freed
   when the thread exits. */
typedef struct { float *b, *a; } gb_scratch;
static pthread_key_t gb_key;
static pthread_once_t gb_once = PTHREAD_ONCE_INIT;
static void gb_free(void *p) {
    gb_scratch *s = p;
    free(s->b);
    free(s->a);
    free(s);
}
static void gb_make_key(void) { pthread_key_create(&gb_key, gb_free); }

static gb_scratch *gb_thread_scratch(void) {
    pthread_once(&gb_once, gb_make_key);
    gb_scratch *s = pthread_getspecific(gb_key);
    if (s) return s;
    s = malloc(sizeof *s);
    if (!s) abort();
    s->b = aligned_alloc(64, sizeof(float) * GB_KC * GB_NC);
    s->a = aligned_alloc(64, sizeof(float) * GB_MC * GB_LDA);
    if (!s->b || !s->a) abort();
    pthread_setspecific(gb_key, s);
    return s;
}

/* Two tiles: on AVX-512 (`wide`), 16 rows of C by a panel in one 512-bit accumulator a row; elsewhere (AVX2 + FMA)
   6 rows in two 256-bit accumulators a row. The panel layout is the same, and each element of C is the same chain of
   fused multiply-adds, so the two give the same result bit for bit. `nabla_f32_gemm_use_avx2_tile` makes an AVX-512
   CPU run the AVX2 one (for tests). */
NABLA_DEFINE_TILE6(gb6, float, nb_v8f, 8)
static _Atomic int gb_avx2_tile;
void nabla_f32_gemm_use_avx2_tile(int on) { atomic_store(&gb_avx2_tile, on != 0); }
static inline int gb_wide(void) { return NB_HAS_AVX512() && !atomic_load_explicit(&gb_avx2_tile, memory_order_relaxed); }

/* dst[t·16 + j] = src[j·lds + t] for a 16×16 block, as four 8×8 register transposes of AVX. */
__attribute__((target("arch=x86-64-v3")))
static void gb_transpose16_avx2(const float *src, int64_t lds, float *dst) {
    for (int j0 = 0; j0 < 16; j0 += 8)
        for (int t0 = 0; t0 < 16; t0 += 8) {
            __m256 r[8], u[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (j0 + i) * lds + t0);
            for (int i = 0; i < 8; i += 2) {
                u[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
                u[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                r[i] = _mm256_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
                r[i + 1] = _mm256_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
                r[i + 2] = _mm256_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
                r[i + 3] = _mm256_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
            }
            for (int i = 0; i < 4; i++) {
                _mm256_storeu_ps(dst + (t0 + i) * 16 + j0, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
                _mm256_storeu_ps(dst + (t0 + i + 4) * 16 + j0, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
            }
        }
}

#if NABLA_GEMM_TILE512
NABLA_DEFINE_TILE512(gb, float, nb_v16f)

/* dst[t·16 + j] = src[j·lds + t] for a 16×16 block: four rounds of AVX-512 shuffles instead of 256 strided loads. */
__attribute__((target("arch=x86-64-v4")))
static inline void gb_transpose16(const float *src, int64_t lds, float *dst) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * lds);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * 16, r[i]);
}
#else
#define gb_transpose16 gb_transpose16_avx2
#endif

/* Packs the kc×nc block of op(B) at `b` into 16-column panels (nabla_f32_pack_b's layout), times alpha. A
   transposed B (stored n×k) goes through 16×16 register transposes where a whole block fits: nabla_f32_pack_b's
   element loop took 0.39 ns per element, a sixth of a 128×128×64 product. */
static void gb_pack_b(const float *b, int64_t ldb, int tb, int64_t kc, int64_t nc, float alpha, float *out) {
    const int wide = gb_wide();
    if (!tb) {
        nabla_f32_pack_b(b, ldb, 0, kc, nc, out);
    } else {
        for (int64_t p = 0; p < nc; p += 16) {
            float *dst = out + p * kc;
            const float *src = b + p * ldb;
            const int64_t w = nc - p < 16 ? nc - p : 16;
            int64_t i = 0;
            if (w == 16) for (; i + 16 <= kc; i += 16) {
                if (wide) gb_transpose16(src + i, ldb, dst + i * 16);
                else gb_transpose16_avx2(src + i, ldb, dst + i * 16);
            }
            for (; i < kc; i++) {
                for (int64_t j = 0; j < w; j++) dst[i * 16 + j] = src[j * ldb + i];
                for (int64_t j = w; j < 16; j++) dst[i * 16 + j] = 0;
            }
        }
    }
    if (alpha != 1) {
        const int64_t packed = nabla_f32_packed_size(kc, nc);
        for (int64_t i = 0; i < packed; i++) out[i] *= alpha;
    }
}

/* Whether the 16 rows of a tile, lda floats apart, spread over fewer than 4 of the L1's 64 sets of 64-byte lines
   (lda a multiple of 512 floats: all in one or two sets), so that a block of A must be copied before the tile
   reads it. */
static int gb_rows_collide(int64_t lda) {
    const int64_t bytes = lda * (int64_t)sizeof(float);
    if (bytes % 64) return 0;
    int64_t lines = (bytes / 64) % 64, g = 64;
    while (lines) { int64_t t = g % lines; g = lines; lines = t; }
    return 64 / g < 4;
}

/* The next block of A that a row block's panels prefetch, a share each: `rows` rows of `width` floats, `lda` apart. */
typedef struct {
    const float *src;
    int64_t rows, width, lda;
} gb_prefetch;

/* Prefetches share `part` of `parts` of the lines of `pf`. */
static inline __attribute__((always_inline)) void gb_prefetch_part(const gb_prefetch *pf, int64_t part, int64_t parts) {
    const int64_t per_row = (pf->width + 15) / 16, lines = pf->rows * per_row;
    for (int64_t l = lines * part / parts, end = lines * (part + 1) / parts; l < end; l++)
        __builtin_prefetch(pf->src + (l / per_row) * pf->lda + (l % per_row) * 16, 0, 3);
}

/* 16 floats of -0.0, which an addition leaves any value unchanged by: the bias and residual of a tile epilogue
   (nb_tile_epilogue) that has none. */
static const float gb_nothing[16] = {-0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f,
                                     -0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f};

/* One row block against the packed column block: abuf holds the block of op(A), `ta` as it was copied. Each panel
   also prefetches its share of `pf` (or NULL), the block of A that comes next. `block` (or NULL): the epilogue the
   tiles apply as they store, its bias (or gb_nothing) at the block's first column and its residual (or
   gb_nothing, ldr 0) at the block's first element. */
static inline __attribute__((always_inline)) void gb_row_block(const int wide, const int ta, int64_t mc, int64_t nblock, int64_t kc,
                                                               const float *abuf, int64_t lda, const float *bbuf,
                                                               float *c, int64_t ldc, int acc, const gb_prefetch *pf,
                                                               const nb_tile_epilogue *block) {
    const int64_t panels = (nblock + 15) / 16;
    for (int64_t p = 0; p < nblock; p += 16) {
        if (pf) gb_prefetch_part(pf, p / 16, panels);
        const float *panel = bbuf + p * kc;
        const int64_t nc = nblock - p < 16 ? nblock - p : 16;
        float *cp = c + p;
        for (int64_t i = 0; i < mc;) {
            const float *ai = ta ? abuf + i : abuf + i * lda;
            nb_tile_epilogue tile;
            const nb_tile_epilogue *ep = NULL;
            if (block) {
                const float *bias = block->bias, *res = block->res;
                tile = (nb_tile_epilogue){bias == gb_nothing ? bias : bias + p,
                                          res == gb_nothing ? res : res + i * block->ldr + p, block->ldr, block->relu};
                ep = &tile;
            }
            if (wide) {
#if NABLA_GEMM_TILE512
                const int64_t rows = mc - i < NB_MR512 ? mc - i : NB_MR512;
                switch (rows) { NB_CASES16(gb_tile512) default: break; }
                i += rows;
#endif
            } else {
                const int64_t rows = mc - i < NB_MR ? mc - i : NB_MR;
                switch (rows) { NB_CASES6(gb6_tile) default: break; }
                i += rows;
            }
        }
    }
}

/* What a team does to C besides the product: a bias row added, then a residual added and a ReLU. NULL pointers and
   0 skip a step. */
typedef struct {
    const float *bias, *residual;
    int64_t ldr;
    int relu;
} gb_epilogue;

/* The rows [m_lo, m_hi) of C against one packed kc×nc block of op(B) (bbuf), which starts at row k0 and column n0
   of op(B). `copy_a`: each block of A goes through the scratch buffer `abuf` first (its rows collide in L1). `ep`
   (or NULL): the epilogue, which the tiles apply to their sums in registers as they store them: the bias on the
   first block of k, the residual and ReLU on the last (`kc_next` 0; else the length of the next block of k). Until
   session 22 a pass wrote the bias into each 64-row block of C before its product and another applied the rest
   after it, from L2 (C's rows 4 KB apart do not stay in L1): in a C harness on two threads, W7's 4096×1024×256
   product with bias and ReLU ran 4-7% slower than without them. W7, switching the two at every step: 0.5 ms a
   step faster on the AVX-512 tile, 2.0 ms on the AVX2 one (medians of five processes). `fused` (gb_fused): whether
   this block of k has any of the epilogue to apply, so that the tiles take it. */
static inline __attribute__((always_inline)) void gb_rows_body(const int wide, const int fused, int ta,
                                                               int64_t m_lo, int64_t m_hi, int64_t n0, int64_t nc,
                                                               int64_t k0, int64_t kc,
                                                               const float *a, int64_t lda, const float *bbuf,
                                                               int accumulate, float *c, int64_t ldc, int copy_a,
                                                               float *abuf, const gb_epilogue *ep, int64_t kc_next) {
    const int last = kc_next == 0;
    const int bias = ep && ep->bias && k0 == 0;
    const int acc = accumulate || k0 > 0;
    const int finish = ep && last && (ep->residual || ep->relu);
    /* The next block of A (the next rows, or after the last rows the first of the next block of k) is prefetched
       while this one runs: single-threaded 104 against 101 GF/s on W7's 4096×256×256 (C harness, A out of the
       cache as in a training step); W7 0.2-0.9 ms a step faster (five runs alternating it by step). Not for
       products of at most two row blocks and one block of k (attention's 128×128×64 pairs: 2-10% slower, their
       operands being in L2 already). */
    const int ahead = m_hi - m_lo > 2 * GB_MC || !last;
    for (int64_t m0 = m_lo; m0 < m_hi; m0 += GB_MC) {
        const int64_t mc = m_hi - m0 < GB_MC ? m_hi - m0 : GB_MC;
        float *cb = c + m0 * ldc + n0;
        /* op(A)'s block: mc rows of kc from row m0, column k0 of A, or (`ta`) kc rows of mc from row k0, column m0
           of A as stored ([k, m]); copied first when its rows collide in L1. */
        const float *ab = ta ? a + k0 * lda + m0 : a + m0 * lda + k0;
        int64_t ld = lda;
        if (copy_a) {
            const int64_t lines = ta ? kc : mc, width = ta ? mc : kc, ldcopy = ta ? GB_MC : GB_LDA;
            for (int64_t r = 0; r < lines; r++) memcpy(abuf + r * ldcopy, ab + r * lda, sizeof(float) * width);
            ab = abuf;
            ld = ldcopy;
        }
        const int res = finish && ep->residual;
        const nb_tile_epilogue block = {bias ? ep->bias + n0 : gb_nothing,
                                        res ? ep->residual + m0 * ep->ldr + n0 : gb_nothing, res ? ep->ldr : 0,
                                        finish && ep->relu};
        const nb_tile_epilogue *bp = fused ? &block : NULL;
        gb_prefetch pf, *pfp = NULL;
        if (ahead && (m0 + GB_MC < m_hi || !last)) {
            const int next_row = m0 + GB_MC < m_hi;
            const int64_t m1 = next_row ? m0 + GB_MC : m_lo, k1 = next_row ? k0 : k0 + kc;
            const int64_t mn = m_hi - m1 < GB_MC ? m_hi - m1 : GB_MC;
            const int64_t kn = next_row ? kc : kc_next;
            pf = (gb_prefetch){ta ? a + k1 * lda + m1 : a + m1 * lda + k1, ta ? kn : mn, ta ? mn : kn, lda};
            pfp = &pf;
        }
        if (ta) gb_row_block(wide, 1, mc, nc, kc, ab, ld, bbuf, cb, ldc, acc, pfp, bp);
        else gb_row_block(wide, 0, mc, nc, kc, ab, ld, bbuf, cb, ldc, acc, pfp, bp);
    }
}

#define GB_ROWS_PARAMS int ta, int64_t m_lo, int64_t m_hi, int64_t n0, int64_t nc, int64_t k0, int64_t kc,         \
                       const float *a, int64_t lda, const float *bbuf, int accumulate, float *c, int64_t ldc,       \
                       int copy_a, float *abuf, const gb_epilogue *ep, int64_t kc_next
#define GB_ROWS_ARGS ta, m_lo, m_hi, n0, nc, k0, kc, a, lda, bbuf, accumulate, c, ldc, copy_a, abuf, ep, kc_next

/* Whether the tiles apply an epilogue to this block of k: each row function has one copy of the tiles for that and
   one without any (a branch on it in the tile made the compiler copy the tiles for each of its steps, and slowed
   the products without one by 2%). */
static inline int gb_fused(const gb_epilogue *ep, int64_t k0, int64_t kc_next) {
    return ep && ((ep->bias && k0 == 0) || (kc_next == 0 && (ep->residual || ep->relu)));
}

__attribute__((target("arch=x86-64-v3")))
static void gb_rows_avx2(GB_ROWS_PARAMS) {
    if (gb_fused(ep, k0, kc_next)) gb_rows_body(0, 1, GB_ROWS_ARGS);
    else gb_rows_body(0, 0, GB_ROWS_ARGS);
}

#if NABLA_GEMM_TILE512
__attribute__((target("arch=x86-64-v4"), min_vector_width(512)))
static void gb_rows_avx512(GB_ROWS_PARAMS) {
    if (gb_fused(ep, k0, kc_next)) gb_rows_body(1, 1, GB_ROWS_ARGS);
    else gb_rows_body(1, 0, GB_ROWS_ARGS);
}
#endif

/* The rows [m_lo, m_hi) of C against one packed block of op(B) (gb_rows_body), on the tile this CPU runs. */
static void gb_rows(GB_ROWS_PARAMS) {
#if NABLA_GEMM_TILE512
    if (gb_wide()) { gb_rows_avx512(GB_ROWS_ARGS); return; }
#endif
    gb_rows_avx2(GB_ROWS_ARGS);
}

/* The length of the block of k after the one at k0 (kc long), 0 after the last. */
static int64_t gb_kc_next(int64_t k, int64_t k0, int64_t kc) {
    const int64_t rest = k - k0 - kc;
    return rest < GB_KC ? rest : GB_KC;
}

/* The whole product on the calling thread, each block of op(B) packed into the thread's scratch just before use. */
static void gb_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                    const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc) {
    gb_scratch *s = gb_thread_scratch();
    const int copy_a = gb_rows_collide(lda);
    for (int64_t n0 = 0; n0 < n; n0 += GB_NC) {
        const int64_t nc = n - n0 < GB_NC ? n - n0 : GB_NC;
        for (int64_t k0 = 0; k0 < k; k0 += GB_KC) {
            const int64_t kc = k - k0 < GB_KC ? k - k0 : GB_KC;
            gb_pack_b(tb ? b + n0 * ldb + k0 : b + k0 * ldb + n0, ldb, tb, kc, nc, alpha, s->b);
            gb_rows(ta, 0, m, n0, nc, k0, kc, a, lda, s->b, accumulate, c, ldc, copy_a, s->a, NULL, gb_kc_next(k, k0, kc));
        }
    }
}

/* A product shared by a team of threads (nabla_f32_gemm_team_run). C is cut into chunks, row_chunk rows by
   col_chunk columns, which the threads claim one after another, so that a core slowed by another process takes
   fewer of them (a fixed half each had one thread idle for 5-8% of W7's products). op(B) is packed once, into
   one buffer all threads read: each kc×nc block by the first thread that needs it (see gb_team_block). */
struct nabla_gemm_team {
    int ta, tb, accumulate, copy_a, owns_packed;
    int64_t m, n, k, lda, ldb, ldc;
    float alpha;
    const float *a, *b;
    float *c;
    int64_t row_chunk, row_chunks, col_chunk, chunks, kblocks;
    int64_t whole;          /* chunks handed out whole; each of the last ones goes out as `pieces` pieces */
    int64_t pieces, piece;  /* pieces per late chunk, and their size: rows (`piece_rows`) or columns */
    int piece_rows;
    float *packed;          /* k × round16(n) floats: block (n0, k0) at n0·k + k0·round16(nc); NULL when op(B) is
                               larger than GB_SHARED_MAX */
    _Atomic int *state;     /* per block of op(B), column block major: 0 to pack, 1 being packed, 2 packed */
    _Atomic int64_t next;   /* the next chunk to claim */
    gb_epilogue epilogue;   /* zeroed: none */
};

/* The packed-B buffer of the last team, kept for the next (a fresh one of several MB costs its page faults again);
   a team made while another holds it allocates its own. */
static float *gb_shared;
static size_t gb_shared_floats;
static atomic_int gb_shared_busy;

static int64_t gb_round16(int64_t x) { return (x + 15) & ~(int64_t)15; }

nabla_gemm_team *nabla_f32_gemm_team_create(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                            const float *a, int64_t lda, const float *b, int64_t ldb, int accumulate,
                                            float *c, int64_t ldc, int threads) {
    nabla_gemm_team *t = calloc(1, sizeof *t);
    if (!t) abort();
    *t = (nabla_gemm_team){.ta = trans_a, .tb = trans_b, .accumulate = accumulate, .copy_a = gb_rows_collide(lda),
                           .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .a = a, .b = b,
                           .c = c};
    /* Chunks: all columns of C when it is at least as tall as it is wide (or narrower than a block), with rows for
       about eight chunks a thread, from 64 (each chunk reads all of packed op(B) once, from L3) to 256. When C is
       wider, one block of columns by up to 256 rows, so that a block of op(B) serves all the rows it can (W7's
       256×1024×4096 weight gradient in 64-row chunks: 165 against 177 GFLOP/s for two fixed halves). */
    t->col_chunk = (m >= n || n <= GB_NC) ? n : GB_NC;
    const int64_t col_chunks = (n + t->col_chunk - 1) / t->col_chunk;
    const int64_t wanted = 8 * (int64_t)(threads < 1 ? 1 : threads);
    const int64_t rows = col_chunks > 1 ? gb_round16(m) : gb_round16((m + wanted - 1) / wanted);
    /* An op(B) too large to hold packed (`shared` false): each chunk packs its own blocks, as nabla_f32_gemm does,
       with at least 512 rows to pack for. */
    const size_t floats = (size_t)(k * gb_round16(n));
    const int shared = floats <= GB_SHARED_MAX;
    t->row_chunk = !shared ? 512 : rows < 64 ? 64 : rows > 256 ? 256 : rows;
    t->row_chunks = (m + t->row_chunk - 1) / t->row_chunk;
    const int64_t grid = t->row_chunks * col_chunks;
    /* The last chunk a thread takes ends the product for it: while it runs, a thread that has nothing left waits (up
       to a chunk, a sixteenth of W7's 4096-row products and a quarter of its 256-row weight gradients, when a core
       is slowed). So the last `threads` chunks go out in pieces of 64 rows (or, for chunks of fewer than 128 rows,
       64 columns), up to four each: W7 0.3-1.2 ms a step faster (five runs alternating it by step), where the last
       two chunks split in eight did not pay. */
    const int64_t late = grid < threads ? grid : threads;
    const int64_t height = t->row_chunk < m ? t->row_chunk : m, width = t->col_chunk < n ? t->col_chunk : n;
    t->whole = grid - late;
    t->piece_rows = height >= 128;
    t->pieces = (t->piece_rows ? height : width) / 64;
    t->pieces = t->pieces > 4 ? 4 : t->pieces < 1 ? 1 : t->pieces;
    t->piece = gb_round16(((t->piece_rows ? height : width) + t->pieces - 1) / t->pieces);
    t->chunks = t->whole + late * t->pieces;
    t->kblocks = (k + GB_KC - 1) / GB_KC;
    const int64_t nblocks = (n + GB_NC - 1) / GB_NC;
    t->state = calloc((size_t)(nblocks * t->kblocks), sizeof *t->state);
    if (!t->state) abort();
    if (shared) {
        if (!atomic_exchange(&gb_shared_busy, 1)) {
            if (gb_shared_floats < floats) {
                free(gb_shared);
                gb_shared = aligned_alloc(64, (floats * sizeof(float) + 63) & ~(size_t)63);
                if (!gb_shared) abort();
                gb_shared_floats = floats;
            }
            t->packed = gb_shared;
        } else {
            t->packed = aligned_alloc(64, (floats * sizeof(float) + 63) & ~(size_t)63);
            if (!t->packed) abort();
            t->owns_packed = 1;
        }
    }
    atomic_init(&t->next, 0);
    return t;
}

void nabla_f32_gemm_team_destroy(nabla_gemm_team *t) {
    if (t->owns_packed) free(t->packed);
    else if (t->packed) atomic_store(&gb_shared_busy, 0);
    free((void *)t->state);
    free(t);
}

/* Packs block (n0, k0) of op(B) into `out`. */
static void gb_team_pack(const nabla_gemm_team *t, int64_t n0, int64_t k0, float *out) {
    const int64_t nc = t->n - n0 < GB_NC ? t->n - n0 : GB_NC, kc = t->k - k0 < GB_KC ? t->k - k0 : GB_KC;
    gb_pack_b(t->tb ? t->b + n0 * t->ldb + k0 : t->b + k0 * t->ldb + n0, t->ldb, t->tb, kc, nc, t->alpha, out);
}

/* Where block (n0, k0) of op(B) lies in the team's packed buffer. */
static float *gb_team_slot(const nabla_gemm_team *t, int64_t n0, int64_t k0) {
    return t->packed + n0 * t->k + k0 * gb_round16(t->n - n0 < GB_NC ? t->n - n0 : GB_NC);
}

static _Atomic int *gb_team_state(const nabla_gemm_team *t, int64_t n0, int64_t k0) {
    return &t->state[(n0 / GB_NC) * t->kblocks + k0 / GB_KC];
}

/* Packs block (n0, k0) into the shared buffer if no thread has claimed it; whether this call packed it. */
static int gb_team_try_pack(nabla_gemm_team *t, int64_t n0, int64_t k0) {
    _Atomic int *st = gb_team_state(t, n0, k0);
    int expected = 0;
    if (atomic_load_explicit(st, memory_order_relaxed) != 0 || !atomic_compare_exchange_strong(st, &expected, 1))
        return 0;
    gb_team_pack(t, n0, k0, gb_team_slot(t, n0, k0));
    atomic_store_explicit(st, 2, memory_order_release);
    return 1;
}

/* Block (n0, k0) of op(B), packed: by this thread if nobody has started it. While another thread packs it, this one
   packs a later block of the same columns (about as long), and if the block is still not ready then (its packer
   may have lost its core) packs its own copy into `scratch`: no thread ever waits for another. */
static const float *gb_team_block(nabla_gemm_team *t, int64_t n0, int64_t k0, float *scratch) {
    if (t->packed) {
        _Atomic int *st = gb_team_state(t, n0, k0);
        if (atomic_load_explicit(st, memory_order_acquire) == 2 || gb_team_try_pack(t, n0, k0))
            return gb_team_slot(t, n0, k0);
        for (int64_t k1 = k0 + GB_KC; k1 < t->k; k1 += GB_KC)
            if (gb_team_try_pack(t, n0, k1)) break;
        if (atomic_load_explicit(st, memory_order_acquire) == 2) return gb_team_slot(t, n0, k0);
    }
    gb_team_pack(t, n0, k0, scratch);
    return scratch;
}

void nabla_f32_gemm_team_run(nabla_gemm_team *t) {
    gb_scratch *s = gb_thread_scratch();
    for (;;) {
        const int64_t i = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed);
        if (i >= t->chunks) return;
        /* Chunk i of the grid, or piece `part` of one of the late chunks. */
        const int64_t chunk = i < t->whole ? i : t->whole + (i - t->whole) / t->pieces;
        const int64_t part = i < t->whole ? -1 : (i - t->whole) % t->pieces;
        int64_t m_lo = (chunk % t->row_chunks) * t->row_chunk, c_lo = (chunk / t->row_chunks) * t->col_chunk;
        int64_t m_hi = m_lo + t->row_chunk < t->m ? m_lo + t->row_chunk : t->m;
        int64_t c_hi = c_lo + t->col_chunk < t->n ? c_lo + t->col_chunk : t->n;
        if (part >= 0 && t->pieces > 1) {
            int64_t *lo = t->piece_rows ? &m_lo : &c_lo, *hi = t->piece_rows ? &m_hi : &c_hi;
            const int64_t end = *hi;
            *lo += part * t->piece;
            *hi = *lo + t->piece < end ? *lo + t->piece : end;
            if (*lo >= *hi) continue;
        }
        /* Columns c_lo..<c_hi a block of op(B) at a time; a piece may start inside a block (its panels from there). */
        for (int64_t n0 = c_lo; n0 < c_hi;) {
            const int64_t block = n0 - n0 % GB_NC, block_end = block + GB_NC < c_hi ? block + GB_NC : c_hi;
            const int64_t nc = block_end - n0;
            for (int64_t k0 = 0; k0 < t->k; k0 += GB_KC) {
                const int64_t kc = t->k - k0 < GB_KC ? t->k - k0 : GB_KC;
                const float *bbuf = gb_team_block(t, block, k0, s->b) + (n0 - block) * kc;
                gb_rows(t->ta, m_lo, m_hi, n0, nc, k0, kc, t->a, t->lda, bbuf, t->accumulate, t->c, t->ldc, t->copy_a,
                        s->a, &t->epilogue, gb_kc_next(t->k, k0, kc));
            }
            n0 = block_end;
        }
    }
}

int64_t nabla_f32_gemm_team_chunks(const nabla_gemm_team *t) { return t->chunks; }

void nabla_f32_gemm_team_epilogue(nabla_gemm_team *t, const float *bias, const float *residual, int64_t ldr, int relu) {
    t->epilogue = (gb_epilogue){.bias = bias, .residual = residual, .ldr = ldr, .relu = relu};
}

int nabla_f32_gemm_available(void) {
    __builtin_cpu_init();
    return NB_HAS_AVX512() || (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
}

int nabla_f32_gemm_copies_a(int64_t lda) { return gb_rows_collide(lda); }

int nabla_f32_gemm_preferred(void) {
    __builtin_cpu_init();
    return nabla_f32_gemm_available() && __builtin_cpu_is("amd");
}

void nabla_f32_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    gb_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, accumulate, c, ldc);
}

#else

int nabla_f32_gemm_available(void) { return 0; }

void nabla_f32_gemm_use_avx2_tile(int on) { (void)on; }

int nabla_f32_gemm_copies_a(int64_t lda) { (void)lda; return 0; }

nabla_gemm_team *nabla_f32_gemm_team_create(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                            const float *a, int64_t lda, const float *b, int64_t ldb, int accumulate,
                                            float *c, int64_t ldc, int threads) {
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb;
    (void)accumulate; (void)c; (void)ldc; (void)threads;
    abort();
}

void nabla_f32_gemm_team_run(nabla_gemm_team *t) { (void)t; abort(); }

void nabla_f32_gemm_team_destroy(nabla_gemm_team *t) { (void)t; abort(); }

int64_t nabla_f32_gemm_team_chunks(const nabla_gemm_team *t) { (void)t; abort(); }

void nabla_f32_gemm_team_epilogue(nabla_gemm_team *t, const float *bias, const float *residual, int64_t ldr, int relu) {
    (void)t; (void)bias; (void)residual; (void)ldr; (void)relu;
    abort();
}

int nabla_f32_gemm_preferred(void) { return 0; }

void nabla_f32_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc) {
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb;
    (void)accumulate; (void)c; (void)ldc;
    abort();
}

#endif
