/* Fused optimizer kernels (see include/nabla_optim.h). Every line mirrors one PyTorch tensor op of the
   single-tensor implementation (torch/optim/*.py) and keeps its evaluation order:
     add(x, y, alpha)        -> x + alpha * y
     addcmul(x, a, b, value) -> x + value * a * b   (left to right)
     addcdiv(x, a, b, value) -> x + value * a / b   (left to right)
     lerp(x, y, w)           -> |w| < 0.5 ? x + w * (y - x) : y - (y - x) * (1 - w)
   Contraction into FMA is disabled so float64 rounding follows that order. */
#include "nabla_optim.h"
#include "dispatch.h"
#include <math.h>
#include <stddef.h>

#pragma clang fp contract(off)

/* sqrt without errno, so the loops vectorise (sqrtf/sqrt are correctly rounded either way). */
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define SQRT_F32(x) __builtin_elementwise_sqrt(x)
#define SQRT_F64(x) __builtin_elementwise_sqrt(x)
#else
#define SQRT_F32(x) sqrtf(x)
#define SQRT_F64(x) sqrt(x)
#endif

#define OPT_DISPATCH NABLA_CLONES("avx2")

#define LERP(T, x, y, w) ((fabs((double)(w)) < 0.5) ? (T)((x) + (w) * ((y) - (x))) : (T)((y) - ((y) - (x)) * ((T)1 - (w))))

#define DEFINE_OPTIM(T, SUF, SQRT)                                                                          \
static inline __attribute__((always_inline)) void SUF##_sgd_body(T *p, const T *g, T *buf, int64_t n,   \
        T lr, T mom, T dc, int use_wd, T wd, int use_mom, int nesterov, int maximize, int first) {        \
    for (int64_t i = 0; i < n; i++) {                                                                     \
        T d = maximize ? -g[i] : g[i];                                                                    \
        if (use_wd) d = d + wd * p[i];                                                                    \
        if (use_mom) {                                                                                    \
            T b = first ? d : buf[i] * mom + dc * d;                                                      \
            buf[i] = b;                                                                                   \
            d = nesterov ? d + mom * b : b;                                                               \
        }                                                                                                 \
        p[i] = p[i] + (-lr) * d;                                                                          \
    }                                                                                                     \
}                                                                                                         \
OPT_DISPATCH void nabla_##SUF##_sgd(T *p, const T *g, T *buf, int64_t n, double lr_, double momentum_,     \
        double dampening_c_, double weight_decay_, int nesterov, int maximize, int first) {               \
    const T lr = (T)lr_, mom = (T)momentum_, dc = (T)dampening_c_, wd = (T)weight_decay_;                \
    const int use_wd = weight_decay_ != 0;                                                                \
    if (momentum_ != 0) SUF##_sgd_body(p, g, buf, n, lr, mom, dc, use_wd, wd, 1, nesterov, maximize, first); \
    else SUF##_sgd_body(p, g, NULL, n, lr, mom, dc, use_wd, wd, 0, nesterov, maximize, first);            \
}                                                                                                         \
static inline __attribute__((always_inline)) void SUF##_adam_body(T *p, const T *g, T *m, T *v, T *vmax, \
        int64_t n, T w, T b2, T omb2, int use_wd, T wd, int decoupled, T dcy, T nss, T bc2s, T eps,         \
        int amsgrad, int maximize) {                                                                      \
    for (int64_t i = 0; i < n; i++) {                                                                     \
        T gi = maximize ? -g[i] : g[i];                                                                   \
        T pi = p[i];                                                                                      \
        if (use_wd) { if (decoupled) pi = pi * dcy; else gi = gi + wd * pi; }                             \
        T mi = LERP(T, m[i], gi, w);                                                                      \
        T vi = v[i] * b2;                                                                                 \
        vi = vi + omb2 * gi * gi;                                                                         \
        m[i] = mi; v[i] = vi;                                                                             \
        T s = vi;                                                                                         \
        if (amsgrad) { T mx = vmax[i]; s = (vi != vi || vi > mx) ? vi : mx; vmax[i] = s; }                 \
        T denom = SQRT(s) / bc2s;                                                                         \
        denom = denom + eps;                                                                              \
        p[i] = pi + nss * mi / denom;                                                                     \
    }                                                                                                     \
}                                                                                                         \
OPT_DISPATCH void nabla_##SUF##_adam_step(T *p, const T *g, T *m, T *v, T *vmax, int64_t n,               \
        double lerp_w_, double beta2_, double omb2_, double weight_decay_, int decoupled, double decay_c_,\
        double neg_step_size_, double bc2_sqrt_, double eps_, int amsgrad, int maximize) {                \
    const T w = (T)lerp_w_, b2 = (T)beta2_, omb2 = (T)omb2_, wd = (T)weight_decay_, dcy = (T)decay_c_;    \
    const T nss = (T)neg_step_size_, bc2s = (T)bc2_sqrt_, eps = (T)eps_;                                  \
    const int use_wd = weight_decay_ != 0;                                                                \
    if (amsgrad) SUF##_adam_body(p, g, m, v, vmax, n, w, b2, omb2, use_wd, wd, decoupled, dcy, nss, bc2s, eps, 1, maximize); \
    else if (use_wd) SUF##_adam_body(p, g, m, v, NULL, n, w, b2, omb2, 1, wd, decoupled, dcy, nss, bc2s, eps, 0, maximize); \
    else SUF##_adam_body(p, g, m, v, NULL, n, w, b2, omb2, 0, wd, 0, dcy, nss, bc2s, eps, 0, maximize);   \
}                                                                                                         \
static inline __attribute__((always_inline)) void SUF##_rmsprop_body(T *p, const T *g, T *sq, T *gavg,  \
        T *buf, int64_t n, T lr, T a, T oma, T eps, int use_wd, T wd, int use_mom, T mom, int centered,    \
        int maximize) {                                                                                   \
    for (int64_t i = 0; i < n; i++) {                                                                     \
        T gi = maximize ? -g[i] : g[i];                                                                   \
        if (use_wd) gi = gi + wd * p[i];                                                                  \
        T s = sq[i] * a;                                                                                  \
        s = s + oma * gi * gi;                                                                            \
        sq[i] = s;                                                                                        \
        T avg;                                                                                            \
        if (centered) {                                                                                   \
            T ga = LERP(T, gavg[i], gi, oma);                                                             \
            gavg[i] = ga;                                                                                 \
            avg = SQRT(s + (T)(-1) * ga * ga);                                                            \
        } else avg = SQRT(s);                                                                             \
        avg = avg + eps;                                                                                  \
        if (use_mom) {                                                                                    \
            T b = buf[i] * mom;                                                                           \
            b = b + (T)1 * gi / avg;                                                                      \
            buf[i] = b;                                                                                   \
            p[i] = p[i] + (-lr) * b;                                                                      \
        } else p[i] = p[i] + (-lr) * gi / avg;                                                            \
    }                                                                                                     \
}                                                                                                         \
OPT_DISPATCH void nabla_##SUF##_rmsprop(T *p, const T *g, T *sq, T *gavg, T *buf, int64_t n, double lr_,  \
        double alpha_, double oma_, double eps_, double weight_decay_, double momentum_, int centered,     \
        int maximize) {                                                                                   \
    const T lr = (T)lr_, a = (T)alpha_, oma = (T)oma_, eps = (T)eps_, wd = (T)weight_decay_;              \
    const T mom = (T)momentum_;                                                                           \
    const int use_wd = weight_decay_ != 0;                                                                \
    if (momentum_ > 0) {                                                                                  \
        if (centered) SUF##_rmsprop_body(p, g, sq, gavg, buf, n, lr, a, oma, eps, use_wd, wd, 1, mom, 1, maximize); \
        else SUF##_rmsprop_body(p, g, sq, NULL, buf, n, lr, a, oma, eps, use_wd, wd, 1, mom, 0, maximize); \
    } else {                                                                                              \
        if (centered) SUF##_rmsprop_body(p, g, sq, gavg, NULL, n, lr, a, oma, eps, use_wd, wd, 0, mom, 1, maximize); \
        else SUF##_rmsprop_body(p, g, sq, NULL, NULL, n, lr, a, oma, eps, use_wd, wd, 0, mom, 0, maximize); \
    }                                                                                                     \
}                                                                                                         \
OPT_DISPATCH void nabla_##SUF##_adagrad(T *p, const T *g, T *sum, int64_t n, double clr_, double eps_,    \
        double weight_decay_, int maximize) {                                                             \
    const T clr = (T)clr_, eps = (T)eps_, wd = (T)weight_decay_;                                          \
    const int use_wd = weight_decay_ != 0;                                                                \
    for (int64_t i = 0; i < n; i++) {                                                                     \
        T gi = maximize ? -g[i] : g[i];                                                                   \
        if (use_wd) gi = gi + wd * p[i];                                                                  \
        T s = sum[i] + (T)1 * gi * gi;                                                                    \
        sum[i] = s;                                                                                       \
        T std = SQRT(s) + eps;                                                                            \
        p[i] = p[i] + (-clr) * gi / std;                                                                  \
    }                                                                                                     \
}                                                                                                         \
OPT_DISPATCH void nabla_##SUF##_adadelta(T *p, const T *g, T *sq, T *acc, int64_t n, double lr_,          \
        double rho_, double omr_, double eps_, double weight_decay_, int maximize) {                      \
    const T lr = (T)lr_, rho = (T)rho_, omr = (T)omr_, eps = (T)eps_, wd = (T)weight_decay_;              \
    const int use_wd = weight_decay_ != 0;                                                                \
    for (int64_t i = 0; i < n; i++) {                                                                     \
        T gi = maximize ? -g[i] : g[i];                                                                   \
        if (use_wd) gi = gi + wd * p[i];                                                                  \
        T s = sq[i] * rho;                                                                                \
        s = s + omr * gi * gi;                                                                            \
        sq[i] = s;                                                                                        \
        T std = SQRT(s + eps);                                                                            \
        T delta = SQRT(acc[i] + eps);                                                                     \
        delta = delta / std;                                                                              \
        delta = delta * gi;                                                                               \
        T ac = acc[i] * rho;                                                                              \
        ac = ac + omr * delta * delta;                                                                    \
        acc[i] = ac;                                                                                      \
        p[i] = p[i] + (-lr) * delta;                                                                      \
    }                                                                                                     \
}

DEFINE_OPTIM(float, f32, SQRT_F32)
DEFINE_OPTIM(double, f64, SQRT_F64)
