/* Open MPI, loaded at run time (dlopen of libmpi.so.40) rather than linked, so that Nabla builds and runs
   single-process on a machine without Open MPI. See mpi_loader.c. */
#ifndef NABLA_MPI_H
#define NABLA_MPI_H

#include <stddef.h>
#include <stdint.h>

/* Element types and reductions, as Nabla names them (mapped to Open MPI's predefined handles by the loader). */
enum { NABLA_MPI_BYTE = 0, NABLA_MPI_INT32 = 1, NABLA_MPI_INT64 = 2, NABLA_MPI_FLOAT = 3, NABLA_MPI_DOUBLE = 4 };
enum { NABLA_MPI_SUM = 0, NABLA_MPI_MAX = 1, NABLA_MPI_MIN = 2 };

/* Loads libmpi once (thread-safe); returns 1 when it is usable, else 0 (then `nabla_mpi_error` says why). */
int nabla_mpi_load(void);
/* Why loading failed, or NULL. */
const char *nabla_mpi_error(void);
/* The library's version string (MPI_Get_library_version), or "" before a successful load. */
const char *nabla_mpi_library_version(void);

/* MPI_Init_thread(NULL, NULL, required, &provided); returns the MPI error code (0: success). */
int nabla_mpi_init_thread(int required, int *provided);
/* MPI_Finalize. */
int nabla_mpi_finalize(void);
/* MPI_Abort(MPI_COMM_WORLD, code). */
int nabla_mpi_abort(int code);
/* MPI_Comm_rank / MPI_Comm_size of MPI_COMM_WORLD. */
int nabla_mpi_rank(int *rank);
int nabla_mpi_size(int *size);

/* Collectives on MPI_COMM_WORLD; `dtype` and `op` are the NABLA_MPI_ enums. A NULL `send` means MPI_IN_PLACE. */
int nabla_mpi_allreduce(const void *send, void *recv, int64_t count, int dtype, int op);
int nabla_mpi_bcast(void *buffer, int64_t count, int dtype, int root);
int nabla_mpi_allgather(const void *send, int64_t count, void *recv, int dtype);
int nabla_mpi_reduce_scatter_block(const void *send, void *recv, int64_t recv_count, int dtype, int op);
int nabla_mpi_barrier(void);

/* Nabla's ring all-reduce of `count` elements of `buffer`, in place, on MPI_COMM_WORLD (ring_allreduce.c): every
   rank calls it with the same count, dtype, op and chunk size. `rank`/`size` are this process's and the world's;
   a `divisor` above 1 divides the result (float types; `op` sum then gives the mean). The reduce-scatter moves data
   in chunks of `chunk_bytes`. Returns 0, an MPI error code, or -1 for bad arguments or no memory. Not reentrant:
   one thread at a time (NablaDistributed's communication thread). */
int nabla_ring_allreduce(void *buffer, int64_t count, int dtype, int op, int64_t divisor, int rank, int size,
                         int64_t chunk_bytes);

/* MPI_THREAD_* levels (the same values in every MPI implementation). */
enum { NABLA_MPI_THREAD_SINGLE = 0, NABLA_MPI_THREAD_FUNNELED = 1, NABLA_MPI_THREAD_SERIALIZED = 2,
       NABLA_MPI_THREAD_MULTIPLE = 3 };

#endif
