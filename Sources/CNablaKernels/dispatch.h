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

#endif
