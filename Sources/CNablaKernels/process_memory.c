/* The C allocator's totals (see include/nabla_process_memory.h). */
#include "nabla_process_memory.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void nabla_malloc_totals(int64_t *in_use, int64_t *free_in_arenas) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    *in_use = (int64_t)(m.uordblks + m.hblkhd);
    *free_in_arenas = (int64_t)m.fordblks;
#else
    *in_use = 0;
    *free_in_arenas = 0;
#endif
}
