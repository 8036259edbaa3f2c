#ifndef CNABLA_BLAS_SHIM_H
#define CNABLA_BLAS_SHIM_H
#if __has_include(<cblas.h>)
#include <cblas.h>
#elif __has_include(<openblas/cblas.h>)
#include <openblas/cblas.h>
#endif
/* Provided by OpenBLAS; declared here so Swift can size OpenBLAS's pool to ours. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
