/* OpenBLAS, loaded with dlopen at the first matrix product.

   Debian 12's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU model when it is loaded, and on a CPU
   newer than itself it falls back to "Prescott", its SSE3 kernels: about 5× slower on an AVX-512 Xeon (60 against
   310 GFLOP/s measured on a 2-core Emerald Rapids). When OPENBLAS_CORETYPE is unset, Nabla loads OpenBLAS, asks
   which kernels it chose, and if they lack AVX2 although the CPU (and the OS) has it, unloads it and loads it again
   with OPENBLAS_CORETYPE set to "SkylakeX" or "Haswell" for that load only: the variable is removed again, so the
   process environment is left as it was. A machine that sets OPENBLAS_CORETYPE keeps exactly what it asked for.

   OpenBLAS's idle threads spin (sched_yield) for 2^28 cycles, about 0.1 s, after each call before they sleep. Nabla's
   own kernel threads run between the BLAS calls on the same cores, and on a 2-core Xeon the spinning cost W4 a fifth
   of its speed. Unless OPENBLAS_THREAD_TIMEOUT is set, the load sets it to 18 (2^18 cycles, under 0.1 ms), which
   still keeps the threads awake across back-to-back products.

   NABLA_BLAS_TUNING=0 turns both adjustments off. */
#include "nabla_blas.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double,
                         double *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*string_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *handle;
static sgemm_fn sgemm;
static dgemm_fn dgemm;
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static string_fn get_corename, get_config;
static char error[512];
static char detected_core[64];
static int thread_timeout = -1;
#define THREAD_TIMEOUT 18 /* OpenBLAS's idle threads spin 2^18 cycles before they sleep */
#define TEXT(x) #x
#define DECIMAL(x) TEXT(x)

static const char *const library_names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib",
                                            "libopenblas.0.dylib"};

int nabla_blas_cpu_level(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx || !fma) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0x6) != 0x6) return 0; /* the OS saves XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((b >> 5) & 1)) return 0; /* AVX2 */
    const unsigned avx512 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31); /* F DQ CD BW VL */
    if ((b & avx512) == avx512 && (xlo & 0xe6) == 0xe6) return 2; /* and opmask + ZMM state */
    return 1;
#else
    return 0;
#endif
}

const char *nabla_blas_better_core(const char *detected, int cpu_level) {
    static const char *const avx2_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids",
                                             "Excavator"};
    if (cpu_level < 1 || detected == NULL) return NULL;
    for (size_t i = 0; i < sizeof avx2_cores / sizeof *avx2_cores; i++)
        if (strncasecmp(detected, avx2_cores[i], strlen(avx2_cores[i])) == 0) return NULL;
    return cpu_level >= 2 ? "SkylakeX" : "Haswell";
}

/* dlopen's the first library name that loads, or NULL with `error` set. */
static void *open_library(void) {
    for (size_t i = 0; i < sizeof library_names / sizeof *library_names; i++) {
        void *h = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
    }
    const char *why = dlerror();
    snprintf(error, sizeof error,
             "cannot load OpenBLAS (tried libopenblas.so.0, libopenblas.so, libopenblas.dylib, libopenblas.0.dylib): "
             "%s; install Debian's libopenblas0 "
             "(`make deps` installs libopenblas-dev, which brings it)",
             why ? why : "not found");
    return NULL;
}

static int bind_symbols(void) {
    sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    dgemm = (dgemm_fn)dlsym(handle, "cblas_dgemm");
    set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
    get_corename = (string_fn)dlsym(handle, "openblas_get_corename");
    get_config = (string_fn)dlsym(handle, "openblas_get_config");
    if (sgemm && dgemm && set_threads && get_threads) return 1;
    snprintf(error, sizeof error, "the OpenBLAS library that loaded lacks cblas_sgemm, cblas_dgemm or "
                                  "openblas_set_num_threads");
    return 0;
}

/* Opens OpenBLAS and binds its symbols into `handle` and the function pointers; `handle` is NULL on failure. */
static void open_and_bind(void) {
    if (!(handle = open_library()) || !bind_symbols()) handle = NULL;
}

static void load_tuned(void) {
    open_and_bind();
    if (!handle) return;
    if (getenv("OPENBLAS_CORETYPE") || !get_corename) return;
    const char *core = nabla_blas_better_core(get_corename(), nabla_blas_cpu_level());
    if (!core) return;
    snprintf(detected_core, sizeof detected_core, "%s", get_corename());
    dlclose(handle);
    setenv("OPENBLAS_CORETYPE", core, 1);
    open_and_bind();
    unsetenv("OPENBLAS_CORETYPE");
}

static void load(void) {
    const char *tuning = getenv("NABLA_BLAS_TUNING");
    if (tuning && strcmp(tuning, "0") == 0) {
        open_and_bind();
        return;
    }
    if (!getenv("OPENBLAS_THREAD_TIMEOUT")) {
        thread_timeout = THREAD_TIMEOUT;
        setenv("OPENBLAS_THREAD_TIMEOUT", DECIMAL(THREAD_TIMEOUT), 1);
        load_tuned();
        unsetenv("OPENBLAS_THREAD_TIMEOUT");
    } else {
        load_tuned();
    }
}

int nabla_blas_load(void) {
    pthread_once(&once, load);
    return handle != NULL;
}

const char *nabla_blas_error(void) { return nabla_blas_load() ? NULL : error; }
const char *nabla_blas_core(void) { return nabla_blas_load() && get_corename ? get_corename() : ""; }
const char *nabla_blas_detected_core(void) { return nabla_blas_load() ? detected_core : ""; }
int nabla_blas_thread_timeout(void) { return nabla_blas_load() ? thread_timeout : -1; }
const char *nabla_blas_config(void) { return nabla_blas_load() && get_config ? get_config() : ""; }

void nabla_blas_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a,
          lda, b, ldb, beta, c, ldc);
}

void nabla_blas_dgemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                      int lda, const double *b, int ldb, double beta, double *c, int ldc) {
    dgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a,
          lda, b, ldb, beta, c, ldc);
}

void nabla_blas_set_threads(int n) { set_threads(n); }
int nabla_blas_get_threads(void) { return get_threads(); }
