#ifndef NABLA_PROCESS_MEMORY_H
#define NABLA_PROCESS_MEMORY_H
#include <stdint.h>

/* The C allocator's totals (glibc's mallinfo2; zeros elsewhere): bytes handed out and not freed, including blocks
   mmap'ed for large requests, and free bytes held inside its arenas. */
void nabla_malloc_totals(int64_t *in_use, int64_t *free_in_arenas);

#endif
