#ifndef NABLA_ELEMENTWISE_H
#define NABLA_ELEMENTWISE_H
#include <stddef.h>
#include <stdint.h>

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

#endif
