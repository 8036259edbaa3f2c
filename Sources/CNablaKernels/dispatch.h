/* Function multi-versioning for the C kernels: NABLA_CLONES("avx2,fma") compiles a function for those CPU features
   and for the baseline, and the loader picks one per machine (x86-64 Linux; elsewhere one plain build). Each
   kernel file names the features its loops were written and measured for. */
#ifndef NABLA_DISPATCH_H
#define NABLA_DISPATCH_H

#if defined(__x86_64__) && defined(__linux__)
#define NABLA_CLONES(features) __attribute__((target_clones(features, "default")))
#else
#define NABLA_CLONES(features)
#endif

/* The AVX-512 clone, where a kernel file has one: NABLA_CLONES(NABLA_V4_CLONE "arch=x86-64-v3"). A build with
   NABLA_NO_AVX512 defined (`swift build -Xcc -DNABLA_NO_AVX512`) leaves out every AVX-512 path, the clones and the
   GEMM tiles of gemm_tile.h alike, and so runs on an AVX-512 machine the code an AVX2-only one runs (the
   benchmarks' stand-in for an AVX2 EPYC, docs/performance.md). */
#if defined(NABLA_NO_AVX512)
#define NABLA_V4_CLONE
#else
#define NABLA_V4_CLONE "arch=x86-64-v4,"
#endif

#endif
