/* Open MPI, loaded with dlopen when a process group starts.

   Nabla never links libmpi: `import NablaDistributed` and the `nabla` tool build and run on a machine without
   Open MPI, and a process started without `mpirun` never loads it. Under `mpirun` the loader opens Open MPI's
   libmpi.so.40 with RTLD_GLOBAL (Open MPI's plugins, themselves dlopen'ed, resolve libmpi's symbols through the
   global namespace) and binds the functions below with dlsym.

   Open MPI's handles are not integers but addresses of global objects: MPI_COMM_WORLD is &ompi_mpi_comm_world,
   MPI_FLOAT is &ompi_mpi_float, MPI_SUM is &ompi_mpi_op_sum. dlsym of those names gives exactly the handle.
   MPI_IN_PLACE is ((void *) 1) in Open MPI. MPICH (libmpi.so.12) uses integer handles and is not supported. */
#include "nabla_mpi.h"
#include "mpi_p2p.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef void *Handle; /* MPI_Comm, MPI_Datatype, MPI_Op: pointers in Open MPI */
#define IN_PLACE ((void *)1)

typedef int (*init_thread_fn)(int *, char ***, int, int *);
typedef int (*void_fn)(void);
typedef int (*abort_fn)(Handle, int);
typedef int (*comm_int_fn)(Handle, int *);
typedef int (*allreduce_fn)(const void *, void *, int, Handle, Handle, Handle);
typedef int (*bcast_fn)(void *, int, Handle, int, Handle);
typedef int (*allgather_fn)(const void *, int, Handle, void *, int, Handle, Handle);
typedef int (*reduce_scatter_block_fn)(const void *, void *, int, Handle, Handle, Handle);
typedef int (*barrier_fn)(Handle);
typedef int (*version_fn)(char *, int *);
typedef int (*isend_fn)(const void *, int, Handle, int, int, Handle, Handle *);
typedef int (*irecv_fn)(void *, int, Handle, int, int, Handle, Handle *);
typedef int (*testall_fn)(int, Handle *, int *, void *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *library;
static char error[512];
static char version[512];
static init_thread_fn p_init_thread;
static void_fn p_finalize;
static abort_fn p_abort;
static comm_int_fn p_rank, p_size;
static allreduce_fn p_allreduce;
static bcast_fn p_bcast;
static allgather_fn p_allgather;
static reduce_scatter_block_fn p_reduce_scatter_block;
static barrier_fn p_barrier;
static version_fn p_version;
static isend_fn p_isend;
static irecv_fn p_irecv;
static testall_fn p_testall;
static Handle comm_world;
static Handle types[5]; /* indexed by NABLA_MPI_BYTE ... NABLA_MPI_DOUBLE */
static Handle ops[3];   /* NABLA_MPI_SUM, MAX, MIN */

static const char *const library_names[] = {"libmpi.so.40", "libmpi.so"};

static void *symbol(const char *name, int *missing) {
    void *p = dlsym(library, name);
    if (!p && !*missing) {
        *missing = 1;
        snprintf(error, sizeof error, "the MPI library that loaded lacks `%s` (Nabla supports Open MPI 4 or 5, "
                                      "libmpi.so.40)", name);
    }
    return p;
}

static void load(void) {
    for (size_t i = 0; i < sizeof library_names / sizeof *library_names && !library; i++)
        library = dlopen(library_names[i], RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        const char *why = dlerror();
        snprintf(error, sizeof error,
                 "cannot load Open MPI (tried libmpi.so.40, libmpi.so): %s; install Debian's openmpi-bin and "
                 "libopenmpi3 (`make deps` installs openmpi-bin libopenmpi-dev)", why ? why : "not found");
        return;
    }
    int missing = 0;
    p_init_thread = (init_thread_fn)symbol("MPI_Init_thread", &missing);
    p_finalize = (void_fn)symbol("MPI_Finalize", &missing);
    p_abort = (abort_fn)symbol("MPI_Abort", &missing);
    p_rank = (comm_int_fn)symbol("MPI_Comm_rank", &missing);
    p_size = (comm_int_fn)symbol("MPI_Comm_size", &missing);
    p_allreduce = (allreduce_fn)symbol("MPI_Allreduce", &missing);
    p_bcast = (bcast_fn)symbol("MPI_Bcast", &missing);
    p_allgather = (allgather_fn)symbol("MPI_Allgather", &missing);
    p_reduce_scatter_block = (reduce_scatter_block_fn)symbol("MPI_Reduce_scatter_block", &missing);
    p_barrier = (barrier_fn)symbol("MPI_Barrier", &missing);
    p_version = (version_fn)symbol("MPI_Get_library_version", &missing);
    p_isend = (isend_fn)symbol("MPI_Isend", &missing);
    p_irecv = (irecv_fn)symbol("MPI_Irecv", &missing);
    p_testall = (testall_fn)symbol("MPI_Testall", &missing);
    comm_world = symbol("ompi_mpi_comm_world", &missing);
    types[NABLA_MPI_BYTE] = symbol("ompi_mpi_unsigned_char", &missing);
    types[NABLA_MPI_INT32] = symbol("ompi_mpi_int32_t", &missing);
    types[NABLA_MPI_INT64] = symbol("ompi_mpi_int64_t", &missing);
    types[NABLA_MPI_FLOAT] = symbol("ompi_mpi_float", &missing);
    types[NABLA_MPI_DOUBLE] = symbol("ompi_mpi_double", &missing);
    ops[NABLA_MPI_SUM] = symbol("ompi_mpi_op_sum", &missing);
    ops[NABLA_MPI_MAX] = symbol("ompi_mpi_op_max", &missing);
    ops[NABLA_MPI_MIN] = symbol("ompi_mpi_op_min", &missing);
    if (missing) {
        dlclose(library);
        library = NULL;
        return;
    }
    int length = 0;
    if (p_version(version, &length) != 0) version[0] = 0;
    version[sizeof version - 1] = 0;
}

int nabla_mpi_load(void) {
    pthread_once(&once, load);
    return library != NULL;
}

const char *nabla_mpi_error(void) { return library ? NULL : error; }
const char *nabla_mpi_library_version(void) { return library ? version : ""; }

int nabla_mpi_init_thread(int required, int *provided) { return p_init_thread(NULL, NULL, required, provided); }
int nabla_mpi_finalize(void) { return p_finalize(); }
int nabla_mpi_abort(int code) { return p_abort(comm_world, code); }
int nabla_mpi_rank(int *rank) { return p_rank(comm_world, rank); }
int nabla_mpi_size(int *size) { return p_size(comm_world, size); }

/* MPI counts are `int`: larger buffers go in chunks of at most 2^30 elements. */
#define CHUNK ((int64_t)1 << 30)
size_t nabla_mpi_item_size(int dtype) { return dtype == NABLA_MPI_BYTE ? 1 : (dtype == NABLA_MPI_INT32 || dtype == NABLA_MPI_FLOAT) ? 4 : 8; }

int nabla_mpi_allreduce(const void *send, void *recv, int64_t count, int dtype, int op) {
    const size_t size = nabla_mpi_item_size(dtype);
    for (int64_t done = 0; done < count; done += CHUNK) {
        const int n = (int)(count - done < CHUNK ? count - done : CHUNK);
        const void *s = send ? (const char *)send + done * size : IN_PLACE;
        const int rc = p_allreduce(s, (char *)recv + done * size, n, types[dtype], ops[op], comm_world);
        if (rc) return rc;
    }
    return 0;
}

int nabla_mpi_bcast(void *buffer, int64_t count, int dtype, int root) {
    const size_t size = nabla_mpi_item_size(dtype);
    for (int64_t done = 0; done < count; done += CHUNK) {
        const int n = (int)(count - done < CHUNK ? count - done : CHUNK);
        const int rc = p_bcast((char *)buffer + done * size, n, types[dtype], root, comm_world);
        if (rc) return rc;
    }
    return 0;
}

int nabla_mpi_allgather(const void *send, int64_t count, void *recv, int dtype) {
    if (count > CHUNK) return -1; /* the caller splits larger gathers */
    return p_allgather(send ? send : IN_PLACE, (int)count, types[dtype], recv, (int)count, types[dtype], comm_world);
}

int nabla_mpi_reduce_scatter_block(const void *send, void *recv, int64_t recv_count, int dtype, int op) {
    if (recv_count > CHUNK) return -1;
    return p_reduce_scatter_block(send ? send : IN_PLACE, recv, (int)recv_count, types[dtype], ops[op], comm_world);
}

int nabla_mpi_barrier(void) { return p_barrier(comm_world); }

/* Point-to-point on MPI_COMM_WORLD for the ring all-reduce (mpi_p2p.h); MPI_STATUSES_IGNORE is NULL in Open MPI. */
int nabla_mpi_isend(const void *buffer, int count, int dtype, int dest, int tag, void **request) {
    return p_isend(buffer, count, types[dtype], dest, tag, comm_world, request);
}
int nabla_mpi_irecv(void *buffer, int count, int dtype, int source, int tag, void **request) {
    return p_irecv(buffer, count, types[dtype], source, tag, comm_world, request);
}
int nabla_mpi_testall(int count, void **requests, int *done) {
    if (count <= 0) {
        *done = 1;
        return 0;
    }
    return p_testall(count, requests, done, NULL);
}
