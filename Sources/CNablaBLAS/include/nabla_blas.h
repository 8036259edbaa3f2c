/* OpenBLAS, loaded at run time (dlopen) rather than linked, so that Nabla can correct OpenBLAS's CPU detection
   before its kernels are chosen. See blas_loader.c. */
#ifndef NABLA_BLAS_H
#define NABLA_BLAS_H

/* Loads OpenBLAS once (thread-safe); returns 1 when it is usable, else 0 (then `nabla_blas_error` says why). */
int nabla_blas_load(void);
/* Why loading failed, or NULL. */
const char *nabla_blas_error(void);
/* OpenBLAS's name for the kernels it runs ("Haswell", "SkylakeX", ...), or "" before a successful load. */
const char *nabla_blas_core(void);
/* The core OpenBLAS detected by itself when Nabla reloaded it with a better one, else "". */
const char *nabla_blas_detected_core(void);
/* The OPENBLAS_THREAD_TIMEOUT Nabla loaded OpenBLAS with (18), or -1 when the environment's was used. */
int nabla_blas_thread_timeout(void);
/* OpenBLAS's version and build configuration string, or "". */
const char *nabla_blas_config(void);

/* The OpenBLAS core to reload with when OpenBLAS detected `detected` on a CPU of `cpu_level` (0: no AVX2,
   1: AVX2 + FMA, 2: AVX-512 F/CD/DQ/BW/VL, all enabled by the OS): "SkylakeX" or "Haswell" when `detected` runs
   no AVX2 kernels although the CPU has them, else NULL (keep what OpenBLAS chose). */
const char *nabla_blas_better_core(const char *detected, int cpu_level);
/* This CPU's level as `nabla_blas_better_core` takes it. */
int nabla_blas_cpu_level(void);

/* cblas_sgemm / cblas_dgemm, row-major; `nabla_blas_load` must have returned 1. */
void nabla_blas_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc);
void nabla_blas_dgemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                      int lda, const double *b, int ldb, double beta, double *c, int ldc);
/* openblas_set_num_threads / openblas_get_num_threads. */
void nabla_blas_set_threads(int n);
int nabla_blas_get_threads(void);

#endif
