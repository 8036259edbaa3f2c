/* Point-to-point calls of the MPI loader (mpi_loader.c) that the ring all-reduce (ring_allreduce.c) uses; private
   to CNablaMPI. Counts are MPI's `int`; `dtype` is a NABLA_MPI_ element type; requests are Open MPI's handles. */
#ifndef NABLA_MPI_P2P_H
#define NABLA_MPI_P2P_H

#include <stddef.h>

/* MPI_Isend / MPI_Irecv on MPI_COMM_WORLD. */
int nabla_mpi_isend(const void *buffer, int count, int dtype, int dest, int tag, void **request);
int nabla_mpi_irecv(void *buffer, int count, int dtype, int source, int tag, void **request);
/* MPI_Testall(count, requests, done, MPI_STATUSES_IGNORE); sets *done to 1 when all have completed (count 0: at once). */
int nabla_mpi_testall(int count, void **requests, int *done);
/* Bytes per element of a NABLA_MPI_ element type. */
size_t nabla_mpi_item_size(int dtype);

#endif
